/**
 * Flags of `fleetchat jobs train`: FastChat train.py's names (dashed) where they apply, plus the trainer's own. Each
 * is also a FLEETCHAT_* environment variable. Values are checked here, before Python or a GPU is touched.
 */
import { boolOption, enumOption, floatOption, intOption, stringOption, type ConfigOf } from '../../common/config';
import { FleetError } from '../../common/errors';

export const LR_SCHEDULERS = ['cosine', 'linear', 'constant', 'constant_with_warmup'] as const;
export const ATTENTION_KINDS = ['auto', 'varlen', 'sdpa', 'eager'] as const;
/** `--fsdp`: true/false or FastChat's words (`full_shard auto_wrap`, `shard_grad_op`, `offload`), spaces or commas. */
export const FSDP_PATTERN = /^(|true|false|((full_shard|shard_grad_op|auto_wrap|offload)([ ,]+|$))+)$/;

export const TRAIN_OPTIONS = {
  modelNameOrPath: stringOption({ flag: '--model-name-or-path', placeholder: '<dir>', description: 'Hugging Face model directory to fine-tune (LLaMA, SmolLM2, Mistral, Qwen2; config.json + model.safetensors)', default: '' }),
  dataPath: stringOption({ flag: '--data-path', placeholder: '<file>', description: 'prepare-sft output (JSON Lines: input_ids, labels, attention_mask)', default: '' }),
  outputDir: stringOption({ flag: '--output-dir', placeholder: '<dir>', description: 'checkpoints, the trained model, trainer_log.jsonl and loss.svg', default: '' }),
  numTrainEpochs: floatOption({ flag: '--num-train-epochs', placeholder: '<n>', description: 'passes over the data', default: 3, min: Number.MIN_VALUE, max: 1000 }),
  maxSteps: intOption({ flag: '--max-steps', placeholder: '<n>', description: 'optimizer steps (overrides --num-train-epochs when > 0)', default: 0, min: 0 }),
  perDeviceTrainBatchSize: intOption({ flag: '--per-device-train-batch-size', placeholder: '<n>', description: 'packed rows per micro-batch and device, each up to --model-max-length tokens', default: 8, min: 1, max: 4096 }),
  gradientAccumulationSteps: intOption({ flag: '--gradient-accumulation-steps', placeholder: '<n>', description: 'micro-batches per optimizer step', default: 1, min: 1, max: 4096 }),
  learningRate: floatOption({ flag: '--learning-rate', placeholder: '<lr>', description: 'peak learning rate (AdamW)', default: 2e-5, min: Number.MIN_VALUE, max: 1 }),
  weightDecay: floatOption({ flag: '--weight-decay', placeholder: '<x>', description: 'AdamW weight decay', default: 0, min: 0, max: 1 }),
  warmupRatio: floatOption({ flag: '--warmup-ratio', placeholder: '<x>', description: 'share of the steps spent warming the learning rate up linearly', default: 0, min: 0, max: 0.999 }),
  lrSchedulerType: enumOption({ flag: '--lr-scheduler-type', description: 'learning-rate schedule after warm-up', default: 'cosine', choices: LR_SCHEDULERS }),
  modelMaxLength: intOption({ flag: '--model-max-length', placeholder: '<n>', description: 'row capacity in tokens; a longer sample is an error (prepare-sft --max-length truncates or drops)', default: 2048, min: 2, max: 1_048_576 }),
  bf16: boolOption({ flag: '--bf16', description: 'bf16 autocast with fp32 master weights (needed for --attention varlen)', default: false }),
  gradientCheckpointing: boolOption({ flag: '--gradient-checkpointing', description: 'recompute activations in the backward pass (less memory, ~30% more compute)', default: false }),
  loraR: intOption({ flag: '--lora-r', placeholder: '<n>', description: 'LoRA rank (0 = full fine-tuning)', default: 0, min: 0, max: 4096 }),
  loraAlpha: floatOption({ flag: '--lora-alpha', placeholder: '<x>', description: 'LoRA alpha', default: 16, min: Number.MIN_VALUE }),
  loraDropout: floatOption({ flag: '--lora-dropout', placeholder: '<x>', description: 'LoRA dropout', default: 0.05, min: 0, max: 0.999 }),
  loraTargetModules: stringOption({ flag: '--lora-target-modules', placeholder: '<a,b>', description: 'linear layers that get adapters', default: 'q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj', pattern: /^[A-Za-z0-9_.]+(,[A-Za-z0-9_.]+)*$/, patternHint: 'comma-separated module names' }),
  mergeLora: boolOption({ flag: '--merge-lora', description: 'also write the adapter merged into its base (OUTPUT/merged)', default: false }),
  saveSteps: intOption({ flag: '--save-steps', placeholder: '<n>', description: 'checkpoint every N optimizer steps (0 = only the final model)', default: 0, min: 0 }),
  saveTotalLimit: intOption({ flag: '--save-total-limit', placeholder: '<n>', description: 'checkpoints kept (the oldest are removed)', default: 2, min: 1, max: 1000 }),
  loggingSteps: intOption({ flag: '--logging-steps', placeholder: '<n>', description: 'progress line every N steps', default: 1, min: 1 }),
  seed: intOption({ flag: '--seed', placeholder: '<n>', description: 'data order and initialisation seed', default: 42, min: 0 }),
  attention: enumOption({ flag: '--attention', description: 'varlen: flash-attention over flattened samples (CUDA + bf16); sdpa / eager: block-diagonal causal mask; auto: varlen on CUDA with bf16, else sdpa', default: 'auto', choices: ATTENTION_KINDS }),
  compile: boolOption({ flag: '--compile', description: 'torch.compile each decoder layer (dynamic shapes; ~13 s on the first step on an H100, then 1.76× the tokens/s in bench:train)', default: false }),
  packing: boolOption({ flag: '--packing', description: 'pack samples into rows (--no-packing: one padded sample per row, as FastChat)', default: true }),
  resume: boolOption({ flag: '--resume', description: 'continue from the newest checkpoint in --output-dir', default: true }),
  fsdp: stringOption({ flag: '--fsdp', placeholder: '<mode>', description: 'with several processes: shard parameters, gradients and optimizer state (PyTorch FSDP2). FastChat\'s spelling: "full_shard auto_wrap" (the bare flag); also shard_grad_op (ZeRO-2), offload (shards in CPU memory); false: DDP', default: '', preset: 'full_shard auto_wrap', pattern: FSDP_PATTERN, patternHint: 'true, false, or FastChat\'s words: full_shard | shard_grad_op, auto_wrap, offload' }),
  fsdpTransformerLayerClsToWrap: stringOption({ flag: '--fsdp-transformer-layer-cls-to-wrap', placeholder: '<class>', description: 'the FSDP unit (a class name in the model)', default: '', defaultLabel: 'the model\'s decoder layer (LlamaDecoderLayer, Qwen2DecoderLayer, ...)', pattern: /^[A-Za-z_][A-Za-z0-9_]*$/, patternHint: 'a Python class name' }),
  nnodes: intOption({ flag: '--nnodes', placeholder: '<n>', description: 'nodes (pods) of a --submit run: a PyTorchJob Master + N-1 Workers, or an Indexed Job of N pods', default: 1, min: 1, max: 1024 }),
  nprocPerNode: intOption({ flag: '--nproc-per-node', placeholder: '<n>', description: 'training processes on this node (one per GPU), through torchrun', default: 1, min: 1, max: 64 }),
  device: enumOption({ flag: '--device', description: 'where to train', default: 'auto', choices: ['auto', 'cpu', 'cuda'] as const }),
  threads: intOption({ flag: '--threads', placeholder: '<n>', description: 'CPU threads per process (0 = torch\'s default)', default: 0, min: 0, max: 1024 }),
  python: stringOption({ flag: '--python', placeholder: '<path>', description: 'python of the trainer runtime', default: '', defaultLabel: '$FLEETCHAT_CACHE_DIR/train-venv/bin/python (scripts/install-train-runtime)' }),
  lossSvg: boolOption({ flag: '--loss-svg', description: 'write OUTPUT/loss.svg when the run ends', default: true }),
  json: boolOption({ flag: '--json', description: 'print the trainer\'s JSON lines on stdout, even on a terminal', default: false }),
  logLevel: stringOption({ flag: '--log-level', description: 'log level', default: 'info' }),
};

