/**
 * A tiny OpenAI-compatible HTTP server for the cases a real engine cannot be made to produce on demand: rate limits
 * (429 with Retry-After) and server errors. Everything else is tested against llama.cpp's real server.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface FakeUpstream {
  url: string;
  /** What /v1/chat/completions answers next: a stream of words, or an HTTP error. */
  mode:
    /**
     * `endAfterMs`: the response's chunked terminator comes that long after `data: [DONE]` (llama-cpp-python's
     * server ends its response only after cleaning up), not in the same write.
     */
    | { kind: 'stream'; words: string[]; endAfterMs?: number }
    | { kind: 'error'; status: number; retryAfter?: string; message: string }
    /**
     * An engine that hangs mid-answer: its headers, the words, then nothing more (the connection stays open); with no
     * words, an engine that took the request and has not produced its first token yet.
     */
    | { kind: 'stall'; words: string[] }
    /** A broken engine: the words, then `garbage` (an event that is not JSON), or the connection cut without a finish. */
    | { kind: 'broken'; words: string[]; then: 'garbage' | 'cut' }
    /** Tool calls as OpenAI streams them: id and name first, then the arguments in pieces of `pieceChars`. */
    | { kind: 'tools'; calls: Array<{ name: string; arguments: string }>; pieceChars: number };
  /** Bodies received on /v1/chat/completions and /v1/completions. */
  bodies: Array<Record<string, unknown>>;
  /** Connections that carried generation requests (the adapter keeps one alive between requests). */
  generationSockets: Set<Socket>;
  /**
   * Closes the connection of the next generation request that arrives on a connection already used (what a server
   * does to an idle kept-alive connection just as the client reuses it), without answering; `dropped` counts them.
   */
  dropNextReused: boolean;
  dropped: number;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => resolve(data));
  });
}

export async function startFakeUpstream(model = 'fake-model'): Promise<FakeUpstream> {
  const state: FakeUpstream = { url: '', mode: { kind: 'stream', words: ['Hello', ' world'] }, bodies: [], generationSockets: new Set(), dropNextReused: false, dropped: 0, close: async () => undefined };
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method === 'GET' && req.url === '/v1/models') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: [{ id: model, object: 'model', owned_by: 'fake' }] }));
      return;
    }
    if (req.method === 'POST' && (req.url === '/v1/chat/completions' || req.url === '/v1/completions')) {
      if (state.dropNextReused && state.generationSockets.has(req.socket)) {
        state.dropNextReused = false;
        state.dropped += 1;
        req.socket.destroy();
        return;
      }
      state.generationSockets.add(req.socket);
      state.bodies.push(JSON.parse(await readBody(req)) as Record<string, unknown>);
      const mode = state.mode;
      if (mode.kind === 'error') {
        res.writeHead(mode.status, { 'content-type': 'application/json', ...(mode.retryAfter ? { 'retry-after': mode.retryAfter } : {}) });
        res.end(JSON.stringify({ error: { message: mode.message, type: 'error', code: mode.status } }));
        return;
      }
      // The headers leave at once, as an engine sends them when it takes the request (before its first token).
      res.writeHead(200, { 'content-type': 'text/event-stream' }).flushHeaders();
      if (mode.kind === 'tools') {
        const send = (delta: object, finish: string | null): boolean => res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`);
        mode.calls.forEach((c, index) => {
          send({ tool_calls: [{ index, id: `call_up${index}`, type: 'function', function: { name: c.name, arguments: '' } }] }, null);
          for (let i = 0; i < c.arguments.length; i += mode.pieceChars) send({ tool_calls: [{ index, function: { arguments: c.arguments.slice(i, i + mode.pieceChars) } }] }, null);
        });
        send({}, 'tool_calls');
        res.end('data: [DONE]\n\n');
        return;
      }
      for (const w of mode.words) res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: w }, finish_reason: null }] })}\n\n`);
      if (mode.kind === 'stall') return;
      if (mode.kind === 'broken') {
        if (mode.then === 'garbage') res.end('data: {"choices": [{"delta": {"content": "x"}\n\ndata: [DONE]\n\n');
        else setTimeout(() => res.socket?.destroy(), 20);
        return;
      }
      res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`);
      res.write(`data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 5, completion_tokens: mode.words.length } })}\n\n`);
      if (mode.endAfterMs === undefined) {
        res.end('data: [DONE]\n\n');
        return;
      }
      res.write('data: [DONE]\n\n');
      setTimeout(() => res.end(), mode.endAfterMs);
      return;
    }
    res.writeHead(404).end();
  };
  const server: Server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return state;
}
