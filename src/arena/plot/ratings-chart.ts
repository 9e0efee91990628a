/**
 * "Rating with 95 % confidence interval" (FastChat's `visualize_bootstrap_elo_rating`): one point per model in
 * leaderboard order, an error bar from ci_low to ci_high, the rounded rating written above.
 */
import type { LeaderboardRow } from '../rating/leaderboard';
import { escapeXml, niceTicks, round, svgDocument, text } from './svg';

export interface RatingsChartOptions {
  /** At most this many models (the top of the leaderboard); FastChat shows 25. */
  limit?: number;
  title?: string;
}

const MARGIN = { left: 64, right: 24, top: 48, bottom: 150 };
const PLOT_HEIGHT = 360;

export function ratingsChartSvg(rows: LeaderboardRow[], options: RatingsChartOptions = {}): string {
  const shown = rows.slice(0, options.limit ?? 25);
  const title = options.title ?? 'Bradley-Terry rating with 95% confidence interval';
  const step = 36;
  const width = MARGIN.left + MARGIN.right + Math.max(1, shown.length) * step;
  const height = MARGIN.top + PLOT_HEIGHT + MARGIN.bottom;
  const finite = shown.flatMap((r) => [r.ci_low, r.ci_high, r.rating]).filter(Number.isFinite);
  const low = finite.length > 0 ? Math.min(...finite) : 900;
  const high = finite.length > 0 ? Math.max(...finite) : 1100;
  const pad = Math.max(10, (high - low) * 0.08);
  const [y0, y1] = [low - pad, high + pad];
  const y = (v: number): number => MARGIN.top + PLOT_HEIGHT * (1 - (v - y0) / (y1 - y0));
  const x = (i: number): number => MARGIN.left + step * (i + 0.5);
  const body: string[] = [text(width / 2, 24, title, 'text-anchor="middle" font-size="15" font-weight="bold"')];
  for (const tick of niceTicks(y0, y1)) {
    body.push(`<line x1="${MARGIN.left}" x2="${width - MARGIN.right}" y1="${round(y(tick))}" y2="${round(y(tick))}" stroke="#e5e5e5"/>`);
    body.push(text(MARGIN.left - 6, y(tick) + 4, String(tick), 'text-anchor="end" fill="#555"'));
  }
  body.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${MARGIN.top + PLOT_HEIGHT}" stroke="#333"/>`);
  body.push(text(16, MARGIN.top + PLOT_HEIGHT / 2, 'Rating', `text-anchor="middle" transform="rotate(-90 16 ${MARGIN.top + PLOT_HEIGHT / 2})"`));
  shown.forEach((row, i) => {
    const cx = round(x(i));
    body.push(`<g><title>${escapeXml(`${row.model}: ${row.rating.toFixed(1)} (95% CI ${row.ci_low.toFixed(1)} to ${row.ci_high.toFixed(1)})`)}</title>`);
    body.push(`<line x1="${cx}" x2="${cx}" y1="${round(y(row.ci_high))}" y2="${round(y(row.ci_low))}" stroke="#1f77b4" stroke-width="2"/>`);
    for (const v of [row.ci_low, row.ci_high]) body.push(`<line x1="${cx - 5}" x2="${cx + 5}" y1="${round(y(v))}" y2="${round(y(v))}" stroke="#1f77b4" stroke-width="2"/>`);
    body.push(`<circle cx="${cx}" cy="${round(y(row.rating))}" r="4" fill="#1f77b4"/>`);
    body.push(text(cx, y(row.ci_high) - 6, String(Math.round(row.rating)), 'text-anchor="middle" font-size="10"'));
    const ly = MARGIN.top + PLOT_HEIGHT + 10;
    body.push(text(cx, ly, row.model, `text-anchor="end" transform="rotate(-60 ${cx} ${ly})"`));
    body.push('</g>');
  });
  return svgDocument(width, height, title, body);
}
