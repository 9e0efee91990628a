/**
 * Results of bench:train: per-step JSON lines of each runner -> non-padding tokens/s over the measured steps (after
 * warm-up), padding share, peak memory, ratios and MFU; a table and the one JSON line.
 */

export interface StepLine {
  event: string;
  step?: number;
  tokens?: number;
  padded_tokens?: number;
  step_time_s?: number;
  peak_gpu_bytes?: number;
  peak_rss_bytes?: number;
}

export interface RunnerResult {
  runner: string;
  data: string;
  tokensPerS: number;
  paddingShare: number;
  peakBytes: number | undefined;
  steps: number;
}

export function summarise(runner: string, data: string, lines: StepLine[], warmup: number): RunnerResult {
  const steps = lines.filter((l) => l.event === 'step' && typeof l.tokens === 'number' && typeof l.step_time_s === 'number');
  const measured = steps.slice(warmup);
  if (measured.length === 0) throw new Error(`${runner} on ${data}: no steps after ${warmup} warm-up steps (got ${steps.length})`);
  const tokens = measured.reduce((n, l) => n + l.tokens!, 0);
  const padded = measured.reduce((n, l) => n + (l.padded_tokens ?? l.tokens!), 0);
  const seconds = measured.reduce((n, l) => n + l.step_time_s!, 0);
  const done = lines.find((l) => l.event === 'done');
  return { runner, data, tokensPerS: tokens / seconds, paddingShare: padded > 0 ? 1 - tokens / padded : 0, peakBytes: done?.peak_gpu_bytes ?? done?.peak_rss_bytes, steps: measured.length };
}

export interface ModelShape {
  layers: number;
  hidden: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  intermediate: number;
  vocab: number;
}

/** Training FLOPs per real token: 6 × matmul parameters (lm_head included) + causal attention inside each sample. */
export function flopsPerToken(m: ModelShape, span: number): number {
  const perLayer = m.hidden * m.heads * m.headDim * 2 + m.hidden * m.kvHeads * m.headDim * 2 + 3 * m.hidden * m.intermediate;
  const matmul = m.layers * perLayer + m.vocab * m.hidden;
  return 6 * matmul + 6 * m.layers * m.heads * m.headDim * span;
}

export const H100_BF16_PEAK = 989.4e12;

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function table(device: string, results: RunnerResult[], mfuOf: (r: RunnerResult) => number | undefined): string {
  const rows = [['data', 'runner', 'real tokens/s', 'padding', 'peak memory', 'vs FastChat', 'MFU']];
  for (const r of results) {
    const fc = results.find((x) => x.data === r.data && x.runner === 'fastchat');
    const mfu = mfuOf(r);
    rows.push([r.data, r.runner, fmt(r.tokensPerS), `${(r.paddingShare * 100).toFixed(1)}%`, r.peakBytes ? `${(r.peakBytes / 2 ** 30).toFixed(2)} GiB` : '-',
      fc ? `${(r.tokensPerS / fc.tokensPerS).toFixed(2)}×` : '-', mfu === undefined ? '-' : `${(mfu * 100).toFixed(2)}%`]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  const line = (row: string[]): string => `| ${row.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [`${device}`, line(rows[0]), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}

/** The figures of one dataset for the JSON line. */
export function figures(results: RunnerResult[], data: string, ours: string, mfuOf: (r: RunnerResult) => number | undefined): Record<string, number | null> {
  const get = (runner: string): RunnerResult | undefined => results.find((r) => r.data === data && r.runner === runner);
  const o = get(ours);
  const fc = get('fastchat');
  const naive = get('naive_packed');
  const round = (n: number | undefined, d = 1): number | null => (n === undefined ? null : Math.round(n * 10 ** d) / 10 ** d);
  return {
    tokens_per_s: round(o?.tokensPerS),
    fastchat_tokens_per_s: round(fc?.tokensPerS),
    ratio: o && fc ? round(o.tokensPerS / fc.tokensPerS, 2) : null,
    naive_packed_tokens_per_s: round(naive?.tokensPerS),
    ratio_vs_naive_packed: o && naive ? round(o.tokensPerS / naive.tokensPerS, 2) : null,
    mfu: o ? round(mfuOf(o), 4) : null,
    peak_gib: o?.peakBytes ? round(o.peakBytes / 2 ** 30, 2) : null,
    fastchat_peak_gib: fc?.peakBytes ? round(fc.peakBytes / 2 ** 30, 2) : null,
  };
}
