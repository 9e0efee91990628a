/**
 * A labelled heat map (FastChat's win-fraction and battle-count plots): rows are model A, columns model B, each
 * cell coloured and printed; empty cells (NaN) stay blank.
 */
import { escapeXml, round, svgDocument, text } from './svg';

export interface HeatmapInput {
  title: string;
  labels: string[];
  values: number[][];
  format(value: number): string;
  /** Fill colour of a finite value. */
  color(value: number): string;
  /** Hover text of a cell. */
  describe(row: string, column: string, value: number): string;
}

const CELL = 44;
const LABEL_SPACE = 170;
const TOP = 48;

function mix(from: [number, number, number], to: [number, number, number], t: number): string {
  const c = from.map((f, i) => Math.round(f + (to[i] - f) * Math.min(1, Math.max(0, t))));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

/** Red (0) – white (0.5) – blue (1), like plotly's RdBu. */
export function divergingColor(value: number): string {
  return value < 0.5 ? mix([178, 24, 43], [247, 247, 247], value / 0.5) : mix([247, 247, 247], [33, 102, 172], (value - 0.5) / 0.5);
}

/** White to dark blue over [0, max]. */
export function sequentialColor(max: number): (value: number) => string {
  return (value) => mix([247, 251, 255], [8, 48, 107], max > 0 ? value / max : 0);
}

export function heatmapSvg(input: HeatmapInput): string {
  const n = input.labels.length;
  const size = LABEL_SPACE + n * CELL + 24;
  const gridTop = TOP + LABEL_SPACE;
  const body: string[] = [text(size / 2, 24, input.title, 'text-anchor="middle" font-size="15" font-weight="bold"')];
  body.push(text(LABEL_SPACE + (n * CELL) / 2, TOP + 12, 'Model B', 'text-anchor="middle" fill="#555"'));
  body.push(text(14, gridTop + (n * CELL) / 2, 'Model A', `text-anchor="middle" fill="#555" transform="rotate(-90 14 ${gridTop + (n * CELL) / 2})"`));
  input.labels.forEach((label, i) => {
    const cx = LABEL_SPACE + CELL * (i + 0.5);
    body.push(text(cx, gridTop - 8, label, `text-anchor="start" transform="rotate(-60 ${round(cx)} ${gridTop - 8})"`));
    body.push(text(LABEL_SPACE - 6, gridTop + CELL * (i + 0.5) + 4, label, 'text-anchor="end"'));
  });
  input.values.forEach((row, r) => row.forEach((value, c) => {
    const x = LABEL_SPACE + c * CELL;
    const y = gridTop + r * CELL;
    const fill = Number.isFinite(value) ? input.color(value) : '#ffffff';
    body.push(`<g><title>${escapeXml(input.describe(input.labels[r], input.labels[c], value))}</title>`);
    body.push(`<rect x="${x}" y="${y}" width="${CELL}" height="${CELL}" fill="${fill}" stroke="#dddddd"/>`);
    if (Number.isFinite(value)) body.push(text(x + CELL / 2, y + CELL / 2 + 4, input.format(value), 'text-anchor="middle" font-size="11"'));
    body.push('</g>');
  }));
  return svgDocument(size, gridTop + n * CELL + 24, input.title, body);
}
