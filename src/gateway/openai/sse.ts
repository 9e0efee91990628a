/**
 * Server-sent events over a raw Node response: `data: <json>\n\n`, then `data: [DONE]`. Writes honour backpressure:
 * when the socket's buffer is full (the client does not read), the followed source is paused until 'drain', so the
 * gateway holds about one buffer per stream instead of the whole output.
 */
import type { ServerResponse } from 'node:http';

export interface Flow {
  pause(): void;
  resume(): void;
}

export class SseWriter {
  private started = false;
  private flow: Flow | undefined;
  private paused = false;

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

  /** The source of the events (the fan-out of worker streams), paused while the client is not reading. */
  follow(flow: Flow): void {
    this.flow = flow;
  }

  /** Bytes written but not yet taken by the client's socket. */
  get buffered(): number {
    return this.res.writableLength;
  }

  send(payload: unknown): void {
    this.start();
    const ok = this.res.write(`data: ${JSON.stringify(payload)}\n\n`);
    if (!ok && this.flow && !this.paused) {
      this.paused = true;
      this.flow.pause();
      this.res.once('drain', () => {
        this.paused = false;
        this.flow?.resume();
      });
    }
  }

  done(): void {
    this.start();
    this.res.end('data: [DONE]\n\n');
  }
}
