/**
 * Process shutdown on SIGTERM / SIGINT: runs registered cleanups in reverse order, once.
 * A second signal (more than 2 s after the first) while shutting down sets a failing exit code and stops waiting.
 */
import type { Logger } from './log';

export type Cleanup = () => Promise<void> | void;

export interface ShutdownHandle {
  add(cleanup: Cleanup): void;
  /** Resolves once every cleanup ran (after a signal or an explicit trigger). */
  done: Promise<void>;
  trigger(reason: string): Promise<void>;
}

export function onShutdown(logger: Logger, signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT']): ShutdownHandle {
  const cleanups: Cleanup[] = [];
  let running: Promise<void> | undefined;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve;
  });
  const trigger = (reason: string): Promise<void> => {
    if (running) return running;
    logger.info({ reason }, 'shutting down');
    running = (async () => {
      for (const cleanup of cleanups.reverse()) {
        try {
          await cleanup();
        } catch (err) {
          logger.error({ err }, 'cleanup failed');
          process.exitCode = 1;
        }
      }
      for (const s of signals) process.removeListener(s, handler);
      resolveDone();
    })();
    return running;
  };
  let firstSignalAt = 0;
  const handler = (signal: NodeJS.Signals): void => {
    // `npm start` and the terminal both deliver Ctrl-C: a repeat within 2 s is the same request to stop.
    if (running && Date.now() - firstSignalAt < 2000) return;
    if (running) {
      logger.warn({ signal }, 'second signal: exiting without waiting');
      process.exitCode = 130;
      resolveDone();
      // Give the logger a tick to flush, then exit despite open handles.
      setImmediate(() => process.exit(130));
      return;
    }
    firstSignalAt = Date.now();
    void trigger(signal);
  };
  for (const s of signals) process.on(s, handler);
  return { add: (c) => cleanups.push(c), done, trigger };
}
