/** A local HTTP server that serves a model directory the way huggingface.co does (revision, tree, resolve with ranges). */
import { createHash } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

export const SHA = 'a'.repeat(40);

function listFiles(dir: string, base = dir): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? listFiles(p, base) : [relative(base, p)];
  });
}

export interface HubBehaviour {
  /** Repository served (default org/tiny). */
  repo?: string;
  /** Cut this file's first download after N bytes. */
  truncateOnce?: { path: string; bytes: number };
  /** Lie about this file's sha256. */
  corrupt?: string;
  requireToken?: string;
  /** Files listed without an LFS entry (no sha256 to check, like small text files on huggingface.co). */
  noLfs?: string[];
  /** Extra listed files (any path, even hostile ones), served at the URL the client's fetch normalises them to. */
  extraFiles?: Record<string, Buffer>;
  /** Answer this file's first Range request with the wrong bytes: a 206 saying `bytes 0-…` instead of the range asked. */
  wrongRangeOnce?: string;
  /** Send bodies in 64 KiB chunks this many ms apart (downloads that overlap). */
  chunkDelayMs?: number;
  log: string[];
}

/** Serves one model directory as repo org/tiny the way huggingface.co does (revision, tree, resolve with ranges). */
export function hubServer(dir: string, behaviour: HubBehaviour): Server {
  const files = listFiles(dir);
  const repo = behaviour.repo ?? 'org/tiny';
  const sha256 = (p: string) => createHash('sha256').update(readFileSync(join(dir, p))).digest('hex');
  const extra = new Map(Object.entries(behaviour.extraFiles ?? {}).map(([p, data]) => [new URL(`http://x/${repo}/resolve/${SHA}/${p}`).pathname, data]));
  const send = (res: ServerResponse, body: Buffer): void => {
    if (!behaviour.chunkDelayMs) {
      res.end(body);
      return;
    }
    let at = 0;
    const next = (): void => {
      if (res.destroyed) return;
      const chunk = body.subarray(at, at + 65_536);
      at += chunk.length;
      if (at >= body.length) res.end(chunk);
      else res.write(chunk, () => setTimeout(next, behaviour.chunkDelayMs));
    };
    next();
  };
  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    behaviour.log.push(`${req.method} ${url.pathname}${req.headers.range ? ` ${req.headers.range}` : ''}`);
    if (behaviour.requireToken && req.headers.authorization !== `Bearer ${behaviour.requireToken}`) {
      res.writeHead(401).end('unauthorized');
      return;
    }
    if (url.pathname === `/api/models/${repo}/revision/main`) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: repo, sha: SHA }));
      return;
    }
    if (url.pathname === `/api/models/${repo}/tree/${SHA}`) {
      const entries = files.map((p) => {
        const size = statSync(join(dir, p)).size;
        const lfs = (p.endsWith('.onnx') || p.endsWith('.json')) && !behaviour.noLfs?.includes(p) ? { oid: p === behaviour.corrupt ? 'f'.repeat(64) : sha256(p), size } : undefined;
        return { type: 'file', path: p, size, oid: 'x', ...(lfs ? { lfs } : {}) };
      });
      const extraEntries = Object.entries(behaviour.extraFiles ?? {}).map(([p, data]) => ({ type: 'file', path: p, size: data.length, oid: 'x' }));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify([...entries, ...extraEntries]));
      return;
    }
    const hostile = extra.get(url.pathname);
    if (hostile) {
      res.writeHead(200, { 'content-length': String(hostile.length) }).end(hostile);
      return;
    }
    const m = new RegExp(`^/${repo}/resolve/${SHA}/(.+)$`).exec(url.pathname);
    if (m && files.includes(m[1])) {
      const data = readFileSync(join(dir, m[1]));
      const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      const start = range ? Number(range[1]) : 0;
      const body = data.subarray(start);
      if (range && behaviour.wrongRangeOnce === m[1]) {
        behaviour.wrongRangeOnce = undefined;
        res.writeHead(206, { 'content-length': String(body.length), 'content-range': `bytes 0-${body.length - 1}/${data.length}` }).end(data.subarray(0, body.length));
        return;
      }
      res.writeHead(range ? 206 : 200, { 'content-length': String(body.length), ...(range ? { 'content-range': `bytes ${start}-${data.length - 1}/${data.length}` } : {}) });
      if (behaviour.truncateOnce?.path === m[1]) {
        const cut = behaviour.truncateOnce.bytes;
        behaviour.truncateOnce = undefined;
        // Give the client time to store what it received before the connection breaks (a break before any byte
        // arrives is a restart from zero, not a resume).
        res.write(body.subarray(0, cut), () => setTimeout(() => res.destroy(), 300));
        return;
      }
      send(res, body);
      return;
    }
    res.writeHead(404).end('not found');
  });
}

export async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

