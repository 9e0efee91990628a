/**
 * `fleetchat jobs train`: supervised fine-tuning on prepare-sft output through torchrun (src/jobs/train); with
 * `--submit`, the same run as a Kubeflow PyTorchJob (or an Indexed Job) on Kubernetes (src/jobs/train/submit).
 */
import type { Command } from 'commander';
import { addOptions, boolOption, enumOption, intOption, readConfig } from '../../common/config';
import { createLogger } from '../../common/log';
import { SUBMIT_OPTIONS } from '../../jobs/submit/options';
import { TRAIN_OPTIONS, withGpus } from '../../jobs/train/options';
import { runTrain } from '../../jobs/train/run';
import { runTrainSubmit } from '../../jobs/train/submit/main';
import { addUnderscoreSpellings, foldUnderscoreSpellings } from './fastchat-spelling';
import { jobsCommand } from './jobs';

const { logLevel: _submitLogLevel, ...submitOnly } = SUBMIT_OPTIONS;
const CLUSTER_OPTIONS = {
  submit: boolOption({ flag: '--submit', description: 'run on Kubernetes instead of here: a Kubeflow PyTorchJob when the training operator is installed, else an Indexed Job + headless Service (torchrun c10d rendezvous)', default: false }),
  jobKind: enumOption({ flag: '--job-kind', description: 'with --submit: what to create', default: 'auto', choices: ['auto', 'pytorchjob', 'indexed-job'] as const }),
  ...submitOnly,
  gpus: intOption({ flag: '--gpus', placeholder: '<n>', description: 'GPUs per node: here, one training process per GPU through torchrun (sets --nproc-per-node and --device cuda; "needs N GPUs, found M" otherwise); with --submit, the nvidia.com/gpu request and limit of each pod (and --nproc-per-node unless given)', default: 0, min: 0, max: 64 }),
};

export function register(program: Command): void {
  const command = jobsCommand(program)
    .command('train')
    .description('fine-tune a LLaMA-family model on prepare-sft output (full or LoRA; samples packed, attention kept inside each) with PyTorch through torchrun; --submit runs it on Kubernetes');
  addOptions(addOptions(command, TRAIN_OPTIONS), CLUSTER_OPTIONS);
  addUnderscoreSpellings(command, TRAIN_OPTIONS);
  command.action(async (parsed: Record<string, unknown>) => {
    const opts = foldUnderscoreSpellings(parsed, TRAIN_OPTIONS);
    const config = readConfig(TRAIN_OPTIONS, opts);
    const cluster = readConfig(CLUSTER_OPTIONS, opts);
    const logger = createLogger({ level: config.logLevel, name: 'jobs-train' });
    const controller = new AbortController();
    const stop = (): void => controller.abort();
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    const out = (line: string): void => void process.stdout.write(`${line}\n`);
    try {
      if (cluster.submit) {
        const { submit: _s, jobKind, ...submit } = cluster;
        process.exitCode = await runTrainSubmit({ train: config, submit: { ...submit, logLevel: config.logLevel }, kind: jobKind, out, signal: controller.signal });
      } else {
        process.exitCode = (await runTrain(withGpus(config, cluster.gpus, true), { logger, out, progressStream: process.stderr, signal: controller.signal })).exitCode;
      }
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  });
}
