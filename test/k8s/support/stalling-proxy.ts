/**
 * A plain-HTTP proxy on 127.0.0.1 in front of the envtest API server (HTTPS, token auth) that can stall chosen
 * requests: they are held open, never forwarded and never answered — a hung API server or a black-holed connection
 * as one process sees it, while every other request (and every other process) goes through normally.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { request } from 'node:https';
import { join } from 'node:path';
import type { Envtest } from '../envtest';

export interface StallingProxy {
  url: string;
  /** A kubeconfig file (admin token) whose server is this proxy. */
  kubeconfigPath: string;
  /** Requests for which this returns true are held from now on. */
  stall(predicate: (req: IncomingMessage) => boolean): void;
  /** Requests held so far. */
  held(): number;
  close(): Promise<void>;
}

export async function startStallingProxy(env: Envtest, name: string): Promise<StallingProxy> {
  const ca = readFileSync(env.caFile);
  const target = new URL(env.server);
  let predicate: (req: IncomingMessage) => boolean = () => false;
  const holding: ServerResponse[] = [];
  let heldCount = 0;
  const server = createServer((req, res) => {
    if (predicate(req)) {
      heldCount += 1;
      holding.push(res);
      return;
    }
    const upstream = request({ hostname: target.hostname, port: target.port, path: req.url, method: req.method, headers: { ...req.headers, host: target.host }, ca }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const kubeconfigPath = join(env.dir, `kubeconfig-${name}`);
  writeFileSync(kubeconfigPath, [
    'apiVersion: v1', 'kind: Config',
    'clusters:', '- name: proxied', '  cluster:', `    server: ${url}`, '    insecure-skip-tls-verify: true', // client-node's condition for http://
    'users:', '- name: admin', '  user:', `    token: ${env.token}`,
    'contexts:', '- name: proxied', '  context:', '    cluster: proxied', '    user: admin', '    namespace: default',
    'current-context: proxied', '',
  ].join('\n'));
  return {
    url, kubeconfigPath,
    stall: (p) => (predicate = p),
    held: () => heldCount,
    close: async () => {
      for (const res of holding) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
