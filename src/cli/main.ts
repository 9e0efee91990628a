#!/usr/bin/env node
/** Entry point of the `fleetchat` binary. */
import { CommanderError } from 'commander';
import { FleetError } from '../common/errors';
import { buildProgram } from './program';

async function main(): Promise<void> {
  try {
    const program = (await buildProgram(process.argv.slice(2))).exitOverride();
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    const message = err instanceof FleetError ? `${err.kind}: ${err.message}` : err instanceof Error ? err.message : String(err);
    process.stderr.write(`fleetchat: ${message}\n`);
    process.exitCode = err instanceof FleetError && err.kind === 'invalid_request' ? 2 : 1;
  }
}

void main();
