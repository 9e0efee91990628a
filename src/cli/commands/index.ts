/**
 * Every command, by the top-level names it registers, loaded only when asked for: `fleetchat worker …` loads the
 * worker command's modules and no others (a gateway, worker or controller process does not carry the model factory,
 * the judge or the operator — ~17 MB of heap and ~0.4 s of start instead of ~57 MB and ~1.8 s for all of them).
 * Add a new command as its own file and list it here (one entry; several files may register under one name, in
 * order, as the `jobs` pipelines do).
 */
import type { Command } from 'commander';

export type RegisterCommand = (program: Command) => void;

export interface CommandEntry {
  /** The top-level command names its files register. */
  names: readonly string[];
  load(): Promise<RegisterCommand[]>;
}

export const COMMANDS: readonly CommandEntry[] = [
  { names: ['judge'], load: async () => [(await import('./judge')).register] },
  {
    names: ['jobs'],
    load: async () => (await Promise.all([import('./jobs-judge'), import('./jobs-data'), import('./jobs-elo'), import('./jobs-submit'), import('./jobs-train')])).map((m) => m.register),
  },
  { names: ['template'], load: async () => [(await import('./template')).register] },
  { names: ['controller'], load: async () => [(await import('./controller')).register] },
  { names: ['worker'], load: async () => [(await import('./worker')).register] },
  { names: ['gateway'], load: async () => [(await import('./gateway')).register] },
  { names: ['up'], load: async () => [(await import('./up')).register] },
  { names: ['generate', 'chat'], load: async () => [(await import('./generate')).register] },
  { names: ['model'], load: async () => [(await import('./model')).register] },
  { names: ['operator'], load: async () => [(await import('./operator')).register] },
  { names: ['client'], load: async () => [(await import('./client')).register] },
  { names: ['arena'], load: async () => [(await import('./arena')).register] },
];
