// node-llama-cpp (llama.cpp's CPU build) behind a line protocol, so CommonJS code and jest can use it from a child
// process: one JSON request per stdin line, one JSON answer per stdout line ({ok: true, ...} or {ok: false, error}).
// Requests: load {modelPath, threads, contextSize, sequences, vocabOnly, kvCacheType}; tokenize {text, special};
// detokenize {ids, special}; greedy {prompt, steps}; stepProbabilities {prompt, steps, top}; bench {prompts, steps}.
import { createInterface } from 'node:readline';
import { getLlama } from 'node-llama-cpp';

let llama;
let model;
let context;

async function load(req) {
  llama ??= await getLlama({ gpu: false, build: 'never', logLevel: 'error', progressLogs: false });
  model = await llama.loadModel({ modelPath: req.modelPath, vocabOnly: req.vocabOnly === true, gpuLayers: 0 });
  if (req.vocabOnly === true) return { vocabSize: model.tokens.length ?? null };
  context = await model.createContext({
    contextSize: req.contextSize ?? 2048,
    sequences: req.sequences ?? 1,
    threads: req.threads,
    batchSize: req.batchSize ?? 512,
    flashAttention: false,
    // llama.cpp keeps its KV cache in F16 by default; exactness checks ask for F32.
    ...(req.kvCacheType ? { experimentalKvCacheKeyType: req.kvCacheType, experimentalKvCacheValueType: req.kvCacheType } : {}),
  });
  return { threads: context.currentThreads ?? req.threads, sequences: req.sequences ?? 1 };
}

function argmax(probabilities) {
  let best = -1;
  let bestP = -1;
  for (const [token, p] of probabilities) if (p > bestP) { best = token; bestP = p; }
  return best;
}

/** Greedy tokens: llama.cpp samples with temperature 0 (argmax). */
async function greedy(req) {
  const seq = context.getSequence();
  try {
    const tokens = [];
    for await (const t of seq.evaluate(req.prompt, { temperature: 0 })) {
      tokens.push(t);
      if (tokens.length >= req.steps) break;
    }
    return { tokens };
  } finally {
    seq.dispose();
  }
}

/** Greedy decoding step by step with the top next-token probabilities (softmax at temperature 1) of each step. */
async function stepProbabilities(req) {
  const seq = context.getSequence();
  const top = req.top ?? 5;
  const opts = { generateNext: { probabilities: true, options: { temperature: 1, topK: 0, topP: 1, minP: 0 } } };
  try {
    const steps = [];
    let input = [...req.prompt.slice(0, -1).map((t) => t), [req.prompt[req.prompt.length - 1], opts]];
    for (let i = 0; i < req.steps; i++) {
      const out = await seq.controlledEvaluate(input);
      const probs = out[out.length - 1].next.probabilities;
      const sorted = [...probs.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
      const token = argmax(probs);
      steps.push({ token, top: sorted });
      input = [[token, opts]];
    }
    return { steps };
  } finally {
    seq.dispose();
  }
}

/**
 * Greedy generation of `steps` tokens per prompt (end-of-generation tokens do not stop it), all prompts at once on
 * their own context sequences (node-llama-cpp batches them into shared llama_decode calls): per prompt the time to
 * the first token and to the last, and the wall time of the whole batch.
 */
async function bench(req) {
  const seqs = req.prompts.map(() => context.getSequence());
  try {
    const started = performance.now();
    const runs = req.prompts.map(async (prompt, i) => {
      const t0 = performance.now();
      let first = 0;
      let count = 0;
      for await (const _t of seqs[i].evaluate(prompt, { temperature: 0, yieldEogToken: true })) {
        count++;
        if (count === 1) first = performance.now();
        if (count >= req.steps) break;
      }
      return { firstMs: first - t0, totalMs: performance.now() - t0, tokens: count, promptTokens: prompt.length };
    });
    const results = await Promise.all(runs);
    return { results, wallMs: performance.now() - started };
  } finally {
    for (const s of seqs) s.dispose();
  }
}

const handlers = {
  load,
  tokenize: async (req) => ({ ids: [...model.tokenize(req.text, req.special === true)] }),
  detokenize: async (req) => ({ text: model.detokenize(req.ids, req.special === true) }),
  greedy,
  stepProbabilities,
  bench,
};

const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
  if (line.trim() === '') continue;
  let answer;
  try {
    const req = JSON.parse(line);
    const handler = handlers[req.cmd];
    if (!handler) throw new Error(`unknown command ${req.cmd}`);
    answer = { ok: true, ...(await handler(req)) };
  } catch (err) {
    answer = { ok: false, error: String(err?.stack ?? err) };
  }
  process.stdout.write(`${JSON.stringify(answer)}\n`);
}
await context?.dispose();
await model?.dispose();
