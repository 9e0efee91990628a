/**
 * The operations HTTP endpoint of gRPC-only processes (worker, controller, operator, judge):
 * `GET /metrics` (Prometheus), `GET /healthz` (process alive) and `GET /readyz` (ready for traffic).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface OpsServerOptions {
  /** host:port; port 0 picks a free port. */
  address: string;
  registry: Registry;
  /** Readiness probe; the process is live as long as it answers. */
  ready: () => boolean;
}

export interface RunningOpsServer {
  port: number;
  url: string;
  close(): Promise<void>;
}

export async function startOpsServer(options: OpsServerOptions): Promise<RunningOpsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      options.registry
        .metrics()
        .then((body) => res.writeHead(200, { 'content-type': options.registry.contentType }).end(body))
        .catch((err: unknown) => res.writeHead(500).end(String(err)));
      return;
    }
    if (path === '/healthz' || path === '/health') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    if (path === '/readyz') {
      const ready = options.ready();
      res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(ready ? 'ready\n' : 'not ready\n');
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
  const i = options.address.lastIndexOf(':');
  const host = options.address.slice(0, i) || '0.0.0.0';
  const port = Number(options.address.slice(i + 1));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  const shownHost = host === '0.0.0.0' ? '127.0.0.1' : host;
  return {
    port: bound,
    url: `http://${shownHost}:${bound}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