export type TrainConfig = ConfigOf<typeof TRAIN_OPTIONS>;

/**
 * `--gpus N` (GPUs on this node, or per pod with --submit) also sets the processes per node when --nproc-per-node was
 * left at 1 (one training process per GPU); here (not --submit) also --device cuda, so a machine with fewer GPUs is
 * told so ("needs N GPUs, found M") rather than trained on the CPU. An explicit --nproc-per-node above --gpus is refused.
 */
export function withGpus(c: TrainConfig, gpus: number, here: boolean): TrainConfig {
  if (gpus <= 0) return c;
  if (c.nprocPerNode > gpus) throw new FleetError('invalid_request', `--nproc-per-node ${c.nprocPerNode} needs --gpus >= ${c.nprocPerNode} (one process per GPU)`, { param: 'gpus' });
  if (c.device === 'cpu') throw new FleetError('invalid_request', '--gpus with --device cpu: leave --gpus out to train on the CPU (gloo), or use --device cuda', { param: 'gpus' });
  return { ...c, nprocPerNode: c.nprocPerNode === 1 ? gpus : c.nprocPerNode, device: here ? 'cuda' : c.device };
}

/** Whether a --fsdp value turns sharding on (the trainer applies it when more than one process trains). */
export function fsdpOn(value: string): boolean {
  return value !== '' && value !== 'false';
}
