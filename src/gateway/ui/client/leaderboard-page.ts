/**
 * The leaderboard: Bradley-Terry rating with its 95 % interval, online Elo and battle counts per model (from the
 * votes of anonymous battles) and the ratings chart (SVG with intervals). The battle log holds every user's
 * conversations: it is an admin export (`GET /arena/battle-log` with an admin key), not offered here.
 */
import { getBlob, getJson } from './api';
import { h, replaceChildren, statusLine } from './dom';
import { messageOf, pageHeading, type Page } from './page';
import type { Leaderboard, LeaderboardRow } from './wire';

const CHART_ALT = 'Chart: Bradley-Terry rating of each model with its 95% confidence interval';

export class LeaderboardPage implements Page {
  readonly title = 'Leaderboard';
  readonly element: HTMLElement;
  private readonly summary = h('p', { class: 'summary' });
  private readonly tableArea = h('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': 'Leaderboard table' });
  private readonly warnings = h('ul', { class: 'warnings' });
  private readonly chart = h('img', { class: 'chart', alt: CHART_ALT, hidden: true });
  private readonly status = statusLine();
  private readonly styleToggle = h('input', { type: 'checkbox', id: 'style-control', onchange: () => void this.show() });
  private chartUrl: string | undefined;

  constructor() {
    this.element = h(
      'section',
      { class: 'page leaderboard-page' },
      pageHeading('Leaderboard'),
      h('div', { class: 'toolbar' },
        h('button', { type: 'button', onclick: () => void this.show() }, 'Refresh'),
        h('label', { for: 'style-control', class: 'toggle' }, this.styleToggle, ' Control for style (answer length and markdown)')),
      this.status,
      this.summary,
      this.tableArea,
      this.warnings,
      h('figure', { class: 'chart-figure' }, this.chart, h('figcaption', {}, 'Ratings with 95% confidence intervals (bootstrap).')),
    );
  }

  async show(): Promise<void> {
    this.status.textContent = 'Loading…';
    try {
      const style = this.styleToggle.checked;
      const query = style ? '?style_control=true' : '';
      const board = await getJson<Leaderboard>(`/arena/leaderboard${query}`);
      this.render(style ? styleControlled(board) : board, style);
      await this.loadChart(board, query);
      this.status.textContent = '';
    } catch (err) {
      this.status.textContent = `Cannot load the leaderboard: ${messageOf(err)}`;
    }
  }

  private render(board: Leaderboard, style: boolean): void {
    const when = board.last_tstamp === null ? '' : ` Last vote: ${new Date(board.last_tstamp * 1000).toLocaleString()}.`;
    const how = style ? ' Style-controlled: ratings as if every answer had the same length and markdown.' : '';
    this.summary.textContent = `${board.models.length} models, ${board.battles} rated battles (anonymous battles only).${how}${when}${board.stale ? ' Newer votes are still being rated.' : ''}`;
    if (board.models.length === 0) replaceChildren(this.tableArea, h('p', { class: 'placeholder' }, 'No votes yet: vote in the arena to rank the models.'));
    else replaceChildren(this.tableArea, table(board.models));
    replaceChildren(this.warnings, ...board.warnings.map((w) => h('li', {}, w)));
  }

  private async loadChart(board: Leaderboard, query: string): Promise<void> {
    if (board.models.length === 0) {
      this.chart.hidden = true;
      return;
    }
    const blob = await getBlob(`/arena/leaderboard.svg${query}`);
    if (this.chartUrl) URL.revokeObjectURL(this.chartUrl);
    this.chartUrl = URL.createObjectURL(blob);
    this.chart.src = this.chartUrl;
    this.chart.hidden = false;
  }
}

/** The board on its style-controlled ratings, ranks and intervals (models the style fit could not rate are left out). */
function styleControlled(board: Leaderboard): Leaderboard {
  const models = board.models
    .filter((r) => r.style_rating !== undefined)
    .map((r) => ({ ...r, rating: r.style_rating!, ci_low: r.style_ci_low!, ci_high: r.style_ci_high!, rank: r.style_rank! }))
    .sort((x, y) => y.rating - x.rating);
  return { ...board, models };
}

function signed(x: number): string {
  const r = Math.round(x);
  return r >= 0 ? `+${r}` : `−${-r}`;
}

function table(rows: LeaderboardRow[]): HTMLTableElement {
  const head = ['Rank', 'Model', 'Rating', '95% CI', 'Battles', 'Online Elo'];
  return h(
    'table',
    { class: 'leaderboard' },
    h('caption', {}, 'Models ranked by Bradley-Terry rating; a model ranks below every model whose interval lies entirely above its own'),
    h('thead', {}, h('tr', {}, ...head.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, ...rows.map((r) => h(
      'tr',
      { 'data-model': r.model },
      h('td', {}, String(r.rank)),
      h('th', { scope: 'row' }, r.model),
      h('td', { class: 'num' }, String(Math.round(r.rating))),
      h('td', { class: 'num', title: `${r.ci_low.toFixed(1)} to ${r.ci_high.toFixed(1)}` }, `${signed(r.ci_high - r.rating)} / ${signed(r.ci_low - r.rating)}`),
      h('td', { class: 'num' }, String(r.battles)),
      h('td', { class: 'num' }, String(Math.round(r.elo_online))),
    ))),
  );
}
