/** What every route handler gets: the cluster view, worker channels, limits, logger and metrics. */
import type { Logger } from '../common/log';
import type { RequestLimits } from '../common/request-limits';
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
  /** Request limits (prompt bytes, messages, stop strings, n × max_tokens, logit_bias). */
  limits: RequestLimits;
}
