/**
 * The loss curve of a run as a standalone SVG (pure, no dependencies): the step lines of OUTPUT/trainer_log.jsonl,
 * which the trainer appends to across resumes (a step logged twice keeps its last value).
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseTrainerLine } from './events';

export interface LossPoint {
  step: number;
  loss: number;
}

const W = 640;
const H = 320;
const LEFT = 56;
const RIGHT = 16;
const TOP = 36;
const BOTTOM = 40;

export function readLossLog(path: string): LossPoint[] {
  if (!existsSync(path)) return [];
  const byStep = new Map<number, number>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const e = parseTrainerLine(line);
    if (e?.event === 'step' && Number.isFinite(e.loss)) byStep.set(e.step, e.loss);
  }
  return [...byStep.entries()].sort((a, b) => a[0] - b[0]).map(([step, loss]) => ({ step, loss }));
}

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function ticks(min: number, max: number, count: number): number[] {
  if (max <= min) return [min];
  return Array.from({ length: count + 1 }, (_, i) => min + ((max - min) * i) / count);
}

export function lossSvg(points: readonly LossPoint[], title: string): string {
  const plotW = W - LEFT - RIGHT;
  const plotH = H - TOP - BOTTOM;
  const steps = points.map((p) => p.step);
  const losses = points.map((p) => p.loss);
  const x0 = Math.min(0, ...steps);
  const x1 = Math.max(1, ...steps);
  const y0 = points.length ? Math.min(...losses) : 0;
  const y1 = points.length ? Math.max(...losses) : 1;
  const pad = (y1 - y0) * 0.05 || 0.5;
  const lo = y0 - pad;
  const hi = y1 + pad;
  const x = (s: number): number => LEFT + ((s - x0) / (x1 - x0)) * plotW;
  const y = (l: number): number => TOP + plotH - ((l - lo) / (hi - lo)) * plotH;
  const grid = ticks(lo, hi, 4).map((t) => `<line x1="${LEFT}" x2="${LEFT + plotW}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#ddd"/>` +
    `<text x="${LEFT - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end">${t.toFixed(2)}</text>`);
  const xt = ticks(x0, x1, 4).map((t) => `<text x="${x(t).toFixed(1)}" y="${TOP + plotH + 18}" text-anchor="middle">${Math.round(t)}</text>`);
  const path = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.step).toFixed(1)},${y(p.loss).toFixed(1)}`).join(' ');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(title)}</text>`,
    ...grid,
    ...xt,
    `<text x="${LEFT + plotW / 2}" y="${H - 6}" text-anchor="middle">step</text>`,
    `<text x="14" y="${TOP + plotH / 2}" text-anchor="middle" transform="rotate(-90 14 ${TOP + plotH / 2})">loss</text>`,
    points.length > 0 ? `<path d="${path}" fill="none" stroke="#4e79a7" stroke-width="2"/>` : `<text x="${W / 2}" y="${H / 2}" text-anchor="middle">no steps logged</text>`,
    '</svg>',
    '',
  ].join('\n');
}
