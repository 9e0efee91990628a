/** `fleetchat worker` */
import type { Command } from 'commander';
import { addOptions, readConfig } from '../../common/config';
import { createLogger } from '../../common/log';
import { onShutdown } from '../../common/shutdown';
import { startWorker, workerOptions, type WorkerConfig } from '../../worker/main';
import { startEndpointWorkers } from '../../worker/endpoint-workers';
import type { Logger } from '../../common/log';
import { defaultModelResolver } from '../default-model-choice';

export function register(program: Command): void {
  const cmd = program.command('worker').description('run a model worker: loads one model and serves fleetchat.v1.Worker over gRPC');
  addOptions(cmd, workerOptions).action(async (opts: Record<string, unknown>) => {
    const config = readConfig(workerOptions, opts);
    const logger = createLogger({ level: config.logLevel, name: 'worker' });
    const shutdown = onShutdown(logger);
    if (config.apiEndpointFile) {
      const workers = await startEndpointWorkers(config, logger);
      for (const w of workers) shutdown.add(() => w.stop());
      await shutdown.done;
      return;
    }
    const worker = await startWorker(config, logger, { defaultModel: workerDefaultModel(config, logger) });
    shutdown.add(() => worker.stop());
    await shutdown.done;
  });
}

/** `--model default` for a worker started from the CLI: the choice of src/cli/default-model-choice.ts. */
export function workerDefaultModel(config: WorkerConfig, logger: Logger): ReturnType<typeof defaultModelResolver> {
  return defaultModelResolver({ cacheDir: config.cacheDir, hfEndpoint: config.hfEndpoint, hfToken: config.hfToken || undefined, weights: config.weights, logger });
}
