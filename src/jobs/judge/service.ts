/**
 * The `fleetchat.v1.Judge` gRPC service over a JudgeApi (normally JudgeCore): errors become gRPC
 * statuses carrying the FleetError kind, a cancelled call cancels the judge-model requests, and each
 * call is counted in Prometheus metrics.
 */
import type { sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import {
  JudgeService,
  type JudgeServer, type PairwiseRequest, type PairwiseResponse, type SingleGradeRequest, type SingleGradeResponse,
} from '../../common/gen/judge';
import { asFleetError } from '../../common/errors';
import type { ClusterSecurity } from '../../common/grpc/credentials';
import { startGrpcServer, type RunningGrpcServer } from '../../common/grpc/server';
import { toServiceError } from '../../common/grpc/status';
import type { Logger } from '../../common/log';
import { Counter, Histogram, LATENCY_BUCKETS_S, type Registry } from '../../common/metrics';
import type { JudgeApi } from './judge-api';

export const JUDGE_SERVICE_NAME = 'fleetchat.v1.Judge';

export interface JudgeMetrics {
  requests: Counter<'method' | 'outcome'>;
  durationS: Histogram<'method'>;
}

export function createJudgeMetrics(registry: Registry): JudgeMetrics {
  return {
    requests: new Counter({
      name: 'fleetchat_judge_requests_total',
      help: 'Judge RPCs by method and outcome (ok or the error kind).',
      labelNames: ['method', 'outcome'],
      registers: [registry],
    }),
    durationS: new Histogram({
      name: 'fleetchat_judge_request_duration_seconds',
      help: 'Judge RPC latency, including every call to the judge model.',
      labelNames: ['method'],
      buckets: LATENCY_BUCKETS_S,
      registers: [registry],
    }),
  };
}

type Handler<Req, Res> = (request: Req, signal: AbortSignal) => Promise<Res>;

function unaryHandler<Req, Res>(method: string, handle: Handler<Req, Res>, logger: Logger, metrics?: JudgeMetrics) {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
    const aborter = new AbortController();
    call.on('cancelled', () => aborter.abort());
    const stopTimer = metrics?.durationS.startTimer({ method });
    handle(call.request, aborter.signal)
      .then((response) => {
        metrics?.requests.inc({ method, outcome: 'ok' });
        callback(null, response);
      })
      .catch((err: unknown) => {
        const fe = asFleetError(err);
        metrics?.requests.inc({ method, outcome: fe.kind });
        logger.warn({ method, kind: fe.kind, err: fe.message }, 'judge call failed');
        callback(toServiceError(fe));
      })
      .finally(() => stopTimer?.());
  };
}

/** The generated JudgeServer implementation backed by `api`. */
export function judgeServer(api: JudgeApi, logger: Logger, metrics?: JudgeMetrics): JudgeServer {
  return {
    gradeSingle: unaryHandler<SingleGradeRequest, SingleGradeResponse>('GradeSingle', (r, s) => api.gradeSingle(r, s), logger, metrics),
    comparePair: unaryHandler<PairwiseRequest, PairwiseResponse>('ComparePair', (r, s) => api.comparePair(r, s), logger, metrics),
  };
}

export interface JudgeServerOptions {
  /** host:port; port 0 picks a free one. */
  address: string;
  api: JudgeApi;
  logger: Logger;
  metrics?: JudgeMetrics;
  security?: ClusterSecurity;
}

export function startJudgeServer(options: JudgeServerOptions): Promise<RunningGrpcServer> {
  return startGrpcServer({
    address: options.address,
    logger: options.logger,
    security: options.security,
    services: [{ name: JUDGE_SERVICE_NAME, definition: JudgeService, implementation: judgeServer(options.api, options.logger, options.metrics) }],
  });
}
