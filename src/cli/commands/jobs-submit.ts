/** `fleetchat jobs submit [options] -- <jobs command> [args...]`: run a jobs command as a Kubernetes Job. */
import type { Command } from 'commander';
import { addOptions, readConfig } from '../../common/config';
import { SUBMIT_OPTIONS } from '../../jobs/submit/options';
import { runSubmit } from '../../jobs/submit/main';
import { jobsCommand } from './jobs';

export function register(program: Command): void {
  const jobs = jobsCommand(program);
  const command = jobs
    .command('submit')
    .description('run a `fleetchat jobs` command as a Kubernetes Job (image, PVC volumes, env from Secrets, resources) and follow it to completion')
    .argument('<command...>', 'the jobs command and its arguments, e.g. -- clean-sharegpt --in /data/in.json --out /data/out.json')
    .passThroughOptions();
  addOptions(command, SUBMIT_OPTIONS).action(async (args: string[], opts: Record<string, unknown>) => {
    const known = jobs.commands.map((c) => c.name()).filter((n) => n !== 'submit');
    const controller = new AbortController();
    const stop = (): void => controller.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      process.exitCode = await runSubmit({ config: readConfig(SUBMIT_OPTIONS, opts), command: args, known, out: (line) => process.stdout.write(`${line}\n`), signal: controller.signal });
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  });
}
