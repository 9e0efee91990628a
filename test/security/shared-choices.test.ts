/**
 * One tokenization and one prefill for the n choices of a request (issue 18): the gateway sends one worker call
 * carrying n, the worker renders and tokenizes the prompt once, prefills it once and gives the other choices a copy
 * of its KV cache and first-token logits. Measured with the worker's fleetchat_worker_prefill_tokens_total (old
 * main prefilled the prompt n times, in n calls). Greedy choices are identical; seeded sampled choices differ from
 * each other and repeat across runs.
 */
import { startStack, type Stack } from '../support/stack';
import { tinyModel } from '../support/models';
import { workerMetric } from '../support/worker-metrics';

jest.setTimeout(120_000);

let stack: Stack;
const PREFILLED = 'fleetchat_worker_prefill_tokens_total';

beforeAll(async () => {
  stack = await startStack({ workers: [{ model: await tinyModel(), names: ['tiny'], args: ['--prefix-cache-mib', '0', '--max-concurrency', '8'] }] });
});

afterAll(() => stack?.stop());

interface Completion {
  choices: Array<{ index: number; text: string; finish_reason: string }>;
  usage: { prompt_tokens: number; completion_tokens: number };
}

async function complete(body: Record<string, unknown>): Promise<Completion> {
  const res = await fetch(`${stack.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'tiny', ...body }) });
  expect(res.status).toBe(200);
  return (await res.json()) as Completion;
}

const prompt = 'The quick brown fox jumps over the lazy dog while the cat watches from the warm windowsill. '.repeat(8);

it('n = 4 costs one prefill; greedy choices are identical', async () => {
  const metrics = stack.workers[0].ops.url;
  const before = await workerMetric(metrics, PREFILLED);
  const res = await complete({ prompt, n: 4, max_tokens: 12, temperature: 0, ignore_eos: true });
  const prefilled = (await workerMetric(metrics, PREFILLED)) - before;
  console.log(`n = 4, ${res.usage.prompt_tokens}-token prompt: ${prefilled} prompt tokens prefilled (${(prefilled / res.usage.prompt_tokens).toFixed(2)}× the prompt)`);
  expect(res.choices.map((c) => c.index).sort()).toEqual([0, 1, 2, 3]);
  expect(prefilled).toBe(res.usage.prompt_tokens);
  expect(new Set(res.choices.map((c) => c.text)).size).toBe(1);
  expect(res.usage.completion_tokens).toBe(4 * 12);
  const single = await complete({ prompt, max_tokens: 12, temperature: 0, ignore_eos: true });
  expect(single.choices[0].text).toBe(res.choices[0].text);
});

it('seeded sampled choices differ from each other and repeat across runs; streaming carries every index', async () => {
  const body = { prompt: 'Once upon a time', n: 4, max_tokens: 16, temperature: 1, seed: 7, ignore_eos: true };
  const a = await complete(body);
  const b = await complete(body);
  const texts = (c: Completion): string[] => [...c.choices].sort((x, y) => x.index - y.index).map((x) => x.text);
  expect(texts(a)).toEqual(texts(b));
  expect(new Set(texts(a)).size).toBeGreaterThan(1);
  const res = await fetch(`${stack.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'tiny', messages: [{ role: 'user', content: 'hi' }], n: 3, max_tokens: 5, stream: true }),
  });
  const text = await res.text();
  const finished = new Set([...text.matchAll(/"index":(\d+),"delta":\{[^}]*\},"logprobs":null,"finish_reason":"(stop|length)"/g)].map((m) => Number(m[1])));
  expect([...finished].sort()).toEqual([0, 1, 2]);
  expect(text).toContain('data: [DONE]');
});
