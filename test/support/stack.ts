/** A whole fleetchat stack on 127.0.0.1 for end-to-end tests: controller, workers, gateway (all real). */
import { parseConfig } from '../../src/common/config';
import { silentLogger, type Logger } from '../../src/common/log';
import { controllerOptions, startController, type RunningController } from '../../src/controller/main';
import { gatewayOptions, startGateway, type RunningGateway } from '../../src/gateway/main';
import { startWorker, workerOptions, type RunningWorker } from '../../src/worker/main';

export interface StackWorkerSpec {
  model: string;
  names: string[];
  args?: string[];
}

export interface Stack {
  controller: RunningController;
  workers: RunningWorker[];
  gateway: RunningGateway;
  url: string;
  logger: Logger;
  addWorker(spec: StackWorkerSpec): Promise<RunningWorker>;
  stop(): Promise<void>;
}

export interface StackOptions {
  workers: StackWorkerSpec[];
  gatewayArgs?: string[];
  controllerArgs?: string[];
  logger?: Logger;
  /** The gateway calls the workers in-process (as `fleetchat up` does), not over their gRPC ports. */
  inProcess?: boolean;
}

export async function startWorkerFor(controllerAddress: string, spec: StackWorkerSpec, logger: Logger, inProcess = false): Promise<RunningWorker> {
  const worker = await startWorker(
    parseConfig(workerOptions, [
      '--model', spec.model, '--model-names', spec.names.join(','), '--controller', controllerAddress,
      '--listen', '127.0.0.1:0', '--metrics-listen', '127.0.0.1:0', '--threads', '1', '--heartbeat-interval', '200ms', '--drain-timeout', '2s',
      ...(spec.args ?? []),
    ]),
    logger,
    { inProcess },
  );
  await worker.registration?.registered;
  return worker;
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const logger = options.logger ?? silentLogger();
  const controller = await startController(
    parseConfig(controllerOptions, ['--listen', '127.0.0.1:0', '--metrics-listen', '127.0.0.1:0', '--heartbeat-interval', '200ms', '--heartbeat-expiry', '30s', ...(options.controllerArgs ?? [])]),
    logger,
  );
  const workers: RunningWorker[] = [];
  for (const spec of options.workers) workers.push(await startWorkerFor(controller.address, spec, logger, options.inProcess));
  const gateway = await startGateway(parseConfig(gatewayOptions, ['--controller', controller.address, '--listen', '127.0.0.1:0', '--db', ':memory:', ...(options.gatewayArgs ?? [])]), logger, undefined, { inProcess: options.inProcess });
  await waitFor(() => gateway.ctx.view.models().length >= new Set(options.workers.flatMap((w) => w.names)).size, 5000);
  const stack: Stack = {
    controller,
    workers,
    gateway,
    url: gateway.url,
    logger,
    addWorker: async (spec) => {
      const w = await startWorkerFor(controller.address, spec, logger, options.inProcess);
      workers.push(w);
      return w;
    },
    stop: async () => {
      await gateway.stop();
      await Promise.all(workers.map((w) => w.stop().catch(() => undefined)));
      await controller.stop(500);
    },
  };
  return stack;
}

export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 5000, stepMs = 20): Promise<void> {
  const start = Date.now();
  while (!(await cond())) {
    if (Date.now() - start > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
