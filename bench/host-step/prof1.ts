import { loadTokenizer } from '../../src/chat/tokenizer';
import { Sequence } from '../../src/worker/engine/sequence';
import { resolveSamplingParams } from '../../src/worker/sampling/params';
import { argmax, softmaxInto } from '../../src/worker/sampling/sampler';
import { rawLogprobs } from '../../src/worker/sampling/logprobs';
import { IncrementalDetokenizer } from '../../src/worker/engine/detokenize';

async function main() {
  const tok = await loadTokenizer('/work/main/.cache/test-models/tiny-v3');
  const V = 50259;
  // peaked rows
  const rows: Float32Array[] = [];
  let s = 1;
  const rnd = () => { s = (s * 1103515245 + 12345) & 0x7fffffff; return s / 0x7fffffff; };
  for (let r = 0; r < 64; r++) {
    const row = new Float32Array(V);
    for (let i = 0; i < V; i++) { const u = rnd() + 1e-9, v = rnd(); row[i] = 2.5 * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v); }
    for (let k = 0; k < 5; k++) row[Math.floor(rnd() * 1000) + 200] += 12 + k;
    rows.push(row);
  }
  const src = { decode: tok.decode.bind(tok), tokenInfo: (id: number) => ({ text: tok.decode([id]), bytes: new Uint8Array() }) };
  const time = (name: string, f: (row: Float32Array) => void, n = 2000) => {
    for (let i = 0; i < 200; i++) f(rows[i % 64]);
    const t = performance.now();
    for (let i = 0; i < n; i++) f(rows[i % 64]);
    console.log(name.padEnd(40), ((performance.now() - t) / n * 1000).toFixed(1), 'µs');
  };
  time('argmax', (r) => argmax(r));
  const probs = new Float32Array(V);
  time('softmaxInto', (r) => softmaxInto(r, 0.8, probs));
  time('rawLogprobs(5)', (r) => rawLogprobs(r, 5));
  const det = new IncrementalDetokenizer(src, [1, 2, 3], true);
  let t = 0;
  time('detok.push', () => { det.push(200 + (t++ % 1000)); });
  const mk = (layer: object) => new Sequence({ id: 1, promptIds: [10, 20, 30, 40, 50], params: resolveSamplingParams([{ ignoreEos: true, maxTokens: 1e6, ...layer }], V), maxNewTokens: 1e6, eosTokenIds: [50256], vocab: V, tokenizer: src, onChunk: () => {} });
  for (const [name, layer] of [
    ['greedy', { temperature: 0 }], ['temp 0.8', { temperature: 0.8 }], ['temp0.8 top_p 0.9', { temperature: 0.8, topP: 0.9 }],
    ['top_k 50', { temperature: 0.8, topK: 50 }], ['greedy+logprobs 5', { temperature: 0, topLogprobs: 5 }],
    ['greedy+rep/freq', { temperature: 0, repetitionPenalty: 1.1, frequencyPenalty: 0.5 }], ['greedy+stop', { temperature: 0, stop: ['\n\n', 'User:'] }],
  ] as const) {
    const seq = mk(layer);
    time('seq ' + name, (r) => seq.acceptLogits(r), 1500);
  }
}
main();
