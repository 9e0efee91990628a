/**
 * bench:prefix through the gateway: a controller, two workers (prefix caches on, one thread each) and two gateways
 * in front of them — one with prefix-aware routing (the default), one with `--prefix-routing off` (plain shortest
 * queue). Each conversation runs five streamed turns through one gateway; conversations alternate between the two
 * gateways and never repeat (their system prompts differ), so every turn-5 prefix exists only where that gateway
 * sent the earlier turns. Reported: the median turn-5 time to first token per gateway, and how many of the turns
 * 2..5 found their prefix cached (usage.prompt_tokens_details.cached_tokens > 0).
 */
import { Agent, request } from 'node:http';
import { parseConfig } from '../../src/common/config';
import { silentLogger } from '../../src/common/log';
import { controllerOptions, startController } from '../../src/controller/main';
import { gatewayOptions, startGateway } from '../../src/gateway/main';
import { startWorker, workerOptions } from '../../src/worker/main';

export interface GatewayFigures {
  /** Median turn-5 TTFT with prefix-aware routing / with plain load routing (ms). */
  routedMs: number;
  plainMs: number;
  /** Turns 2..5 that found a cached prefix, over all conversations. */
  routedHitRate: number;
  plainHitRate: number;
  conversations: number;
}

interface Message {
  role: string;
  content: string;
}

interface TurnResult {
  ttftMs: number;
  text: string;
  cachedTokens: number;
}

const agent = new Agent({ keepAlive: true });

/** One streamed chat completion; the time to the first non-empty content delta, the text and the cached tokens. */
function streamTurn(url: string, messages: Message[], maxTokens: number): Promise<TurnResult> {
  const body = JSON.stringify({ model: 'bench', messages, max_tokens: maxTokens, temperature: 0, ignore_eos: true, stream: true, stream_options: { include_usage: true } });
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(`${url}/v1/chat/completions`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`HTTP ${res.statusCode}`));
        return;
      }
      const out: TurnResult = { ttftMs: -1, text: '', cachedTokens: 0 };
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let i: number;
        while ((i = buffer.indexOf('\n\n')) >= 0) {
          const event = buffer.slice(0, i);
          buffer = buffer.slice(i + 2);
          if (!event.startsWith('data: {')) continue;
          const data = JSON.parse(event.slice(6)) as { choices: Array<{ delta: { content?: string } }>; usage?: { prompt_tokens_details?: { cached_tokens: number } } | null };
          for (const c of data.choices) {
            if (c.delta.content) {
              if (out.ttftMs < 0) out.ttftMs = performance.now() - started;
              out.text += c.delta.content;
            }
          }
          if (data.usage) out.cachedTokens = data.usage.prompt_tokens_details?.cached_tokens ?? 0;
        }
      });
      res.on('end', () => resolve(out));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function conversation(url: string, system: string, questions: string[], maxTokens: number): Promise<TurnResult[]> {
  const messages: Message[] = [{ role: 'system', content: system }];
  const out: TurnResult[] = [];
  for (const q of questions) {
    messages.push({ role: 'user', content: q });
    const r = await streamTurn(url, messages, maxTokens);
    out.push(r);
    messages.push({ role: 'assistant', content: r.text });
  }
  return out;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function throughGateway(dir: string, questions: string[], options: { conversations: number; maxTokens: number }): Promise<GatewayFigures> {
  const logger = silentLogger();
  const controller = await startController(parseConfig(controllerOptions, ['--listen', '127.0.0.1:0', '--metrics-listen', '127.0.0.1:0', '--heartbeat-interval', '1s']), logger);
  const workers = [];
  for (let i = 0; i < 2; i++) {
    workers.push(await startWorker(parseConfig(workerOptions, ['--model', dir, '--model-names', 'bench', '--controller', controller.address, '--listen', '127.0.0.1:0', '--metrics-listen', '127.0.0.1:0', '--threads', '1', '--heartbeat-interval', '1s']), logger));
  }
  for (const w of workers) await w.registration?.registered;
  const gateway = (args: string[]) => startGateway(parseConfig(gatewayOptions, ['--controller', controller.address, '--listen', '127.0.0.1:0', '--db', ':memory:', ...args]), logger);
  const routed = await gateway([]);
  const plain = await gateway(['--prefix-routing', 'off']);
  try {
    for (const g of [routed, plain]) {
      const start = Date.now();
      while (!g.ctx.view.models().some((m) => m.workers === 2)) {
        if (Date.now() - start > 10_000) throw new Error('the gateways did not see both workers');
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    // Warm both workers (first runs allocate) with a conversation nobody repeats.
    await Promise.all([conversation(routed.url, 'warm-up a', questions.slice(0, 1), 4), conversation(plain.url, 'warm-up b', questions.slice(0, 1), 4)]);
    const turn5 = { routed: [] as number[], plain: [] as number[] };
    const hits = { routed: 0, plain: 0 };
    for (let c = 0; c < options.conversations; c++) {
      for (const [name, g] of [['routed', routed], ['plain', plain]] as const) {
        const system = `You are assistant number ${c} (${name}) for people who run language models in production. Answer clearly.`;
        const turns = await conversation(g.url, system, questions, options.maxTokens);
        turn5[name].push(turns[turns.length - 1].ttftMs);
        hits[name] += turns.slice(1).filter((t) => t.cachedTokens > 0).length;
      }
    }
    const later = options.conversations * (questions.length - 1);
    return { routedMs: median(turn5.routed), plainMs: median(turn5.plain), routedHitRate: hits.routed / later, plainHitRate: hits.plain / later, conversations: options.conversations };
  } finally {
    await routed.stop();
    await plain.stop();
    for (const w of workers) await w.stop();
    await controller.stop(500);
    agent.destroy();
  }
}
