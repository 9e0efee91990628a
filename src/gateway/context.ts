/** What every route handler gets: the cluster view (with the channels to its workers), limits, logger and metrics. */
import type { Logger } from '../common/log';
import type { RequestLimits } from '../common/request-limits';
import type { ControllerView } from './upstream/controller-view';
import type { GenerateDeps } from './upstream/generate';
import type { GatewayMetrics } from './metrics';

export interface GatewayContext {
  view: ControllerView;
  logger: Logger;
  metrics: GatewayMetrics;
  generate: GenerateDeps;
  /** Per-request deadline. */
  requestTimeoutMs: number;
  /** Request limits (prompt bytes, messages, stop strings, n × max_tokens, logit_bias). */
  limits: RequestLimits;
}
