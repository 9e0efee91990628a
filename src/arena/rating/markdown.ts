/** The leaderboard as a markdown table (FastChat's `visualize_leaderboard_table`, with the interval and counts). */
import type { Leaderboard } from './leaderboard';

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

export function leaderboardMarkdown(board: Leaderboard): string {
  const lines = [
    '| Rank | Model | Rating | 95% CI | Online Elo | Battles |',
    '| ---: | --- | ---: | ---: | ---: | ---: |',
    ...board.models.map((row) => {
      const plus = Math.round(row.ci_high - row.rating);
      const minus = Math.round(row.rating - row.ci_low);
      return `| ${row.rank} | ${cell(row.model)} | ${Math.round(row.rating)} | +${plus}/-${minus} | ${Math.round(row.elo_online)} | ${row.battles} |`;
    }),
  ];
  const anchor = board.anchor.applied ? `${board.anchor.model} = ${board.anchor.rating}` : 'mean rating = 1000';
  const notes = [
    '',
    `${board.battles} battles, Bradley-Terry ratings anchored at ${anchor}, 95% intervals from ${board.bootstrap_rounds} bootstrap rounds (seed ${board.seed}).`,
    'Rank = 1 + the number of models whose interval lies entirely above this model\'s.',
    ...board.warnings.map((w) => `\n> Warning: ${w}`),
  ];
  return `${[...lines, ...notes].join('\n')}\n`;
}
