/** `fleetchat worker` */
import type { Command } from 'commander';
import { addOptions, readConfig } from '../../common/config';
import { createLogger } from '../../common/log';
import { onShutdown } from '../../common/shutdown';
import { startWorker, workerOptions } from '../../worker/main';

export function register(program: Command): void {
  const cmd = program.command('worker').description('run a model worker: loads one model and serves fleetchat.v1.Worker over gRPC');
  addOptions(cmd, workerOptions).action(async (opts: Record<string, unknown>) => {
    const config = readConfig(workerOptions, opts);
    const logger = createLogger({ level: config.logLevel, name: 'worker' });
    const shutdown = onShutdown(logger);
    const worker = await startWorker(config, logger);
    shutdown.add(() => worker.stop());
    await shutdown.done;
  });
}
