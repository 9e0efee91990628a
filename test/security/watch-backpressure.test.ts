/**
 * WatchWorkers honours backpressure (issue 18): a watcher that opens the stream and never reads must not make the
 * controller queue every registry event. Old main wrote each event regardless of `write()`'s answer, so 3,000 updates
 * of 32 KiB queued ~96 MiB in the controller; now events are coalesced per worker while the watcher's buffer is full
 * (at most one pending event per registered worker), and a reading watcher still sees the final state.
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

beforeAll(async () => {
  child = spawnCli(['controller', '--listen', '127.0.0.1:0', '--metrics-listen', '127.0.0.1:0'], { FLEETCHAT_LOG_LEVEL: 'info' });
  address = (await waitForOutput(child, /"address":"(127\.0\.0\.1:\d+)"[^\n]*controller listening/))[1];
});

afterAll(() => {
  child?.kill('SIGKILL');
});

/** The controller's resident memory (a child process, so the test's own allocations do not count). */
const memory = (): number => processRss(child.pid as number);

it('a watcher that never reads holds at most one pending event per worker; a reading watcher sees the final state', async () => {
  // A raw HTTP/2 WatchWorkers call whose response is never read: flow control fills its window.
  const session = connect(`http://${address}`);
  const stalled = session.request({
    [constants.HTTP2_HEADER_METHOD]: 'POST',
    [constants.HTTP2_HEADER_PATH]: '/fleetchat.v1.Controller/WatchWorkers',
    'content-type': 'application/grpc',
    te: 'trailers',
  });
  stalled.write(Buffer.from([0, 0, 0, 0, 0])); // one empty WatchWorkersRequest message
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
  console.log(`WatchWorkers: ${workers * rounds} updates of 32 KiB toward a watcher that never reads; the controller's RSS grew ${grownMiB.toFixed(1)} MiB`);
  expect(grownMiB).toBeLessThan(40);
  await waitFor(() => view.models().length === 1 && [...Array(workers).keys()].every((w) => view.worker(`w${w}`)?.labels.round === String(rounds - 1)), 10_000);
  view.close();
  client.close();
  stalled.close();
  session.destroy();
});
