/** `fleetchat operator` */
import type { Command } from 'commander';
import { addOptions, readConfig } from '../../common/config';
import { createLogger } from '../../common/log';
import { onShutdown } from '../../common/shutdown';
import { operatorOptions, startOperator } from '../../operator/main';

export function register(program: Command): void {
  const cmd = program.command('operator').description('run the Kubernetes operator: reconciles ModelWorker resources into worker Deployments and Services');
  addOptions(cmd, operatorOptions).action(async (opts: Record<string, unknown>) => {
    const config = readConfig(operatorOptions, opts);
    const logger = createLogger({ level: config.logLevel, name: 'operator' });
    const shutdown = onShutdown(logger);
    const operator = await startOperator(config, logger);
    shutdown.add(() => operator.stop());
    await shutdown.done;
  });
}
