/** The trainer's command line (pure): torchrun where several processes or nodes train, the flags passed through. */
import { parse } from 'yaml';
import { parseConfig } from '../../src/common/config';
import { buildTrainCommand } from '../../src/jobs/train/command';
import { TRAIN_OPTIONS, withGpus } from '../../src/jobs/train/options';
import { trainCliArgs } from '../../src/jobs/train/submit/main';
import { runCli } from '../support/cli';

const base = ['--model-name-or-path', '/m', '--data-path', '/d.jsonl', '--output-dir', '/o'];

test('one process runs the trainer directly; several go through torchrun --standalone; NVLS stays off', () => {
  const one = buildTrainCommand(parseConfig(TRAIN_OPTIONS, base), '/venv/bin/python', '/trainer', {});
  expect(one.args.slice(0, 2)).toEqual(['-m', 'fleetchat_train']);
  expect(one.env).toMatchObject({ NCCL_NVLS_ENABLE: '0', PYTHONPATH: '/trainer', HF_HUB_OFFLINE: '1' });
  const eight = buildTrainCommand(parseConfig(TRAIN_OPTIONS, [...base, '--nproc-per-node', '8', '--bf16', '--lora-r', '16', '--max-steps', '50']), '/venv/bin/python', '/trainer', { PYTHONPATH: '/x' });
  expect(eight.args.slice(0, 7)).toEqual(['-m', 'torch.distributed.run', '--standalone', '--nproc-per-node', '8', '--module', 'fleetchat_train']);
  expect(eight.args.join(' ')).toContain('--bf16 true');
  expect(eight.args.join(' ')).toContain('--lora-r 16');
  expect(eight.args.slice(-2)).toEqual(['--max-steps', '50']);
  expect(eight.env.PYTHONPATH).toBe('/trainer:/x');
});

test('inside a PyTorchJob or the Indexed Job, torchrun takes its rendezvous from PET_* (no --standalone)', () => {
  const c = parseConfig(TRAIN_OPTIONS, [...base, '--nproc-per-node', '1']);
  expect(buildTrainCommand(c, 'py', '/t', { PET_MASTER_ADDR: 'job-master-0', PET_NNODES: '2' }).args.slice(0, 5)).toEqual(['-m', 'torch.distributed.run', '--nproc-per-node', '1', '--module']);
  expect(buildTrainCommand(c, 'py', '/t', { PET_RDZV_ENDPOINT: 'job-0.job:29400' }).args).not.toContain('--standalone');
});

test('the pods run the same jobs train flags the user gave (defaults left out)', () => {
  expect(trainCliArgs(parseConfig(TRAIN_OPTIONS, [...base, '--bf16', '--nnodes', '4', '--python', '/local/python']))).toEqual([...base, '--bf16', 'true', '--nnodes', '4']);
});

test('--fsdp: the bare flag is FastChat\'s "full_shard auto_wrap"; the words pass through as one argument; unknown modes are refused', () => {
  const bare = parseConfig(TRAIN_OPTIONS, [...base, '--fsdp', '--nproc-per-node', '2']);
  expect(bare.fsdp).toBe('full_shard auto_wrap');
  const cmd = buildTrainCommand(parseConfig(TRAIN_OPTIONS, [...base, '--nproc-per-node', '8', '--fsdp', 'full_shard auto_wrap', '--fsdp-transformer-layer-cls-to-wrap', 'LlamaDecoderLayer']), 'py', '/t', {});
  expect(cmd.args.slice(-4)).toEqual(['--fsdp', 'full_shard auto_wrap', '--fsdp-transformer-layer-cls-to-wrap', 'LlamaDecoderLayer']);
  expect(cmd.env.NCCL_NVLS_ENABLE).toBe('0');
  expect(buildTrainCommand(parseConfig(TRAIN_OPTIONS, base), 'py', '/t', {}).args).not.toContain('--fsdp');
  for (const ok of ['shard_grad_op auto_wrap', 'full_shard,offload', 'true', 'false']) expect(parseConfig(TRAIN_OPTIONS, [...base, '--fsdp', ok]).fsdp).toBe(ok);
  expect(() => parseConfig(TRAIN_OPTIONS, [...base, '--fsdp', 'hybrid_shard'])).toThrow(/full_shard \| shard_grad_op, auto_wrap, offload.*hybrid_shard|hybrid_shard.*full_shard/);
  expect(parseConfig(TRAIN_OPTIONS, base, { FLEETCHAT_FSDP: 'full_shard auto_wrap' }).fsdp).toBe('full_shard auto_wrap');
});

test('--gpus N: one process per GPU (here on CUDA, so a smaller machine is told); an explicit --nproc-per-node above it is refused', () => {
  const c = parseConfig(TRAIN_OPTIONS, base);
  expect(withGpus(c, 0, true)).toBe(c);
  expect(withGpus(c, 8, true)).toMatchObject({ nprocPerNode: 8, device: 'cuda' });
  expect(withGpus(c, 8, false)).toMatchObject({ nprocPerNode: 8, device: 'auto' });
  expect(withGpus(parseConfig(TRAIN_OPTIONS, [...base, '--nproc-per-node', '4']), 8, true).nprocPerNode).toBe(4);
  expect(() => withGpus(parseConfig(TRAIN_OPTIONS, [...base, '--nproc-per-node', '8']), 4, true)).toThrow('--nproc-per-node 8 needs --gpus >= 8');
  expect(() => withGpus(parseConfig(TRAIN_OPTIONS, [...base, '--device', 'cpu']), 2, true)).toThrow('--gpus with --device cpu');
});

test('FastChat\'s underscore spellings are accepted: --submit --dry-run shows them reaching the pods as our flags', async () => {
  const r = await runCli(['jobs', 'train', '--submit', '--dry-run', '--image', 'registry.example/train:1', '--nnodes', '2', '--gpus', '4',
    '--model_name_or_path', '/d/base', '--data_path', '/d/sft.jsonl', '--output_dir', '/ckpt/run', '--fsdp', 'full_shard auto_wrap',
    '--fsdp_transformer_layer_cls_to_wrap', 'LlamaDecoderLayer', '--gradient_checkpointing', 'True', '--bf16', 'True', '--per_device_train_batch_size', '4']);
  expect(r.code).toBe(0);
  const job = parse(r.stdout) as { spec: { nprocPerNode: string; pytorchReplicaSpecs: { Master: { template: { spec: { containers: Array<{ args: string[]; env: Array<{ name: string; value?: string }>; resources: { limits: Record<string, string> } }> } } } } } };
  expect(job.spec.nprocPerNode).toBe('4');
  const c = job.spec.pytorchReplicaSpecs.Master.template.spec.containers[0];
  expect(c.args.slice(0, 20)).toEqual(['jobs', 'train', '--model-name-or-path', '/d/base', '--data-path', '/d/sft.jsonl', '--output-dir', '/ckpt/run', '--per-device-train-batch-size', '4',
    '--bf16', 'true', '--gradient-checkpointing', 'true', '--fsdp', 'full_shard auto_wrap', '--fsdp-transformer-layer-cls-to-wrap', 'LlamaDecoderLayer', '--nnodes', '2']);
  expect(c.args.slice(20, 22)).toEqual(['--nproc-per-node', '4']);
  expect(c.env).toContainEqual({ name: 'NCCL_NVLS_ENABLE', value: '0' });
  expect(c.resources.limits['nvidia.com/gpu']).toBe('4');
});
