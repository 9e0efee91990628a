/** show-result's SVG chart: one group of bars per category, one bar per model (pure, no dependencies). */
import type { CategoryTable } from './result-compute';

export interface ChartOptions {
  title: string;
  /** Top of the value axis: 10 for scores, 1 for win rates. */
  maxValue: number;
  models: string[];
}

const COLORS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
const BAR_W = 14;
const GROUP_GAP = 24;
const PLOT_H = 260;
const LEFT = 48;
const TOP = 40;

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function axis(maxValue: number, plotW: number): string[] {
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * maxValue);
  return ticks.map((t) => {
    const y = TOP + PLOT_H - (t / maxValue) * PLOT_H;
    const label = maxValue >= 5 ? t.toFixed(1) : t.toFixed(2);
    return `<line x1="${LEFT}" x2="${LEFT + plotW}" y1="${y}" y2="${y}" stroke="#ddd"/><text x="${LEFT - 6}" y="${y + 4}" text-anchor="end">${label}</text>`;
  });
}

export function renderCategoryChartSvg(table: CategoryTable, options: ChartOptions): string {
  const models = options.models.filter((m) => table.values.has(m));
  const groupW = Math.max(1, models.length) * BAR_W + GROUP_GAP;
  const plotW = Math.max(1, table.categories.length) * groupW;
  const width = LEFT + plotW + 20;
  const legendY = TOP + PLOT_H + 44;
  const height = legendY + models.length * 18 + 10;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${LEFT}" y="20" font-size="14" font-weight="bold">${esc(options.title)}</text>`,
    ...axis(options.maxValue, plotW),
  ];
  table.categories.forEach((cat, ci) => {
    const x0 = LEFT + ci * groupW + GROUP_GAP / 2;
    models.forEach((m, mi) => {
      const value = table.values.get(m)?.get(cat);
      if (value === undefined) return;
      const h = (Math.max(0, Math.min(value, options.maxValue)) / options.maxValue) * PLOT_H;
      parts.push(`<rect x="${x0 + mi * BAR_W}" y="${(TOP + PLOT_H - h).toFixed(2)}" width="${BAR_W - 2}" height="${h.toFixed(2)}" fill="${COLORS[mi % COLORS.length]}"><title>${esc(m)} · ${esc(cat)}: ${value.toFixed(3)}</title></rect>`);
    });
    parts.push(`<text x="${x0 + (models.length * BAR_W) / 2}" y="${TOP + PLOT_H + 16}" text-anchor="middle">${esc(cat)}</text>`);
  });
  models.forEach((m, mi) => {
    const y = legendY + mi * 18;
    parts.push(`<rect x="${LEFT}" y="${y - 10}" width="12" height="12" fill="${COLORS[mi % COLORS.length]}"/><text x="${LEFT + 18}" y="${y}">${esc(m)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
