/** `fleetchat controller`: the worker registry and dispatcher as a gRPC server. */
import { addressOption, durationOption, enumOption, intOption, stringOption, type ConfigOf } from '../common/config';
import { clusterSecurityOptions, loadClusterSecurity } from '../common/grpc/credentials';
import { prefixRoutingFrom, prefixRoutingOptions } from '../common/dispatch';
import { ControllerService } from '../common/gen/controller';
import { startGrpcServer, type RunningGrpcServer } from '../common/grpc/server';
import type { Logger } from '../common/log';
import { Counter, Gauge, createRegistry } from '../common/metrics';
import { startOpsServer, type RunningOpsServer } from '../common/ops-server';
import { DEFAULT_MAX_WORKERS, WorkerRegistry } from './registry';
import { createControllerService } from './service';

export const controllerOptions = {
  listen: addressOption({ flag: '--listen', description: 'gRPC listen address', default: '0.0.0.0:21001' }),
  metricsListen: addressOption({ flag: '--metrics-listen', description: 'HTTP address for /metrics, /healthz, /readyz', default: '0.0.0.0:21002' }),
  dispatch: enumOption({ flag: '--dispatch', description: 'worker choice per request', default: 'shortest_queue', choices: ['shortest_queue', 'lottery'] as const }),
  ...prefixRoutingOptions,
  heartbeatInterval: durationOption({ flag: '--heartbeat-interval', description: 'heartbeat period asked of workers', default: 45_000, defaultLabel: '45s' }),
  heartbeatExpiry: durationOption({ flag: '--heartbeat-expiry', description: 'silence after which a worker is removed', default: 90_000, defaultLabel: '90s' }),
  maxWorkers: intOption({ flag: '--max-workers', description: 'registered workers at most (further registrations are refused)', default: DEFAULT_MAX_WORKERS, min: 1 }),
  logLevel: stringOption({ flag: '--log-level', description: 'log level (trace, debug, info, warn, error)', default: 'info' }),
  ...clusterSecurityOptions,
};

export type ControllerConfig = ConfigOf<typeof controllerOptions>;

export interface RunningController {
  address: string;
  registry: WorkerRegistry;
  grpc: RunningGrpcServer;
  ops: RunningOpsServer;
  stop(graceMs?: number): Promise<void>;
}

export async function startController(config: ControllerConfig, logger: Logger): Promise<RunningController> {
  const security = loadClusterSecurity(config);
  const registry = new WorkerRegistry(config.heartbeatExpiry, Date.now, config.maxWorkers);
  const metrics = createRegistry();
  new Gauge({ name: 'fleetchat_controller_workers', help: 'Registered workers', registers: [metrics], collect() { this.set(registry.size); } });
  const dispatches = new Counter({ name: 'fleetchat_controller_dispatch_total', help: 'GetWorkerAddress answers, by result and (ok) route: prefix, affinity, load, none (no route keys or prefix routing off)', labelNames: ['result', 'route'], registers: [metrics] });
  const refusals = new Counter({ name: 'fleetchat_controller_refusals_total', help: 'Calls and registrations refused by the security layer, by reason', labelNames: ['reason'], registers: [metrics] });
  const expired = new Counter({ name: 'fleetchat_controller_expired_workers_total', help: 'Workers removed for silence', registers: [metrics] });
  const service = createControllerService({
    registry,
    logger,
    defaultMethod: config.dispatch,
    heartbeatIntervalMs: config.heartbeatInterval,
    expiryMs: config.heartbeatExpiry,
    routing: prefixRoutingFrom(config),
    onDispatch: (_model, ok, route) => dispatches.inc({ result: ok ? 'ok' : 'not_found', route: route || 'none' }),
    onRefused: (reason) => refusals.inc({ reason }),
  });
  new Gauge({ name: 'fleetchat_controller_watch_streams', help: 'Open WatchWorkers streams', registers: [metrics], collect() { this.set(service.watchBacklog().streams); } });
  new Gauge({ name: 'fleetchat_controller_watch_pending_events', help: 'Events coalesced for WatchWorkers streams whose watcher is not reading (at most one per worker per stream)', registers: [metrics], collect() { this.set(service.watchBacklog().pendingEvents); } });
  new Gauge({ name: 'fleetchat_controller_watch_buffered_messages', help: 'Messages written to WatchWorkers streams but not yet flushed to the transport', registers: [metrics], collect() { this.set(service.watchBacklog().bufferedMessages); } });
  const grpc = await startGrpcServer({
    address: config.listen,
    services: [{ name: 'fleetchat.v1.Controller', definition: ControllerService, implementation: service.implementation }],
    logger,
    security,
    onRefused: (r) => refusals.inc({ reason: r.reason }),
  });
  logger.info({ security: security.mode }, 'internal gRPC security');
  const sweep = setInterval(() => {
    const gone = registry.expire();
    if (gone.length > 0) {
      expired.inc(gone.length);
      logger.warn({ workers: gone }, 'removed silent workers');
    }
  }, Math.max(50, Math.min(config.heartbeatExpiry / 4, 5000)));
  sweep.unref();
  const ops = await startOpsServer({ address: config.metricsListen, registry: metrics, ready: () => true });
  logger.info({ address: grpc.address, metrics: ops.url }, 'controller listening');
  return {
    address: grpc.address,
    registry,
    grpc,
    ops,
    stop: async (graceMs = 5000) => {
      clearInterval(sweep);
      service.closeWatchers();
      await grpc.shutdown(graceMs);
      await ops.close();
    },
  };
}
