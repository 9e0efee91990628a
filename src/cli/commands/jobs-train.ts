/** `fleetchat jobs train`: supervised fine-tuning on prepare-sft output through torchrun (src/jobs/train). */
import type { Command } from 'commander';
import { addOptions, readConfig } from '../../common/config';
import { createLogger } from '../../common/log';
import { TRAIN_OPTIONS } from '../../jobs/train/options';
import { runTrain } from '../../jobs/train/run';
import { jobsCommand } from './jobs';

export function register(program: Command): void {
  const command = jobsCommand(program)
    .command('train')
    .description('fine-tune a LLaMA-family model on prepare-sft output (full or LoRA; samples packed, attention kept inside each) with PyTorch through torchrun');
  addOptions(command, TRAIN_OPTIONS).action(async (opts: Record<string, unknown>) => {
    const config = readConfig(TRAIN_OPTIONS, opts);
    const logger = createLogger({ level: config.logLevel, name: 'jobs-train' });
    const controller = new AbortController();
    const stop = (): void => controller.abort();
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    try {
      const outcome = await runTrain(config, { logger, out: (line) => process.stdout.write(`${line}\n`), progressStream: process.stderr, signal: controller.signal });
      process.exitCode = outcome.exitCode;
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  });
}
