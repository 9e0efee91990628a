/**
 * Flags shared by the data jobs (each also readable from its FLEETCHAT_* environment variable). Names and
 * defaults follow FastChat's scripts (`--in-file`, `--out-file`, `--begin`, `--end`), so FastChat commands
 * carry over; the rest are ours (threads, limits, report).
 */
import {
  durationOption, enumOption, intOption, optionalIntOption, optionalStringOption, type ConfigOf,
} from '../../common/config';
import { FleetError } from '../../common/errors';
import { createLogger, type Logger } from '../../common/log';
import { resolveOutputFormat, type OutputFormat } from '../io/record-format';
import { defaultThreads, type JobLimits, type PipelineOptions } from './pipeline';


export const IN_FILE_OPTIONS = {
  inFile: optionalStringOption({ flag: '--in-file', description: 'input: a JSON array of records (ShareGPT) or JSON Lines (alias --in)', placeholder: '<path>' }),
};

export const RANGE_OPTIONS = {
  begin: optionalIntOption({ flag: '--begin', description: 'first record to process (Python slice: negative counts from the end)' }),
  end: optionalIntOption({ flag: '--end', description: 'record to stop before (Python slice: negative counts from the end)' }),
};

export const OUTPUT_OPTIONS = {
  outFormat: enumOption({ flag: '--out-format', description: 'output format: FastChat-style JSON array (indent 2) or JSON Lines; auto = by extension (.jsonl)', default: 'auto', choices: ['auto', 'json', 'jsonl'] as const }),
  reportFile: optionalStringOption({ flag: '--report-file', description: 'drop/change report (JSON Lines, one line per record, summary last)', placeholder: '<path>', defaultLabel: '<out-file>.report.jsonl' }),
};

export const RUN_OPTIONS = {
  threads: intOption({ flag: '--threads', description: 'worker threads (0 = run on the main thread, without per-record timeouts)', default: defaultThreads(), defaultLabel: 'number of CPUs', min: 0, max: 256 }),
  maxRecordBytes: intOption({ flag: '--max-record-bytes', description: 'records larger than this are dropped unread (record_too_large)', default: 64 * 1024 * 1024, min: 1024 }),
  recordTimeout: durationOption({ flag: '--record-timeout', description: 'a record still running after this is dropped (record_timeout) and its worker replaced', default: 60_000, defaultLabel: '60s' }),
  workerMemoryMb: intOption({ flag: '--worker-memory-mb', description: 'heap limit of each worker thread; a record exceeding it is dropped (worker_out_of_memory)', default: 2048, min: 64 }),
  logLevel: enumOption({ flag: '--log-level', description: 'log level', default: 'info', choices: ['trace', 'debug', 'info', 'warn', 'error', 'silent'] as const }),
};

export type RunConfig = ConfigOf<typeof RUN_OPTIONS>;
export type OutputConfig = ConfigOf<typeof OUTPUT_OPTIONS>;

export function requireInFile(inFile: string | undefined): string {
  if (inFile === undefined || inFile === '') throw new FleetError('invalid_request', '--in-file is required', { param: 'in-file' });
  return inFile;
}

export function jobLimits(config: RunConfig): JobLimits {
  return { maxRecordBytes: config.maxRecordBytes, recordTimeoutMs: config.recordTimeout, maxWorkerHeapMb: config.workerMemoryMb };
}

export function dataLogger(config: RunConfig, job: string): Logger {
  return createLogger({ level: config.logLevel, name: `fleetchat.jobs.${job}` });
}

/** Everything a streaming job needs from its flags. */
export interface JobIo {
  logger: Logger;
  stderr: PipelineOptions['stderr'];
}

export function outputPlan(outFile: string, config: OutputConfig): { outFile: string; outFormat: OutputFormat; reportFile: string } {
  return { outFile, outFormat: resolveOutputFormat(outFile, config.outFormat), reportFile: config.reportFile ?? `${outFile}.report.jsonl` };
}

/** The pipeline options common to every record job. */
export function basePipeline(label: string, config: RunConfig, io: JobIo): Pick<PipelineOptions, 'label' | 'threads' | 'limits' | 'logger' | 'stderr'> {
  return { label, threads: config.threads, limits: jobLimits(config), logger: io.logger, stderr: io.stderr };
}
