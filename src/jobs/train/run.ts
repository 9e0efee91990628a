/**
 * `fleetchat jobs train`: checks the flags, finds the Python runtime, launches the trainer through torchrun, turns
 * its JSON lines into progress, and writes the loss curve. SIGINT / SIGTERM are passed to torchrun as SIGTERM (the
 * trainer finishes its step, saves a checkpoint and exits; the same command resumes); a second one kills it.
 */
import { spawn } from 'node:child_process';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { FleetError } from '../../common/errors';
import type { Logger } from '../../common/log';
import { buildTrainCommand } from './command';
import type { TrainerError, TrainerEvent } from './events';
import { parseTrainerLine } from './events';
import { lossSvg, readLossLog } from './loss-svg';
import { fsdpOn, type TrainConfig } from './options';
import { createTrainProgress } from './progress';
import { trainerDir, trainPython } from './runtime';

export interface TrainIo {
  logger: Logger;
  /** Result lines (stdout). */
  out: (line: string) => void;
  /** Where the progress bar goes (stderr). */
  progressStream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  signal?: AbortSignal;
  /** Every trainer event, as it arrives (tests, embedding). */
  onEvent?: (e: TrainerEvent) => void;
}

export interface TrainOutcome {
  status: 'done' | 'interrupted';
  exitCode: number;
  last?: TrainerEvent;
  lossSvg?: string;
}

const STDERR_TAIL = 40;

function required(value: string, flag: string): void {
  if (value === '') throw new FleetError('invalid_request', `${flag} is required`, { param: flag.slice(2) });
}

export function checkTrainConfig(c: TrainConfig): void {
  required(c.modelNameOrPath, '--model-name-or-path');
  required(c.dataPath, '--data-path');
  required(c.outputDir, '--output-dir');
  if (!existsSync(join(c.modelNameOrPath, 'config.json'))) {
    throw new FleetError('invalid_request', `--model-name-or-path ${c.modelNameOrPath}: no config.json (a Hugging Face model directory is needed)`, { param: 'model-name-or-path' });
  }
  if (!existsSync(c.dataPath) || !statSync(c.dataPath).isFile()) throw new FleetError('invalid_request', `--data-path ${c.dataPath}: no such file`, { param: 'data-path' });
  if (c.mergeLora && c.loraR === 0) throw new FleetError('invalid_request', '--merge-lora needs --lora-r > 0', { param: 'merge-lora' });
  if (c.attention === 'varlen' && (!c.bf16 || c.device === 'cpu')) throw new FleetError('invalid_request', '--attention varlen needs --bf16 on a CUDA device', { param: 'attention' });
  if (fsdpOn(c.fsdp) && c.mergeLora) {
    throw new FleetError('invalid_request', '--merge-lora cannot run under --fsdp (the merge needs the whole model in one process): train the adapter, then `fleetchat model import-hf OUT --lora-base BASE` merges it', { param: 'merge-lora' });
  }
}

function trainerFailure(e: TrainerError): FleetError {
  const where = [e.file && `file ${e.file}`, e.line !== undefined && `line ${e.line}`, e.record && `record ${e.record}`, e.flag && `flag ${e.flag}`].filter(Boolean).join(', ');
  return new FleetError('invalid_request', `${e.message}${where ? ` [${where}]` : ''}`, { code: e.code, param: e.flag?.replace(/^--/, '') });
}

export async function runTrain(c: TrainConfig, io: TrainIo): Promise<TrainOutcome> {
  checkTrainConfig(c);
  const python = trainPython(c.python);
  const cmd = buildTrainCommand(c, python, trainerDir());
  io.logger.debug({ command: cmd.command, args: cmd.args }, 'starting the trainer');
  const child = spawn(cmd.command, cmd.args, { env: { ...process.env, ...cmd.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const progress = createTrainProgress(io.progressStream, io.logger, c.json);
  const stderrTail: string[] = [];
  let error: TrainerError | undefined;
  let interrupted = false;
  let last: TrainerEvent | undefined;
  let stops = 0;
  const stop = (): void => {
    stops += 1;
    child.kill(stops === 1 ? 'SIGTERM' : 'SIGKILL');
  };
  io.signal?.addEventListener('abort', stop);
  createInterface({ input: child.stderr }).on('line', (line) => {
    stderrTail.push(line);
    if (stderrTail.length > STDERR_TAIL) stderrTail.shift();
    io.logger.trace({ trainer: line }, 'trainer stderr');
  });
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    const e = parseTrainerLine(line);
    if (e === undefined) return;
    if (c.json) io.out(JSON.stringify(e));
    if (e.event === 'error') error = e;
    if (e.event === 'interrupted') interrupted = true;
    last = e;
    progress.event(e);
    io.onEvent?.(e);
  });
  const exitCode = await new Promise<number>((resolve, reject) => {
    child.on('error', (err) => reject(new FleetError('unavailable', `could not start ${cmd.command}: ${err.message}`, { cause: err })));
    child.on('close', (code, sig) => resolve(code ?? (sig ? 128 + 15 : 1)));
  });
  io.signal?.removeEventListener('abort', stop);
  progress.close();
  if (error) throw trainerFailure(error);
  if (interrupted) {
    const e = last?.event === 'interrupted' ? last : undefined;
    io.out(`interrupted at step ${e?.step ?? '?'}; checkpoint ${e?.checkpoint ?? '?'} — run the same command again to resume`);
    return { status: 'interrupted', exitCode: 143, last };
  }
  if (exitCode !== 0 || last?.event !== 'done') {
    throw new FleetError('internal', `the trainer exited with status ${exitCode}${stderrTail.length ? `:\n${stderrTail.join('\n')}` : ''}`, { code: 'train_failed' });
  }
  let svg: string | undefined;
  if (c.lossSvg) {
    svg = join(c.outputDir, 'loss.svg');
    writeFileSync(svg, lossSvg(readLossLog(join(c.outputDir, 'trainer_log.jsonl')), `training loss — ${c.modelNameOrPath}`));
  }
  const done = last;
  const rate = done.tokens_per_s === null ? '' : `, ${Math.round(done.tokens_per_s).toLocaleString('en-US')} tokens/s`;
  io.out(`trained ${done.step} steps (final loss ${done.loss.toFixed(4)}${rate}); wrote ${Object.values(done.output).join(', ')}${svg ? `; loss curve ${svg}` : ''}`);
  return { status: 'done', exitCode: 0, last, lossSvg: svg };
}
