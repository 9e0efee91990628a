/** `fleetchat judge serve`: the Judge gRPC service (src/jobs/judge). */
import type { Command } from 'commander';
import { addOptions, readConfig } from '../../common/config';
import { jobLogger } from '../../jobs/judge/judge-options';
import { JUDGE_SERVE_OPTIONS, runJudgeServe } from '../../jobs/judge/serve-main';

export function register(program: Command): void {
  const judge = program.command('judge').description('LLM-as-a-judge (MT-bench) service');
  const serve = judge
    .command('serve')
    .description('serve fleetchat.v1.Judge: FastChat judge prompts, any OpenAI-compatible judge model');
  addOptions(serve, JUDGE_SERVE_OPTIONS).action(async (opts: Record<string, unknown>) => {
    const config = readConfig(JUDGE_SERVE_OPTIONS, opts);
    await runJudgeServe(config, jobLogger(config.logLevel, 'judge'));
  });
}
