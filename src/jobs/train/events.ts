/** The trainer's JSON lines on stdout (python/fleetchat_train/main.py documents them), parsed and checked. */

export interface StepEvent {
  event: 'step';
  step: number;
  max_steps: number;
  epoch: number;
  loss: number;
  lr: number;
  tokens_per_s: number;
  tokens: number;
  step_time_s: number;
  eta_s: number;
}

export interface TrainerError {
  event: 'error';
  code: string;
  message: string;
  file?: string;
  line?: number;
  record?: string;
  flag?: string;
}

export type TrainerEvent =
  | StepEvent
  | TrainerError
  | { event: 'start'; max_steps: number; start_step: number; resumed_from: string | null; [key: string]: unknown }
  | { event: 'checkpoint'; step: number; path: string }
  | { event: 'interrupted'; step: number; checkpoint: string }
  | { event: 'done'; step: number; loss: number; tokens_per_s: number | null; output: Record<string, string>; [key: string]: unknown };

const KINDS = new Set(['step', 'error', 'start', 'checkpoint', 'interrupted', 'done']);

/** A line of the trainer's stdout -> its event, or undefined for anything else (library chatter). */
export function parseTrainerLine(line: string): TrainerEvent | undefined {
  const text = line.trim();
  if (!text.startsWith('{')) return undefined;
  try {
    const value = JSON.parse(text) as { event?: unknown };
    if (typeof value !== 'object' || value === null || typeof value.event !== 'string' || !KINDS.has(value.event)) return undefined;
    return value as TrainerEvent;
  } catch {
    return undefined;
  }
}
