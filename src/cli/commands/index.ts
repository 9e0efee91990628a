/** Every registered command. Add a new command as its own file and list it here (one line). */
import type { Command } from 'commander';
import { register as controller } from './controller';
import { register as gateway } from './gateway';
import { register as up } from './up';
import { register as worker } from './worker';
import { register as generate } from './generate';
import { register as template } from './template';
import { register as judge } from './judge';
import { register as jobsJudge } from './jobs-judge';
import { register as jobsData } from './jobs-data';
import { register as jobsElo } from './jobs-elo';
import { register as model } from './model';
import { register as operator } from './operator';
import { register as jobsSubmit } from './jobs-submit';
import { register as jobsTrain } from './jobs-train';
import { register as client } from './client';
import { register as arena } from './arena';

export type RegisterCommand = (program: Command) => void;

export const COMMANDS: RegisterCommand[] = [
  judge,
  jobsJudge,
  jobsData,
  jobsElo,
  template,
  controller,
  worker,
  gateway,
  up,
  generate,
  model,
  operator,
  jobsSubmit,
  jobsTrain,
  client,
  arena,
];
