/**
 * llama.cpp's OpenAI-compatible server (llama-cpp-python[server], built once by scripts/install-llama-server into
 * ~/.cache/fleetchat/llama-venv; CI runs the script before the tests) serving a GGUF on 127.0.0.1 for the
 * external-engine tests and bench:adapter. One generation at a time (`--interrupt_requests False`: a new request
 * waits for the running one, so a test can tell whether a cancelled generation really stopped).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from './free-port';
export { freePort };

const ROOT = join(__dirname, '../..');
let python: string | undefined;

export function llamaServerPython(): string {
  if (python !== undefined) return python;
  process.stderr.write('llama.cpp tests: ensuring the llama.cpp server (scripts/install-llama-server; cached under ~/.cache/fleetchat/llama-venv)\n');
  python = execFileSync(join(ROOT, 'scripts/install-llama-server'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 30 * 60_000 }).trim();
  return python;
}


export interface LlamaServer {
  url: string;
  port: number;
  alias: string;
  process: ChildProcess;
  /** SIGKILL (the engine dies) and wait for the exit. */
  kill(): Promise<void>;
}

export interface LlamaServerOptions {
  gguf: string;
  alias?: string;
  port?: number;
  threads?: number;
  /** Requests must carry this bearer key (llama-cpp-python's --api_key). */
  apiKey?: string;
}

async function waitUp(url: string, child: ChildProcess, log: () => string, timeoutMs: number, apiKey?: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`llama.cpp server exited with ${child.exitCode}: ${log().slice(-2000)}`);
    try {
      const res = await fetch(`${url}/v1/models`, { signal: AbortSignal.timeout(1000), headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {} });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`llama.cpp server did not start within ${timeoutMs} ms: ${log().slice(-2000)}`);
}

export async function startLlamaServer(options: LlamaServerOptions): Promise<LlamaServer> {
  const port = options.port ?? await freePort();
  const alias = options.alias ?? 'smollm2';
  const child = spawn(llamaServerPython(), [
    '-m', 'llama_cpp.server', '--model', options.gguf, '--model_alias', alias, '--host', '127.0.0.1', '--port', String(port),
    '--n_threads', String(options.threads ?? 1), '--n_ctx', '2048', '--interrupt_requests', 'False', '--verbose', 'False',
    ...(options.apiKey ? ['--api_key', options.apiKey] : []),
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const keep = (b: Buffer): void => {
    log = (log + b.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitUp(url, child, () => log, 120_000, options.apiKey);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    url,
    port,
    alias,
    process: child,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
