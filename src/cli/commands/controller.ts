/** `fleetchat controller` */
import type { Command } from 'commander';
import { addOptions, readConfig } from '../../common/config';
import { createLogger } from '../../common/log';
import { onShutdown } from '../../common/shutdown';
import { controllerOptions, startController } from '../../controller/main';

export function register(program: Command): void {
  const cmd = program.command('controller').description('run the controller: worker registry, heartbeats and dispatch (gRPC)');
  addOptions(cmd, controllerOptions).action(async (opts: Record<string, unknown>) => {
    const config = readConfig(controllerOptions, opts);
    const logger = createLogger({ level: config.logLevel, name: 'controller' });
    const controller = await startController(config, logger);
    const shutdown = onShutdown(logger);
    shutdown.add(() => controller.stop());
    await shutdown.done;
  });
}
