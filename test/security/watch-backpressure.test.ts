/**
 * WatchWorkers honours backpressure (issue 18): a watcher that opens the stream and never reads must not make the
 * controller queue every registry event. Old main wrote each event regardless of `write()`'s answer, so 3,000 updates
 * of 32 KiB queued ~96 MiB in the controller; now events are coalesced per worker while the watcher's buffer is full
 * (at most one pending event per registered worker), and a reading watcher still sees the final state. The controller's
 * own gauges say what it holds back (RSS is only logged: garbage from 3,000 decoded 32 KiB requests makes it noisy).
 */
import { connect, constants } from 'node:http2';
import { Metadata } from '@grpc/grpc-js';
import { ControllerClient, WorkerInfo } from '../../src/common/gen/controller';
import { ModelKind } from '../../src/common/gen/worker';
import { createClient, unary } from '../../src/common/grpc/client';
import { silentLogger } from '../../src/common/log';
import type { ChildProcess } from 'node:child_process';
import { ControllerView } from '../../src/gateway/upstream/controller-view';
import { spawnCli, waitForOutput } from '../support/cli';
import { processRss } from '../support/process-rss';
import { waitFor } from '../support/stack';

jest.setTimeout(120_000);

let child: ChildProcess;
let address: string;
let metricsUrl: string;

beforeAll(async () => {
  child = spawnCli(['controller', '--listen', '127.0.0.1:0', '--metrics-listen', '127.0.0.1:0'], { FLEETCHAT_LOG_LEVEL: 'info' });
  const listening = await waitForOutput(child, /"address":"(127\.0\.0\.1:\d+)","metrics":"(http:[^"]+)"[^\n]*controller listening/);
  address = listening[1];
  metricsUrl = listening[2];
});

afterAll(() => {
  child?.kill('SIGKILL');
});

/** The controller's resident memory (a child process, so the test's own allocations do not count). */
const memory = (): number => processRss(child.pid as number);

/** One gauge from the controller's /metrics. */
async function gauge(name: string): Promise<number> {
  const text = await (await fetch(`${metricsUrl.replace(/\/$/, '')}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  if (!m) throw new Error(`no ${name} in /metrics`);
  return Number(m[1]);
}

it('a watcher that never reads holds at most one pending event per worker; a reading watcher sees the final state', async () => {
  // A raw HTTP/2 WatchWorkers call whose response is never read: flow control fills its window.
  const session = connect(`http://${address}`);
  const stalled = session.request({
    [constants.HTTP2_HEADER_METHOD]: 'POST',
    [constants.HTTP2_HEADER_PATH]: '/fleetchat.v1.Controller/WatchWorkers',
    'content-type': 'application/grpc',
    te: 'trailers',
  });
  stalled.end(Buffer.from([0, 0, 0, 0, 0])); // one empty WatchWorkersRequest message, then half-close (the call starts on it)
  stalled.pause();
  stalled.on('error', () => undefined);
  session.on('error', () => undefined);
  const view = new ControllerView(address, silentLogger());
  await view.ready(3000);
  const client = createClient(ControllerClient, address);
  const labels = { pad: 'x'.repeat(32 * 1024) };
  const workers = 20;
  const rounds = 150;
  const before = memory();
  let peak = before;
  for (let round = 0; round < rounds; round++) {
    await Promise.all(Array.from({ length: workers }, (_, w) =>
      unary(client.registerWorker.bind(client), {
        worker: WorkerInfo.fromPartial({ workerId: `w${w}`, address: `127.0.0.1:${20000 + w}`, modelNames: ['m'], kind: ModelKind.MODEL_KIND_GENERATION, contextLength: 2048, labels: { ...labels, round: String(round) }, status: { maxConcurrency: 1 } }),
      }, new Metadata(), 5000)));
    if (round % 10 === 0) peak = Math.max(peak, memory());
  }
  peak = Math.max(peak, memory());
  const grownMiB = (peak - before) / 1048576;
  const pendingEvents = await gauge('fleetchat_controller_watch_pending_events');
  const bufferedMessages = await gauge('fleetchat_controller_watch_buffered_messages');
  console.log(`WatchWorkers: ${workers * rounds} updates of 32 KiB toward a watcher that never reads; held back: ${pendingEvents} coalesced events, ${bufferedMessages} buffered messages; the controller's RSS grew ${grownMiB.toFixed(1)} MiB`);
  expect(await gauge('fleetchat_controller_watch_streams')).toBe(2);
  // The stalled watcher's buffer filled (so coalescing was exercised); each stream holds at most one event per worker ...
  expect(pendingEvents).toBeGreaterThan(0);
  expect(pendingEvents).toBeLessThanOrEqual(2 * workers);
  // ... and no stream queues more than its writable high-water mark (16 objects) past the transport.
  expect(bufferedMessages).toBeLessThanOrEqual(2 * 16);
  await waitFor(() => view.models().length === 1 && [...Array(workers).keys()].every((w) => view.worker(`w${w}`)?.labels.round === String(rounds - 1)), 10_000);
  view.close();
  client.close();
  stalled.close();
  session.destroy();
});
