/**
 * The trainer's command line: torchrun (`python -m torch.distributed.run`) launching `-m fleetchat_train` with the
 * validated flags (one process on one machine runs `python -m fleetchat_train` directly). On one machine it is `--standalone`; inside a Kubeflow PyTorchJob or an Indexed Job the
 * rendezvous comes from torchrun's PET_* environment variables, which the operator (or our Job) sets.
 */
import type { TrainConfig } from './options';

export interface TrainCommand {
  command: string;
  args: string[];
  env: Record<string, string>;
}

/** The trainer's own flags (python/fleetchat_train/args.py spells them the same way). */
export function trainerArgs(c: TrainConfig): string[] {
  const out = [
    '--model-name-or-path', c.modelNameOrPath, '--data-path', c.dataPath, '--output-dir', c.outputDir,
    '--num-train-epochs', String(c.numTrainEpochs), '--per-device-train-batch-size', String(c.perDeviceTrainBatchSize),
    '--gradient-accumulation-steps', String(c.gradientAccumulationSteps), '--learning-rate', String(c.learningRate),
    '--weight-decay', String(c.weightDecay), '--warmup-ratio', String(c.warmupRatio), '--lr-scheduler-type', c.lrSchedulerType,
    '--model-max-length', String(c.modelMaxLength), '--bf16', String(c.bf16), '--gradient-checkpointing', String(c.gradientCheckpointing),
    '--lora-r', String(c.loraR), '--lora-alpha', String(c.loraAlpha), '--lora-dropout', String(c.loraDropout),
    '--lora-target-modules', c.loraTargetModules, '--merge-lora', String(c.mergeLora), '--save-steps', String(c.saveSteps),
    '--save-total-limit', String(c.saveTotalLimit), '--logging-steps', String(c.loggingSteps), '--seed', String(c.seed),
    '--attention', c.attention, '--compile', String(c.compile), '--packing', String(c.packing), '--resume', String(c.resume), '--device', c.device,
    '--threads', String(c.threads),
  ];
  if (c.maxSteps > 0) out.push('--max-steps', String(c.maxSteps));
  if (c.fsdp !== '') out.push('--fsdp', c.fsdp);
  if (c.fsdpTransformerLayerClsToWrap !== '') out.push('--fsdp-transformer-layer-cls-to-wrap', c.fsdpTransformerLayerClsToWrap);
  return out;
}

export function buildTrainCommand(c: TrainConfig, python: string, trainerDir: string, env: NodeJS.ProcessEnv = process.env): TrainCommand {
  // Inside a PyTorchJob (PET_MASTER_ADDR, set by the training operator) or our Indexed Job (PET_RDZV_ENDPOINT).
  const distributed = env.PET_RDZV_ENDPOINT !== undefined || env.PET_MASTER_ADDR !== undefined;
  // One process on one machine needs no launcher (and starts seconds sooner): the trainer runs as world size 1.
  const args = !distributed && c.nprocPerNode === 1
    ? ['-m', 'fleetchat_train', ...trainerArgs(c)]
    : ['-m', 'torch.distributed.run', ...(distributed ? [] : ['--standalone']), '--nproc-per-node', String(c.nprocPerNode), '--module', 'fleetchat_train', ...trainerArgs(c)];
  const pythonPath = [trainerDir, env.PYTHONPATH].filter((p): p is string => p !== undefined && p !== '').join(':');
  return {
    command: python,
    args,
    env: {
      PYTHONPATH: pythonPath,
      PYTHONUNBUFFERED: '1',
      // NVLink multicast (NVLS): NCCL's NVLS algorithms bind multicast objects through the NVSwitch fabric, which the
      // host's fabric manager hands out per machine; on a shared or partitioned host (other jobs' GPUs on the same
      // NVSwitches, MIG, containers without the fabric manager's IMEX channels) that fails or takes GPUs out of service.
      // The ring / tree algorithms over NVLink P2P need none of it, so NCCL never uses it here (torch's symmetric memory
      // likewise). The CPU (gloo) ignores both.
      NCCL_NVLS_ENABLE: '0',
      TORCH_SYMM_MEM_DISABLE_MULTICAST: '1',
      // The trainer never downloads: models come from --model-name-or-path.
      HF_HUB_OFFLINE: '1',
      TRANSFORMERS_OFFLINE: '1',
      TOKENIZERS_PARALLELISM: 'false',
      ...(c.threads > 0 ? { OMP_NUM_THREADS: String(c.threads) } : {}),
    },
  };
}
