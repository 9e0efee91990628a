/**
 * Registration with the controller: register (retrying with backoff until the controller answers),
 * heartbeat with the current status, register again when the controller does not know this worker
 * (it restarted or expired us), and deregister on shutdown.
 */
import { Metadata } from '@grpc/grpc-js';
import { ControllerClient, WorkerInfo } from '../common/gen/controller';
import type { WorkerStatus } from '../common/gen/worker';
import { createClient, unary } from '../common/grpc/client';
import type { ClientSecurity } from '../common/grpc/credentials';
import type { Logger } from '../common/log';

export interface RegistrationOptions {
  controllerAddress: string;
  /** Static description of this worker (status is filled at each call). */
  info: () => WorkerInfo;
  status: () => WorkerStatus;
  logger: Logger;
  /** Heartbeat period; the controller's answer to RegisterWorker may shorten it. */
  heartbeatIntervalMs: number;
  callTimeoutMs?: number;
  /** Client credentials for the controller (plaintext when omitted). */
  security?: ClientSecurity;
}

export interface Registration {
  /** Resolves after the first successful registration. */
  registered: Promise<void>;
  /** Sends one heartbeat now (tests, status changes). */
  beat(): Promise<void>;
  stop(options: { deregister: boolean }): Promise<void>;
}

export function startRegistration(options: RegistrationOptions): Registration {
  const client = createClient(ControllerClient, options.controllerAddress, {}, options.security);
  const timeoutMs = options.callTimeoutMs ?? 5000;
  const log = options.logger.child({ controller: options.controllerAddress });
  let stopped = false;
  let known = false;
  let intervalMs = options.heartbeatIntervalMs;
  let timer: NodeJS.Timeout | undefined;
  let resolveRegistered: () => void = () => undefined;
  const registered = new Promise<void>((resolve) => {
    resolveRegistered = resolve;
  });

  const register = async (): Promise<void> => {
    const worker = WorkerInfo.fromPartial({ ...options.info(), status: options.status() });
    const res = await unary(client.registerWorker.bind(client), { worker }, new Metadata(), timeoutMs);
    known = true;
    if (res.heartbeatIntervalMs > 0) intervalMs = Math.min(options.heartbeatIntervalMs, res.heartbeatIntervalMs);
    log.info({ workerId: worker.workerId, models: worker.modelNames, heartbeatMs: intervalMs }, 'registered with controller');
    resolveRegistered();
  };

  const beat = async (): Promise<void> => {
    if (!known) {
      await register();
      return;
    }
    const res = await unary(client.heartbeat.bind(client), { workerId: options.info().workerId, status: options.status() }, new Metadata(), timeoutMs);
    if (!res.known) {
      log.warn('controller does not know this worker (restarted?); registering again');
      known = false;
      await register();
    }
  };

  let failures = 0;
  const schedule = (delayMs: number): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      beat()
        .then(() => {
          failures = 0;
          schedule(intervalMs);
        })
        .catch((err: unknown) => {
          failures += 1;
          const backoff = Math.min(intervalMs, 250 * 2 ** Math.min(failures, 6));
          log.warn({ err: (err as Error).message, retryInMs: backoff }, known ? 'heartbeat failed' : 'registration failed');
          schedule(backoff);
        });
    }, delayMs);
    timer.unref();
  };
  schedule(0);

  return {
    registered,
    beat,
    stop: async ({ deregister }) => {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (deregister && known) {
        try {
          await unary(client.deregisterWorker.bind(client), { workerId: options.info().workerId }, new Metadata(), timeoutMs);
          log.info('deregistered from controller');
        } catch (err) {
          log.warn({ err: (err as Error).message }, 'deregistration failed');
        }
      }
      client.close();
    },
  };
}
