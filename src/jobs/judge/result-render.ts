/** show-result's text tables: FastChat's headings and columns, plus the per-category table. */
import type { CategoryTable, PairRow, SingleRow } from './result-compute';
import { byValueDesc } from './result-compute';

type Cell = string | number | null;

function formatCell(value: Cell, decimals: number): string {
  if (value === null) return '-';
  if (typeof value === 'number') return Number.isInteger(value) && decimals === 0 ? String(value) : value.toFixed(decimals);
  return value;
}

/** Left-aligned first column, right-aligned others. */
export function renderTable(header: string[], rows: Cell[][], decimals: number[]): string {
  const text = rows.map((row) => row.map((cell, i) => formatCell(cell, decimals[i] ?? 0)));
  const widths = header.map((h, i) => Math.max(h.length, ...text.map((r) => r[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return [line(header), ...text.map(line)].join('\n');
}

function turnTable(title: string, rows: SingleRow[], pick: (r: SingleRow) => number | null, turn: string): string {
  const present = rows.filter((r) => pick(r) !== null).sort(byValueDesc(pick));
  const header = turn === '' ? ['model', 'score'] : ['model', 'turn', 'score'];
  const body = present.map((r): Cell[] => (turn === '' ? [r.model, pick(r)] : [r.model, turn, pick(r)]));
  return `\n########## ${title} ##########\n${renderTable(header, body, header.map((_, i) => (i === header.length - 1 ? 6 : 0)))}`;
}

/** First turn; second turn and the average when any turn-2 judgment exists (MT-bench). */
export function renderSingle(rows: SingleRow[]): string {
  const parts = [turnTable('First turn', rows, (r) => r.turn1, '1')];
  if (rows.some((r) => r.turn2 !== null)) {
    parts.push(turnTable('Second turn', rows, (r) => r.turn2, '2'), turnTable('Average', rows, (r) => r.average, ''));
  }
  return parts.join('\n');
}

export function renderPairwise(rows: PairRow[]): string {
  const header = ['model', 'win', 'loss', 'tie', 'win_rate', 'loss_rate', 'win_rate_adjusted'];
  const body = rows.map((r): Cell[] => [r.model, r.win, r.loss, r.tie, r.win_rate, r.loss_rate, r.win_rate_adjusted]);
  return `\n${renderTable(header, body, [0, 0, 0, 0, 6, 6, 6])}`;
}

/** Models in the order of `modelOrder`, one column per category. */
export function renderCategories(table: CategoryTable, modelOrder: string[], what: string): string {
  const body = modelOrder
    .filter((m) => table.values.has(m))
    .map((m): Cell[] => [m, ...table.categories.map((c) => table.values.get(m)?.get(c) ?? null)]);
  const decimals = [0, ...table.categories.map(() => 3)];
  return `\n########## Per category (${what}) ##########\n${renderTable(['model', ...table.categories], body, decimals)}`;
}
