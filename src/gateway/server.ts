/**
 * The gateway's HTTP server (fastify): OpenAI routes, API-key auth, OpenAI-shaped errors with the right
 * status codes, /health, /metrics. Other route groups (web UI, arena) plug in through `extraRoutes`.
 */
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { FleetError, asFleetError, toOpenAIError } from '../common/errors';
import { hopClockMs } from '../common/log';
import type { Registry } from '../common/metrics';
import { checkAdminKey, checkApiKey } from './auth';
import type { GatewayContext } from './context';
import { isRateLimited, rateKeyOf, type RateLimiter } from './rate-limit';
import { capConnections, DEFAULT_HTTP_LIMITS, nodeServerOptions, requestRateLimiter, type HttpLimits } from './http-limits';
import { handleChat, type TracedRequest } from './openai/chat';
import { handleCompletion } from './openai/completions';
import { handleEmbeddings } from './openai/embeddings';
import { listModels, getModel } from './openai/models';

export interface ServerOptions {
  ctx: GatewayContext;
  registry: Registry;
  apiKeys: string[];
  /** Paths reachable without a key (exact, or prefixes ending in '*'). */
  publicPaths: string[];
  maxBodyBytes: number;
  /** Header / body / idle timeouts, the connection cap and the per-client rate limit (default: DEFAULT_HTTP_LIMITS). */
  httpLimits?: HttpLimits;
  /** The per-client request limiter; shared with the public gRPC door so a client has one budget (default: from httpLimits). */
  rateLimiter?: RateLimiter;
  /** Proxies (addresses or CIDRs) whose X-Forwarded-For is believed, so `request.ip` is the client behind them. */
  trustProxy?: string[];
  /** Keys for ADMIN paths (exports); separate from API keys. No key: those paths are refused. */
  adminKeys?: string[];
  /** Paths that need an admin key instead of an API key (exact). */
  adminPaths?: string[];
  extraRoutes?: (app: FastifyInstance) => Promise<void> | void;
}

function isPublic(path: string, publicPaths: string[]): boolean {
  return publicPaths.some((p) => (p.endsWith('*') ? path.startsWith(p.slice(0, -1)) : path === p));
}

function sendError(reply: FastifyReply, err: unknown): void {
  const fe = asFleetError(err);
  if (fe.retryAfterS !== undefined) void reply.header('retry-after', String(Math.max(1, Math.ceil(fe.retryAfterS))));
  void reply.code(fe.httpStatus).send(toOpenAIError(fe));
}

/** Fastify's own errors (bad JSON, body too large, wrong content type) in OpenAI's shape. */
function fromFastifyError(err: FastifyError): FleetError {
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new FleetError('payload_too_large', `request body is larger than the limit (${err.message})`, { code: 'body_too_large' });
  if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new FleetError('invalid_request', 'Content-Type must be application/json', { code: 'invalid_content_type' });
  if (err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError) {
    return new FleetError('invalid_request', `request body is not valid JSON: ${err.message}`, { code: 'invalid_json' });
  }
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) return new FleetError('invalid_request', err.message);
  return asFleetError(err);
}

export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const { ctx } = options;
  const trustProxy = options.trustProxy && options.trustProxy.length > 0 ? options.trustProxy : false;
  const limits = options.httpLimits ?? DEFAULT_HTTP_LIMITS;
  const app = Fastify({
    bodyLimit: options.maxBodyBytes,
    logger: false,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    requestTimeout: limits.bodyTimeoutMs,
    http: nodeServerOptions(limits),
    forceCloseConnections: 'idle',
    trustProxy,
  });
  capConnections(app.server, limits, () => ctx.metrics.connectionRefused(), ctx.logger);
  const rate = options.rateLimiter ?? requestRateLimiter(limits);
  const adminPaths = new Set(options.adminPaths ?? []);
  const adminKeys = options.adminKeys ?? [];
  const traced = ctx.logger.isLevelEnabled('debug');
  // A callback hook, not an async one: no promise and no extra microtask before every request's body is read.
  app.addHook('onRequest', (request, reply, done) => {
    (request as FastifyRequest & { startedAt?: number }).startedAt = performance.now();
    // Hop timestamps (src/common/log.ts): when the request reached fleetchat's code (after the HTTP parse and routing).
    if (traced) (request as TracedRequest).arrivedAt = hopClockMs();
    const path = request.url.split('?')[0];
    try {
      if (adminPaths.has(path)) checkAdminKey(request.headers.authorization, adminKeys, path);
      else if (options.apiKeys.length > 0 && !isPublic(path, options.publicPaths)) checkApiKey(request.headers.authorization, options.apiKeys, 'header');
      if (rate.enabled && isRateLimited(path)) rate.take(rateKeyOf(request.headers.authorization, request.ip, options.apiKeys.length > 0));
    } catch (err) {
      // Answered here: the request goes no further (done is not called).
      sendError(reply, err);
      return;
    }
    done();
  });
  app.addHook('onResponse', async (request, reply) => {
    const started = (request as FastifyRequest & { startedAt?: number }).startedAt ?? performance.now();
    ctx.metrics.request(request.routeOptions.url ?? 'unknown', reply.statusCode, (performance.now() - started) / 1000);
  });
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const fe = err instanceof FleetError ? err : fromFastifyError(err);
    if (fe.kind === 'unavailable' || fe.kind === 'deadline_exceeded') ctx.logger.warn({ kind: fe.kind, message: fe.message, url: request.url }, 'request failed');
    else if (fe.httpStatus >= 500) ctx.logger.error({ err, url: request.url }, 'request failed');
    else ctx.logger.debug({ kind: fe.kind, message: fe.message, url: request.url }, 'request rejected');
    if (reply.sent || reply.raw.headersSent) return;
    sendError(reply, fe);
  });
  app.setNotFoundHandler((request, reply) => sendError(reply, new FleetError('not_found', `no route for ${request.method} ${request.url}`, { code: 'unknown_url' })));

  app.get('/health', async () => ({ status: 'ok', models: ctx.view.models().length }));
  app.get('/metrics', async (_req, reply) => reply.header('content-type', options.registry.contentType).send(await options.registry.metrics()));
  app.get('/v1/models', async () => listModels(ctx));
  app.get<{ Params: { model: string } }>('/v1/models/:model', async (req) => getModel(ctx, req.params.model));
  app.post('/v1/chat/completions', (req, reply) => handleChat(ctx, req, reply));
  app.post('/v1/completions', (req, reply) => handleCompletion(ctx, req, reply));
  app.post('/v1/embeddings', (req, reply) => handleEmbeddings(ctx, req, reply));
  if (options.extraRoutes) await options.extraRoutes(app);
  return app;
}
