/** The leaderboard as a markdown table (FastChat's `visualize_leaderboard_table`, with the interval and counts). */
import type { Leaderboard } from './leaderboard';

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

function interval(rating: number, low: number, high: number): string {
  return `+${Math.round(high - rating)}/-${Math.round(rating - low)}`;
}

export function leaderboardMarkdown(board: Leaderboard): string {
  const style = board.style_control !== undefined;
  const styleRow = (row: Leaderboard['models'][number]): string => (row.style_rating === undefined
    ? ' – | – | – |'
    : ` ${row.style_rank} | ${Math.round(row.style_rating)} | ${interval(row.style_rating, row.style_ci_low!, row.style_ci_high!)} |`);
  const lines = [
    `| Rank | Model | Rating | 95% CI | Online Elo | Battles |${style ? ' Style-controlled rank | Style-controlled rating | 95% CI |' : ''}`,
    `| ---: | --- | ---: | ---: | ---: | ---: |${style ? ' ---: | ---: | ---: |' : ''}`,
    ...board.models.map((row) => `| ${row.rank} | ${cell(row.model)} | ${Math.round(row.rating)} | ${interval(row.rating, row.ci_low, row.ci_high)} | ${Math.round(row.elo_online)} | ${row.battles} |${style ? styleRow(row) : ''}`),
  ];
  const anchor = board.anchor.applied ? `${board.anchor.model} = ${board.anchor.rating}` : 'mean rating = 1000';
  const notes = [
    '',
    `${board.battles} battles, Bradley-Terry ratings anchored at ${anchor}, 95% intervals from ${board.bootstrap_rounds} bootstrap rounds (seed ${board.seed}).`,
    'Rank = 1 + the number of models whose interval lies entirely above this model\'s.',
    ...(board.style_control ? [`Style control (lmarena's): Bradley-Terry with answer length and markdown headers, lists and bold as covariates, fitted on ${board.style_control.battles} battles; coefficients ${Object.entries(board.style_control.coefficients).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ')}.`] : []),
    ...board.warnings.map((w) => `\n> Warning: ${w}`),
  ];
  return `${[...lines, ...notes].join('\n')}\n`;
}
