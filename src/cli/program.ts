/** The `fleetchat` command tree. Each command lives in its own file under commands/ and is listed in commands/index.ts. */
import { Command } from 'commander';
import { COMMANDS, type CommandEntry } from './commands';
import { VERSION } from './version';

/**
 * The entries a command line needs: the one its first word names, or every entry when it names none or one that does
 * not exist (`--help`, `help worker`, a typo: commander lists them all or suggests the nearest).
 */
export function entriesFor(args: readonly string[] | undefined): readonly CommandEntry[] {
  const word = args?.find((a) => !a.startsWith('-'));
  const named = word === undefined ? undefined : COMMANDS.find((e) => e.names.includes(word));
  return named ? [named] : COMMANDS;
}

/**
 * Builds the program; with `args` (the user's arguments, without node and the script) only the named command's
 * modules are loaded.
 */
export async function buildProgram(args?: readonly string[]): Promise<Command> {
  const program = new Command('fleetchat')
    .description('FastChat rebuilt in TypeScript: serve, evaluate and train LLM chatbots on a gRPC cluster with a Kubernetes operator.')
    .version(VERSION, '-V, --version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ sortSubcommands: true, showGlobalOptions: true })
    .enablePositionalOptions();
  for (const entry of entriesFor(args)) for (const register of await entry.load()) register(program);
  return program;
}
