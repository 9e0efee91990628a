/** `fleetchat jobs gen-model-answer | gen-judgment | show-result` (MT-bench pipeline, src/jobs/judge). */
import type { Command } from 'commander';
import { addOptions, readConfig } from '../../common/config';
import { GEN_MODEL_ANSWER_OPTIONS, runGenModelAnswer } from '../../jobs/judge/answer-main';
import { GEN_JUDGMENT_EXAMPLES, GEN_MODEL_ANSWER_EXAMPLES } from '../../jobs/judge/help-examples';
import { jobLogger } from '../../jobs/judge/judge-options';
import { GEN_JUDGMENT_OPTIONS, runGenJudgment } from '../../jobs/judge/judgment-main';
import { runShowResult, SHOW_RESULT_OPTIONS } from '../../jobs/judge/result-main';
import { jobsCommand } from './jobs';

export function register(program: Command): void {
  const jobs = jobsCommand(program);
  addOptions(jobs.command('gen-model-answer').description('answer MT-bench-style questions with models behind an OpenAI-compatible endpoint'), GEN_MODEL_ANSWER_OPTIONS)
    .addHelpText('after', GEN_MODEL_ANSWER_EXAMPLES)
    .action(async (opts: Record<string, unknown>) => {
      const config = readConfig(GEN_MODEL_ANSWER_OPTIONS, opts);
      const s = await runGenModelAnswer(config, jobLogger(config.logLevel, 'gen-model-answer'));
      process.stdout.write(`answered ${s.answered}, already answered ${s.alreadyAnswered} -> ${s.files.join(', ')}\n`);
    });
  addOptions(jobs.command('gen-judgment').description('judge model answers (single, pairwise-baseline, pairwise-all) with an LLM judge'), GEN_JUDGMENT_OPTIONS)
    .addHelpText('after', GEN_JUDGMENT_EXAMPLES)
    .action(async (opts: Record<string, unknown>) => {
      const config = readConfig(GEN_JUDGMENT_OPTIONS, opts);
      const s = await runGenJudgment(config, jobLogger(config.logLevel, 'gen-judgment'));
      process.stdout.write(`judged ${s.judged}, already judged ${s.alreadyJudged} of ${s.matches} -> ${s.outputFile}\n`);
    });
  addOptions(jobs.command('show-result').description("MT-bench results: FastChat's tables, per category, SVG chart, JSON"), SHOW_RESULT_OPTIONS)
    .action((opts: Record<string, unknown>) => {
      const config = readConfig(SHOW_RESULT_OPTIONS, opts);
      process.stdout.write(runShowResult(config, jobLogger(config.logLevel, 'show-result')));
    });
}
