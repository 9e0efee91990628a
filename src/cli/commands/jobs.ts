/**
 * The `fleetchat jobs` parent command. Every pipeline registers its subcommands on it through
 * `jobsCommand(program)`, which returns the existing `jobs` command or creates it once.
 */
import type { Command } from 'commander';

export function jobsCommand(program: Command): Command {
  const existing = program.commands.find((c) => c.name() === 'jobs');
  if (existing) return existing;
  return program
    .command('jobs')
    .description('data, judge and arena pipelines: each runs here or as a Kubernetes Job');
}
