/** Server-sent events over a raw Node response: `data: <json>\n\n`, then `data: [DONE]`. */
import type { ServerResponse } from 'node:http';

export class SseWriter {
  private started = false;

  constructor(private readonly res: ServerResponse) {}

  start(headers: Record<string, string> = {}): void {
    if (this.started) return;
    this.started = true;
    this.res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      ...headers,
    });
    this.res.flushHeaders();
  }

  get isStarted(): boolean {
    return this.started;
  }

  send(payload: unknown): void {
    this.start();
    this.res.write(`data: ${JSON.stringify(payload)}\n\n`);
  }

  done(): void {
    this.start();
    this.res.end('data: [DONE]\n\n');
  }
}
