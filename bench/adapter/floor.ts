/**
 * What one more Node.js process on the request path costs on this machine, measured bare (no fleetchat code): a
 * client and a server process (bench/adapter/floor-peer.ts) exchange the same four one-way deliveries that the gateway
 * and the adapter add to the direct path — an HTTP request in (client -> gateway), a grpc-js call in (gateway ->
 * adapter), a grpc-js message back (adapter -> gateway) and an SSE event back (gateway -> client) — with idle time
 * between requests, as in bench:adapter. Their sum is the floor under `ttft_added_ms` for this architecture here.
 */
import { fork } from 'node:child_process';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { GenerateRequest, WorkerClient, type GenerateResponse } from '../../src/common/gen/worker';
import { createClient, deadlineIn } from '../../src/common/grpc/client';
import { hopClockMs } from '../../src/common/log';
import { percentile, round } from '../support/stats';

export interface HopFloor {
  httpIn: number;
  grpcIn: number;
  grpcBack: number;
  sseBack: number;
  /** Sum of the four p50s. */
  total: number;
}

interface Stamps {
  sentAt: number;
  handler: number;
  written: number;
  arrivedAt: number;
}

const BODY = JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: 'Write a long story about a lighthouse keeper.' }], max_tokens: 16, temperature: 0, logit_bias: { 0: -100, 2: -100 }, stream: true });

function httpOnce(url: string, agent: Agent): Promise<Stamps> {
  return new Promise((resolve, reject) => {
    const sentAt = hopClockMs();
    const req = request(`${url}/v1/chat/completions`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY) } }, (res) => {
      let text = '';
      let arrivedAt = 0;
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        arrivedAt ||= hopClockMs();
        text += c;
      });
      res.on('end', () => resolve({ sentAt, arrivedAt, ...(JSON.parse(text.slice(6)) as { handler: number; written: number }) }));
    });
    req.on('error', reject);
    req.end(BODY);
  });
}

function grpcOnce(client: WorkerClient): Promise<Stamps> {
  return new Promise((resolve, reject) => {
    const sentAt = hopClockMs();
    let stamps: Stamps | undefined;
    const call = client.generate(GenerateRequest.fromPartial({ model: 'bench', requestId: 'floor', prompt: BODY }), { deadline: deadlineIn(30_000) });
    call.on('data', (c: GenerateResponse) => {
      stamps = { sentAt, arrivedAt: hopClockMs(), ...(JSON.parse(c.text) as { handler: number; written: number }) };
    });
    call.on('error', reject);
    call.on('end', () => (stamps ? resolve(stamps) : reject(new Error('no message'))));
  });
}

/** `rounds` requests per protocol, alternating, `gapMs` idle before each; the server answers `engineMs` after. */
export async function measureHopFloor(rounds: number, gapMs = 30, engineMs = 15): Promise<HopFloor> {
  // From source (npm run bench:adapter) or compiled (dist/bench).
  const fromSource = __filename.endsWith('.ts');
  const peer = fork(join(__dirname, fromSource ? 'floor-peer.ts' : 'floor-peer.js'), [String(engineMs)], { execArgv: fromSource ? ['-r', '@swc-node/register'] : [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const addresses = await new Promise<{ http: string; grpc: string }>((resolve, reject) => {
      peer.once('message', (m) => resolve(m as { http: string; grpc: string }));
      peer.once('exit', (code) => reject(new Error(`floor peer exited (${code})`)));
    });
    const agent = new Agent({ keepAlive: true });
    const client = createClient(WorkerClient, addresses.grpc);
    const http: Stamps[] = [];
    const grpc: Stamps[] = [];
    const warmup = 10;
    for (let i = 0; i < rounds + warmup; i++) {
      await new Promise((r) => setTimeout(r, gapMs));
      const h = await httpOnce(addresses.http, agent);
      await new Promise((r) => setTimeout(r, gapMs));
      const g = await grpcOnce(client);
      if (i >= warmup) {
        http.push(h);
        grpc.push(g);
      }
    }
    client.close();
    agent.destroy();
    const p50 = (xs: number[]): number => round(percentile(xs, 50), 3);
    const floor = {
      httpIn: p50(http.map((s) => s.handler - s.sentAt)),
      grpcIn: p50(grpc.map((s) => s.handler - s.sentAt)),
      grpcBack: p50(grpc.map((s) => s.arrivedAt - s.written)),
      sseBack: p50(http.map((s) => s.arrivedAt - s.written)),
    };
    return { ...floor, total: round(floor.httpIn + floor.grpcIn + floor.grpcBack + floor.sseBack, 2) };
  } finally {
    peer.disconnect();
  }
}
