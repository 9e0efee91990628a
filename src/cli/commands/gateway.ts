/** `fleetchat gateway` */
import type { Command } from 'commander';
import { addOptions, readConfig } from '../../common/config';
import { createLogger } from '../../common/log';
import { onShutdown } from '../../common/shutdown';
import { gatewayOptions, startGateway } from '../../gateway/main';

export function register(program: Command): void {
  const cmd = program.command('gateway').description('run the OpenAI-compatible HTTP gateway (and web UI) in front of the controller');
  addOptions(cmd, gatewayOptions).action(async (opts: Record<string, unknown>) => {
    const config = readConfig(gatewayOptions, opts);
    const logger = createLogger({ level: config.logLevel, name: 'gateway' });
    const gateway = await startGateway(config, logger);
    const shutdown = onShutdown(logger);
    shutdown.add(() => gateway.stop());
    await shutdown.done;
  });
}
