/** Stopping a job cleanly on SIGTERM / SIGINT (a Kubernetes Job's pod being stopped, Ctrl-C). */
import type { Logger } from '../../common/log';

/** Aborts on SIGTERM / SIGINT while `run` runs (a Kubernetes Job's pod being stopped), then stops listening. */
export async function withInterrupt<T>(logger: Logger, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const aborter = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    logger.warn({ signal }, 'interrupted: stopping (nothing half-written is kept); rerun to resume');
    aborter.abort();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    return await run(aborter.signal);
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}
