/**
 * Where the added milliseconds go, hop by hop (`BENCH_HOPS=1 npm run bench:adapter`): the gateway and the adapter
 * worker run at debug level and log, per request, when it passed each boundary (`hopClockMs` in src/common/log.ts:
 * the monotonic clock, one for every process of a machine); the bench's client adds when it sent the request and when
 * the first token arrived. Each segment's p50 / p90 over the requests; the upstream's own time as the adapter saw it
 * is printed next to the direct path's (request → headers → first token).
 */
import type { ChildProcess } from 'node:child_process';
import { percentile, round } from '../support/stats';

type Hops = Record<string, number>;

/** The hop lines of the gateway and worker processes, by request id. */
export class HopLog {
  readonly byRequest = new Map<string, Hops>();

  attach(child: ChildProcess): void {
    let buffer = '';
    const onData = (data: Buffer): void => {
      buffer += data.toString();
      let i: number;
      while ((i = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 1);
        if (!line.includes('"hops"')) continue;
        try {
          const entry = JSON.parse(line) as { requestId?: string; hops?: Hops };
          if (!entry.requestId || !entry.hops) continue;
          this.byRequest.set(entry.requestId, { ...this.byRequest.get(entry.requestId), ...entry.hops });
        } catch {
          // not a JSON log line
        }
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
  }
}

/** One request as the client saw it: wall-clock ms when sent and when the first token was read. */
export interface ClientTimes {
  id: string;
  sentAt: number;
  firstAt: number;
}

/** Segments in path order: [label, from, to] over the merged client + process timestamps. */
const GATEWAY_PATH: Array<[string, string, string]> = [
  ['client -> gateway handler (HTTP, parse, validate)', 'client', 'handler'],
  ['  of which: HTTP hop in, to the onRequest hook', 'client', 'arrived'],
  ['  of which: body, JSON parse, validation', 'arrived', 'handler'],
  ['gateway handler -> worker call opened', 'handler', 'workerCalled'],
  ['gateway -> adapter Generate (gRPC hop)', 'workerCalled', 'received'],
  ['adapter: request mapped, upstream call started', 'received', 'upstreamCalled'],
  ['upstream answered headers', 'upstreamCalled', 'upstreamAnswered'],
  ['upstream first token parsed (engine time)', 'upstreamAnswered', 'upstreamFirstChunk'],
  ['adapter relays the first chunk (gRPC write)', 'upstreamFirstChunk', 'relayed'],
  ['adapter -> gateway (gRPC hop back)', 'relayed', 'workerFirstChunk'],
  ['gateway: chunk -> SSE written', 'workerFirstChunk', 'sent'],
  ['gateway -> client (HTTP hop back, parse)', 'sent', 'clientFirst'],
];
const GRPC_PATH: Array<[string, string, string]> = [
  ['client -> adapter Generate (gRPC hop)', 'client', 'received'],
  ['adapter: request mapped, upstream call started', 'received', 'upstreamCalled'],
  ['upstream answered headers', 'upstreamCalled', 'upstreamAnswered'],
  ['upstream first token parsed (engine time)', 'upstreamAnswered', 'upstreamFirstChunk'],
  ['adapter relays the first chunk (gRPC write)', 'upstreamFirstChunk', 'relayed'],
  ['adapter -> client (gRPC hop back, decode)', 'relayed', 'clientFirst'],
];

/**
 * p50 / p90 of each segment (ms) over the requests that logged both of its timestamps (a tree without the `arrived`
 * stamp, e.g. an older baseline, has no rows for the two segments that split the first one).
 */
export function hopTable(log: HopLog, client: ClientTimes[], grpc: boolean): Array<Record<string, string | number>> {
  const segments = grpc ? GRPC_PATH : GATEWAY_PATH;
  const times = client.map((c): Hops => ({ ...log.byRequest.get(c.id), client: c.sentAt, clientFirst: c.firstAt }));
  return segments.map(([label, from, to]) => {
    const xs = times.filter((t) => t[from] !== undefined && t[to] !== undefined).map((t) => t[to] - t[from]);
    return { segment: label, p50_ms: round(percentile(xs, 50), 3), p90_ms: round(percentile(xs, 90), 3), requests: xs.length };
  });
}
