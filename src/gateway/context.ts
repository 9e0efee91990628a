/** What every route handler gets: the cluster view, worker channels, limits, logger and metrics. */
import type { Logger } from '../common/log';
import type { ControllerView } from './upstream/controller-view';
import type { GenerateDeps } from './upstream/generate';
import type { WorkerPool } from './upstream/worker-pool';
import type { GatewayMetrics } from './metrics';

export interface GatewayContext {
  view: ControllerView;
  pool: WorkerPool;
  logger: Logger;
  metrics: GatewayMetrics;
  generate: GenerateDeps;
  /** Per-request deadline. */
  requestTimeoutMs: number;
}
