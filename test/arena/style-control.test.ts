/**
 * Style control (`jobs elo --style-control`) on a synthetic battle log whose votes follow a known model: true
 * strengths plus a known preference for longer answers, and one model that writes about three times as much.
 * The style-controlled ratings must match an independent implementation (scripts/compat/style_control_reference.py:
 * numpy + scipy in a pinned, cached venv from scripts/install-style-reference) within 0.5 points, recover the length
 * effect, and undo the verbose model's inflated raw rating.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { parseConfig } from '../../src/common/config';
import { silentLogger } from '../../src/common/log';
import { answerStyle } from '../../src/arena/rating/style/style-features';
import { ELO_JOB_SCHEMA } from '../../src/jobs/arena/elo-config';
import { runEloJob } from '../../src/jobs/arena/elo-job';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');
const TRUE_STRENGTH: Record<string, number> = { m0: 0.6, m1: 0.3, m2: 0, m3: -0.2, verbose: 0 };
const LENGTH_EFFECT = 0.6; // log-odds per unit of (lenA - lenB) / (lenA + lenB)

/** Markdown comes at random for every model; the verbose one writes about three times as much. */
function answerOf(model: string, draw: (n: number) => number): string {
  const words = model === 'verbose' ? 60 + draw(120) : 10 + draw(60);
  const header = draw(3) === 0 ? '## Answer\n\n' : '';
  const list = draw(3) === 0 ? `\n${Array.from({ length: 1 + draw(4) }, (_, i) => `- item ${i}`).join('\n')}` : '';
  const bold = draw(3) === 0 ? ' **note**' : '';
  return `${header}${'word '.repeat(words)}${bold}${list}`;
}

describe('style control', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'style-control-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('matches an independent numpy/scipy fit within 0.5 points and removes a known length effect', async () => {
    const rng = xoroshiro128plus(7);
    const draw = (n: number): number => uniformInt(rng, 0, n - 1);
    const models = Object.keys(TRUE_STRENGTH);
    const lines: string[] = [];
    for (let k = 0; k < 5000; k++) {
      const i = draw(models.length);
      const j = (i + 1 + draw(models.length - 1)) % models.length;
      const [ma, mb] = [models[i], models[j]];
      const [ta, tb] = [answerOf(ma, draw), answerOf(mb, draw)];
      const [la, lb] = [answerStyle(ta).length, answerStyle(tb).length];
      const p = 1 / (1 + Math.exp(-(TRUE_STRENGTH[ma] - TRUE_STRENGTH[mb] + LENGTH_EFFECT * ((la - lb) / (la + lb)))));
      const u = draw(1_000_000) / 1_000_000;
      const winner = draw(10) === 0 ? 'tie' : u < p ? 'model_a' : 'model_b';
      lines.push(JSON.stringify({
        question_id: `q${k}`, model_a: ma, model_b: mb, winner, judge: `j${k % 50}`, anony: true, tstamp: 1000 + k,
        conversation_a: [{ role: 'user', content: 'q' }, { role: 'assistant', content: ta }],
        conversation_b: [{ role: 'user', content: 'q' }, { role: 'assistant', content: tb }],
      }));
    }
    const log = join(dir, 'battles.jsonl');
    writeFileSync(log, `${lines.join('\n')}\n`);

    const { board, files } = await runEloJob(parseConfig(ELO_JOB_SCHEMA, ['--battles', log, '--out', join(dir, 'out'), '--style-control', '--bootstrap', '20']), silentLogger());
    expect(files.map((f) => f.split('/').pop())).toContain('ratings-style-control.svg');
    expect(board.style_control).toMatchObject({ battles: 5000, converged: true });

    const python = (await run(join(ROOT, 'scripts/install-style-reference'), { timeout: 600_000 })).stdout.trim().split('\n').pop()!;
    const reference = JSON.parse((await run(python, [join(ROOT, 'scripts/compat/style_control_reference.py'), log])).stdout) as { ratings: Record<string, number>; beta: number[]; converged: boolean };
    expect(reference.converged).toBe(true);
    for (const row of board.models) {
      expect([row.model, Math.abs(row.style_rating! - reference.ratings[row.model])]).toEqual([row.model, expect.any(Number)]);
      expect(Math.abs(row.style_rating! - reference.ratings[row.model])).toBeLessThan(0.5);
      expect(row.style_ci_low!).toBeLessThanOrEqual(row.style_rating!);
      expect(row.style_ci_high!).toBeGreaterThanOrEqual(row.style_rating!);
    }
    expect(board.style_control!.coefficients.length).toBeCloseTo(reference.beta[0], 3);
    expect(board.style_control!.coefficients.length).toBeGreaterThan(0.1);

    // The verbose model is as strong as m2 in truth: raw ratings favour it, style-controlled ones do not.
    const row = (model: string) => board.models.find((r) => r.model === model)!;
    expect(row('verbose').rating - row('m2').rating).toBeGreaterThan(30);
    expect(Math.abs(row('verbose').style_rating! - row('m2').style_rating!)).toBeLessThan(row('verbose').rating - row('m2').rating - 20);
    const markdown = readFileSync(join(dir, 'out', 'leaderboard.md'), 'utf8');
    expect(markdown).toContain('Style-controlled rating');
    process.stdout.write(`style control: verbose - m2 raw ${(row('verbose').rating - row('m2').rating).toFixed(1)}, style-controlled ${(row('verbose').style_rating! - row('m2').style_rating!).toFixed(1)}; max |fleetchat - scipy| ${Math.max(...board.models.map((r) => Math.abs(r.style_rating! - reference.ratings[r.model]))).toFixed(4)}\n`);
  }, 600_000);
});
