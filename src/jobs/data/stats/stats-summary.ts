/**
 * Running totals for get-stats, in bounded memory (sums and a histogram, never the list of lengths), printed
 * the way FastChat's get_stats.py prints them, plus role counts and maxima.
 */
import type { RecordStats } from '../record-result';

/** FastChat's histogram bin edges (numpy semantics: [a, b) except the last bin, which includes its end). */
export const HISTOGRAM_EDGES = [0, 1024, 2048, 4096, 8192, 16384, 32768];

export interface StatsSummary {
  unit: 'tokens' | 'characters';
  sequences: number;
  totalLength: number;
  avgTurns: number;
  avgPromptLength: number;
  avgResponseLength: number;
  maxSampleLength: number;
  histogram: Array<{ from: number; to: number; count: number }>;
  /** Samples longer than the last edge (numpy leaves them out of the histogram). */
  beyondHistogram: number;
  roles: Record<string, number>;
}

export class StatsAccumulator {
  private sequences = 0;
  private turns = 0;
  private prompts = { sum: 0, count: 0 };
  private responses = { sum: 0, count: 0 };
  private total = 0;
  private max = 0;
  private beyond = 0;
  private readonly bins = new Array<number>(HISTOGRAM_EDGES.length - 1).fill(0);
  private readonly roles = new Map<string, number>();

  constructor(private readonly unit: StatsSummary['unit']) {}

  add(stats: RecordStats): void {
    this.sequences++;
    this.turns += stats.turns;
    for (const p of stats.promptLengths) this.prompts.sum += p;
    for (const r of stats.responseLengths) this.responses.sum += r;
    this.prompts.count += stats.promptLengths.length;
    this.responses.count += stats.responseLengths.length;
    this.total += stats.sampleLength;
    this.max = Math.max(this.max, stats.sampleLength);
    this.addToHistogram(stats.sampleLength);
    for (const role of stats.roles) this.roles.set(role, (this.roles.get(role) ?? 0) + 1);
  }

  summary(): StatsSummary {
    const mean = (sum: number, count: number): number => (count === 0 ? 0 : sum / count);
    return {
      unit: this.unit,
      sequences: this.sequences,
      totalLength: this.total,
      avgTurns: mean(this.turns, this.sequences),
      avgPromptLength: mean(this.prompts.sum, this.prompts.count),
      avgResponseLength: mean(this.responses.sum, this.responses.count),
      maxSampleLength: this.max,
      histogram: this.bins.map((count, i) => ({ from: HISTOGRAM_EDGES[i], to: HISTOGRAM_EDGES[i + 1], count })),
      beyondHistogram: this.beyond,
      roles: Object.fromEntries([...this.roles.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    };
  }

  private addToHistogram(length: number): void {
    const last = HISTOGRAM_EDGES[HISTOGRAM_EDGES.length - 1];
    if (length > last || length < HISTOGRAM_EDGES[0]) {
      this.beyond++;
      return;
    }
    let bin = HISTOGRAM_EDGES.findIndex((edge) => length < edge) - 1;
    if (bin < 0) bin = this.bins.length - 1;
    this.bins[bin]++;
  }
}

/** FastChat's printout (`#sequence: 1.23 K`, `#tokens: …`, averages, histogram). */
export function formatStats(s: StatsSummary): string {
  const lines = [
    `#sequence: ${(s.sequences / 1e3).toFixed(2)} K`,
    `#${s.unit}: ${(s.totalLength / 1e6).toFixed(2)} M`,
    `avg. turns: ${s.avgTurns.toFixed(2)}`,
    `avg. prompt length: ${s.avgPromptLength.toFixed(2)}`,
    `avg. response length: ${s.avgResponseLength.toFixed(2)}`,
    `max. sample length: ${s.maxSampleLength}`,
    '',
    '- Histogram -',
    ...s.histogram.map((b) => `L${b.from} - ${b.to}: ${b.count}`),
    `> ${HISTOGRAM_EDGES[HISTOGRAM_EDGES.length - 1]}: ${s.beyondHistogram}`,
    '',
    '- Roles -',
    ...Object.entries(s.roles).map(([role, n]) => `${role}: ${n}`),
  ];
  return `${lines.join('\n')}\n`;
}
