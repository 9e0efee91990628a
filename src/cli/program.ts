/** The `fleetchat` command tree. Each command lives in its own file under commands/ and registers itself here. */
import { Command } from 'commander';
import { COMMANDS } from './commands';
import { VERSION } from './version';

export function buildProgram(): Command {
  const program = new Command('fleetchat')
    .description('FastChat rebuilt in TypeScript: serve, evaluate and train LLM chatbots on a gRPC cluster with a Kubernetes operator.')
    .version(VERSION, '-V, --version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ sortSubcommands: true, showGlobalOptions: true })
    .enablePositionalOptions();
  for (const register of COMMANDS) register(program);
  return program;
}
