/**
 * A small OpenAI-compatible chat-completions server on 127.0.0.1 for the judge tests.
 * - As a judge (request model = `judgeModel`): finds the `<<model:question:turn>>` markers of the
 *   fixture answers in the prompt and answers the fixture's text for that game
 *   (single: 'model|question|turn'; pair: 'question|turn|A|B'); an unknown game answers 400.
 * - As any other model: answers `answer(<model>, t=<temperature>, messages=<n>): <last user message>`.
 * - `failures`: the first requests get these statuses (e.g. 429 with retry-after-ms) before normal answers.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface JudgeTexts {
  single: Record<string, string>;
  pair: Record<string, string>;
}

export interface RecordedRequest {
  model: string;
  messages: Array<{ role: string; content: string }>;
  temperature: number;
  max_tokens: number;
  n: number;
  authorization: string | undefined;
}

export interface FakeFailure {
  status: number;
  headers?: Record<string, string>;
}

export interface FakeServerOptions {
  judgeTexts?: JudgeTexts;
  judgeModel?: string;
  delayMs?: number;
  failures?: FakeFailure[];
  /** Called after each successful answer with the running count. */
  onAnswered?: (count: number) => void;
}

export interface FakeServer {
  baseUrl: string;
  requests: RecordedRequest[];
  answered(): number;
  close(): Promise<void>;
}

const MARKER = /<<([^:>]+):(\d+):(\d+)>>/g;

/** The game the judge prompt shows: models in order of appearance, the question and the highest turn. */
export function gameKey(prompt: string): { single: string; pair: string } {
  const found = [...prompt.matchAll(MARKER)].map((m) => ({ model: m[1], q: m[2], turn: Number(m[3]) }));
  const models = [...new Set(found.map((f) => f.model))];
  const turn = Math.max(...found.map((f) => f.turn));
  const q = found[0]?.q ?? '?';
  return { single: `${models[0]}|${q}|${turn}`, pair: `${q}|${turn}|${models[0]}|${models[1]}` };
}

function judgeText(texts: JudgeTexts, body: RecordedRequest): string | undefined {
  const prompt = body.messages[body.messages.length - 1]?.content ?? '';
  const key = gameKey(prompt);
  const isPair = prompt.includes('Assistant B');
  return isPair ? texts.pair[key.pair] : texts.single[key.single];
}

function reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

function completion(model: string, content: string): unknown {
  return {
    id: 'chatcmpl-fake', object: 'chat.completion', created: 0, model,
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startFakeOpenAI(options: FakeServerOptions = {}): Promise<FakeServer> {
  const requests: RecordedRequest[] = [];
  const failures = [...(options.failures ?? [])];
  let answered = 0;
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) return reply(res, 404, { error: { message: 'not found' } });
    const parsed = JSON.parse(await readBody(req));
    const body: RecordedRequest = { ...parsed, authorization: req.headers.authorization };
    requests.push(body);
    const failure = failures.shift();
    if (failure) return reply(res, failure.status, { error: { message: `injected ${failure.status}`, type: 'server_error' } }, failure.headers);
    if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
    let content: string | undefined;
    if (body.model === (options.judgeModel ?? 'judge-model') && options.judgeTexts) content = judgeText(options.judgeTexts, body);
    else {
      const lastUser = [...body.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
      content = `answer(${body.model}, t=${body.temperature}, messages=${body.messages.length}): ${lastUser}`;
    }
    if (content === undefined) return reply(res, 400, { error: { message: 'no fixture text for this game', type: 'invalid_request_error' } });
    if (res.destroyed) return;
    reply(res, 200, completion(body.model, content));
    answered += 1;
    options.onAnswered?.(answered);
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => reply(res, 500, { error: { message: String(err) } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    answered: () => answered,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
