/**
 * The judge's chat client sends no tools, and an endpoint that answers with tool calls instead of text (a model
 * served with forced tools behind some proxy, say) is a clear error naming it, never an empty answer to judge.
 * The endpoint is a small HTTP server here: fleetchat's gateway never calls tools unless the request offers them.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createChatClient } from '../../src/jobs/openai-client/chat-client';

describe('judge chat client and tool calls', () => {
  let server: Server;
  let baseUrl: string;
  const bodies: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
          id: 'chatcmpl-1', object: 'chat.completion', created: 0, model: 'm',
          choices: [{ index: 0, finish_reason: 'tool_calls', message: { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }] } }],
          usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
        }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  afterAll(async () => new Promise<void>((resolve) => server.close(() => resolve())));

  it('refuses an answer made of tool calls with a message naming the endpoint and model; the request had no tools', async () => {
    const client = createChatClient({ baseUrl, apiKey: '', timeoutMs: 5000, maxRetries: 0, maxConcurrency: 1 });
    await expect(client.complete({ model: 'm', messages: [{ role: 'user', content: 'Judge this' }], temperature: 0, maxTokens: 8 }))
      .rejects.toThrow(`${baseUrl} answered model 'm' with 1 tool call(s) and no text; answers and judgments need text (no tools are sent)`);
    expect(bodies).toHaveLength(1);
    for (const key of ['tools', 'tool_choice', 'parallel_tool_calls', 'functions']) expect(bodies[0][key]).toBeUndefined();
  });
});
