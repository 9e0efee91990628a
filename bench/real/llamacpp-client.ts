/**
 * node-llama-cpp (pinned 3.21.1, llama.cpp's prebuilt CPU binaries) driven through llamacpp-runner.mjs in
 * a child process: node-llama-cpp is ESM-only, which jest's CommonJS sandbox cannot load.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import { join } from 'node:path';

const RUNNER = join(__dirname, 'llamacpp-runner.mjs');

export interface LlamaCppStep {
  token: number;
  /** [token, probability] pairs, most probable first. */
  top: Array<[number, number]>;
}

export interface BenchRun {
  /** Time to the first generated token (prefill) and to the last. */
  firstMs: number;
  totalMs: number;
  tokens: number;
  promptTokens: number;
}

export class LlamaCpp {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: Interface;
  private readonly waiting: Array<{ resolve: (line: string) => void; reject: (err: Error) => void }> = [];
  private stderr = '';
  private exited: Error | undefined;

  private constructor() {
    this.child = spawn(process.execPath, [RUNNER], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    this.lines = createInterface({ input: this.child.stdout });
    this.lines.on('line', (line) => this.waiting.shift()?.resolve(line));
    this.child.on('exit', (code) => {
      this.exited = new Error(`llama.cpp runner exited (${code}): ${this.stderr}`);
      for (const w of this.waiting.splice(0)) w.reject(this.exited);
    });
  }

  static async open(modelPath: string, options: { threads?: number; contextSize?: number; sequences?: number; vocabOnly?: boolean; kvCacheType?: 'F32' | 'F16' } = {}): Promise<LlamaCpp> {
    const runner = new LlamaCpp();
    await runner.call('load', { modelPath, threads: options.threads ?? 2, contextSize: options.contextSize ?? 1024, sequences: options.sequences ?? 1, vocabOnly: options.vocabOnly, kvCacheType: options.kvCacheType });
    return runner;
  }

  private async call<T>(cmd: string, args: Record<string, unknown>): Promise<T> {
    if (this.exited) throw this.exited;
    const line = await new Promise<string>((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.child.stdin.write(`${JSON.stringify({ cmd, ...args })}\n`);
    });
    const answer = JSON.parse(line) as { ok: boolean; error?: string } & T;
    if (!answer.ok) throw new Error(`llama.cpp runner: ${answer.error}`);
    return answer;
  }

  async tokenize(text: string, special = true): Promise<number[]> {
    return (await this.call<{ ids: number[] }>('tokenize', { text, special })).ids;
  }

  async detokenize(ids: number[], special = true): Promise<string> {
    return (await this.call<{ text: string }>('detokenize', { ids, special })).text;
  }

  async greedy(prompt: number[], steps: number): Promise<number[]> {
    return (await this.call<{ tokens: number[] }>('greedy', { prompt, steps })).tokens;
  }

  async stepProbabilities(prompt: number[], steps: number, top = 5): Promise<LlamaCppStep[]> {
    return (await this.call<{ steps: LlamaCppStep[] }>('stepProbabilities', { prompt, steps, top })).steps;
  }

  /** Greedy generation of `steps` tokens for every prompt at once (one context sequence each). */
  async bench(prompts: number[][], steps: number): Promise<{ results: BenchRun[]; wallMs: number }> {
    return this.call('bench', { prompts, steps });
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}
