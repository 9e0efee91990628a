/**
 * Serves the web UI: the page at `/`, its assets under `/ui/` (@fastify/static). The page is static; it calls the
 * OpenAI and arena APIs with the API key the user pasted (kept in the browser's localStorage). A gateway run from
 * sources whose UI was never built answers `/` with 503 and says how to build it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../../common/log';

/** Where `npm run build` puts the UI (next to the compiled routes). */
export const BUNDLED_UI_DIR = join(__dirname, 'static');

export const UI_FILES = ['index.html', 'app.js', 'app.css'];

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

export function missingUiFiles(dir: string): string[] {
  return UI_FILES.filter((f) => !existsSync(join(dir, f)));
}

export interface UiRouteOptions {
  dir: string;
  /** Whether the API wants a key: the page asks for one before its first call. */
  authRequired: boolean;
  logger: Logger;
}

export async function registerUi(app: FastifyInstance, options: UiRouteOptions): Promise<void> {
  app.get('/ui/config.json', async () => ({ auth_required: options.authRequired }));
  const missing = missingUiFiles(options.dir);
  if (missing.length > 0) {
    options.logger.warn({ dir: options.dir, missing }, 'the web UI is not built; run `npm run build` (or pass --ui false)');
    app.get('/', async (_request, reply) =>
      reply.code(503).header('content-type', 'text/plain; charset=utf-8').send(`The fleetchat web UI is not built (missing in ${options.dir}: ${missing.join(', ')}). Run \`npm run build\`.\n`));
    return;
  }
  await app.register(fastifyStatic, { root: options.dir, prefix: '/ui/', index: false, wildcard: false });
  app.get('/', async (_request, reply) => reply.headers(SECURITY_HEADERS).header('cache-control', 'no-cache').sendFile('index.html'));
}
