/**
 * `fleetchat judge serve`: the Judge gRPC service (plus /metrics, /healthz, /readyz) in front of a judge
 * model reached through any OpenAI-compatible endpoint.
 */
import { addressOption, type ConfigOf } from '../../common/config';
import type { RunningGrpcServer } from '../../common/grpc/server';
import type { Logger } from '../../common/log';
import { createRegistry } from '../../common/metrics';
import { startOpsServer, type RunningOpsServer } from '../../common/ops-server';
import { onShutdown } from '../../common/shutdown';
import { clusterSecurityOptions, loadClusterSecurity } from '../../common/grpc/credentials';
import { createJudgeCore, JUDGE_ENDPOINT_OPTIONS, LOG_OPTIONS } from './judge-options';
import { createJudgeMetrics, startJudgeServer } from './service';

export const JUDGE_SERVE_OPTIONS = {
  address: addressOption({ flag: '--address', description: 'gRPC listen address', default: '0.0.0.0:21031' }),
  metricsAddress: addressOption({ flag: '--metrics-address', description: 'HTTP address of /metrics, /healthz, /readyz', default: '0.0.0.0:21032' }),
  ...JUDGE_ENDPOINT_OPTIONS,
  ...LOG_OPTIONS,
  ...clusterSecurityOptions,
};

export type JudgeServeConfig = ConfigOf<typeof JUDGE_SERVE_OPTIONS>;

export interface RunningJudge {
  grpc: RunningGrpcServer;
  ops: RunningOpsServer;
  close(): Promise<void>;
}

/** Starts the gRPC and ops servers (tests use this directly). */
export async function startJudge(config: JudgeServeConfig, logger: Logger): Promise<RunningJudge> {
  const core = createJudgeCore(config);
  const registry = createRegistry();
  const grpc = await startJudgeServer({ address: config.address, api: core, logger, metrics: createJudgeMetrics(registry), security: loadClusterSecurity(config) });
  const ops = await startOpsServer({ address: config.metricsAddress, registry, ready: () => true });
  logger.info(
    { address: grpc.address, metrics: ops.url, judgeBaseUrl: config.judgeBaseUrl, judgeModel: config.judgeModel, judgeFile: config.judgeFile, apiKey: config.judgeApiKey === '' ? 'none' : 'set' },
    'judge serving',
  );
  return { grpc, ops, close: async () => { await grpc.shutdown(); await ops.close(); } };
}

/** Runs until SIGTERM / SIGINT, then drains in-flight calls. */
export async function runJudgeServe(config: JudgeServeConfig, logger: Logger): Promise<void> {
  const running = await startJudge(config, logger);
  const shutdown = onShutdown(logger);
  shutdown.add(() => running.close());
  await shutdown.done;
}
