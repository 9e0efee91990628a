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
    // Leadership lost (a renewal that did not make the renew deadline): exit at once and let the Deployment restart
    // this replica as a fresh candidate, rather than finish anything begun as leader.
    void operator.lostLeadership.then(() => {
      logger.error('exiting: lost the leader Lease');
      logger.flush();
      process.exit(1);
    });
    await shutdown.done;
  });
}
