/** `fleetchat gateway`: the OpenAI-compatible HTTP API in front of the controller and workers. */
import type { FastifyInstance } from 'fastify';
import { addressOption, durationOption, enumOption, intOption, listOption, stringOption, type ConfigOf } from '../common/config';
import type { RunningGrpcServer } from '../common/grpc/server';
import type { Logger } from '../common/log';
import { clusterSecurityOptions, loadClusterSecurity } from '../common/grpc/credentials';
import { prefixRoutingFrom, prefixRoutingOptions } from '../common/dispatch';
import { createRegistry } from '../common/metrics';
import { requestLimitOptions, requestLimitsOf } from '../common/request-limits';
import type { GatewayContext } from './context';
import { createGatewayMetrics } from './metrics';
import { startPublicGrpc } from './grpc/server';
import { buildServer } from './server';
import { httpLimitOptions, httpLimitsOf, requestRateLimiter } from './http-limits';
import { ControllerView } from './upstream/controller-view';
import { arenaOptions } from './arena/options';
import { openArena } from './arena/open-arena';
import { ARENA_ADMIN_PATHS } from './arena/routes';
import { UI_PUBLIC_PATHS, uiOptions } from './ui/options';
import { BUNDLED_UI_DIR, registerUi } from './ui/routes';

export const gatewayOptions = {
  controller: addressOption({ flag: '--controller', description: 'controller gRPC address', default: '127.0.0.1:21001' }),
  listen: addressOption({ flag: '--listen', description: 'HTTP listen address', default: '0.0.0.0:8000' }),
  grpcListen: stringOption({ flag: '--grpc-listen', placeholder: '<host:port>', description: 'public gRPC API (fleetchat.v1.Inference, health, reflection) listen address; empty = off', default: '', pattern: /^$|^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9._-]*):\d{1,5}$/, patternHint: 'host:port or empty' }),
  grpcTlsCert: stringOption({ flag: '--grpc-tls-cert', placeholder: '<file>', description: 'PEM certificate chain for the gRPC API (with --grpc-tls-key; empty = plaintext)', default: '' }),
  grpcTlsKey: stringOption({ flag: '--grpc-tls-key', placeholder: '<file>', description: 'PEM private key for the gRPC API', default: '' }),
  apiKeys: listOption({ flag: '--api-keys', description: 'accepted API keys (comma-separated); empty = no auth', default: [] }),
  adminKeys: listOption({ flag: '--admin-keys', description: 'keys for the arena exports (/arena/battle-log), separate from API keys; empty = exports off', default: [] }),
  trustProxy: listOption({ flag: '--trust-proxy', description: 'proxies (IPs or CIDRs, comma-separated) whose X-Forwarded-For names the client (judge pseudonyms, rate limits)', default: [] }),
  publicPaths: listOption({ flag: '--public-paths', description: 'paths served without a key (prefixes end in *)', default: ['/health', '/metrics', ...UI_PUBLIC_PATHS] }),
  requestTimeout: durationOption({ flag: '--request-timeout', description: 'deadline of one generation request', default: 600_000, defaultLabel: '10m' }),
  maxBodyBytes: intOption({ flag: '--max-body-bytes', description: 'largest accepted request body', default: 8 * 1024 * 1024, min: 1024 }),
  dispatch: enumOption({ flag: '--dispatch', description: 'worker choice: locally from the live view (shortest_queue, lottery) or by the controller per request', default: 'shortest_queue', choices: ['shortest_queue', 'lottery', 'controller'] as const }),
  ...prefixRoutingOptions,
  workerAttempts: intOption({ flag: '--worker-attempts', description: 'workers tried before the first token', default: 3, min: 1, max: 10 }),
  logLevel: stringOption({ flag: '--log-level', description: 'log level', default: 'info' }),
  ...requestLimitOptions,
  ...httpLimitOptions,
  ...clusterSecurityOptions,
  ...arenaOptions,
  ...uiOptions,
};

export type GatewayConfig = ConfigOf<typeof gatewayOptions>;

export interface RunningGateway {
  url: string;
  /** host:port of the public gRPC API, when --grpc-listen is set. */
  grpcAddress?: string;
  app: FastifyInstance;
  ctx: GatewayContext;
  stop(): Promise<void>;
}

/** `inProcess`: open Generate calls in-process on the workers this process serves (`fleetchat up`; common/grpc/in-process.ts). */
export async function startGateway(config: GatewayConfig, logger: Logger, extraRoutes?: (app: FastifyInstance, ctx: GatewayContext) => Promise<void> | void, options: { inProcess?: boolean } = {}): Promise<RunningGateway> {
  const arena = await openArena(config, logger);
  const registry = createRegistry();
  const security = loadClusterSecurity(config);
  const view = new ControllerView(config.controller, logger, { dispatch: config.dispatch, security, routing: prefixRoutingFrom(config), inProcess: options.inProcess });
  const metrics = createGatewayMetrics(registry, () => view.callsInFlight());
  const ctx: GatewayContext = {
    view,
    logger,
    metrics,
    requestTimeoutMs: config.requestTimeout,
    limits: requestLimitsOf(config),
    generate: { view, logger, timeoutMs: config.requestTimeout, maxAttempts: config.workerAttempts, onRoute: metrics.dispatched, onCall: metrics.workerCall },
  };
  const httpLimits = httpLimitsOf(config);
  const rateLimiter = requestRateLimiter(httpLimits);
  const app = await buildServer({
    ctx,
    registry,
    apiKeys: config.apiKeys,
    publicPaths: config.publicPaths,
    maxBodyBytes: config.maxBodyBytes,
    httpLimits,
    rateLimiter,
    trustProxy: config.trustProxy,
    adminKeys: config.adminKeys,
    adminPaths: ARENA_ADMIN_PATHS,
    extraRoutes: async (a) => {
      await arena.register(a, ctx);
      if (config.ui) await registerUi(a, { dir: config.uiDir || BUNDLED_UI_DIR, authRequired: config.apiKeys.length > 0, logger });
      if (extraRoutes) await extraRoutes(a, ctx);
    },
  });
  const i = config.listen.lastIndexOf(':');
  const host = config.listen.slice(0, i) || '0.0.0.0';
  await app.listen({ host, port: Number(config.listen.slice(i + 1)) });
  let grpc: RunningGrpcServer | undefined;
  if (config.grpcListen !== '') {
    grpc = await startPublicGrpc(ctx, { address: config.grpcListen, apiKeys: config.apiKeys, tlsCert: config.grpcTlsCert, tlsKey: config.grpcTlsKey, logger, rateLimiter });
  }
  await view.ready(3000);
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  logger.info({ url, grpc: grpc?.address, controller: config.controller }, 'gateway listening');
  return {
    url,
    grpcAddress: grpc?.address,
    app,
    ctx,
    stop: async () => {
      await Promise.all([app.close(), grpc?.shutdown(5000)]);
      view.close();
      await arena.close();
    },
  };
}
