/** Every registered command. Add a new command as its own file and list it here (one line). */
import type { Command } from 'commander';
import { register as controller } from './controller';

export type RegisterCommand = (program: Command) => void;

export const COMMANDS: RegisterCommand[] = [
  controller,
];
