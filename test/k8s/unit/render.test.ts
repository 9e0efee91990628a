import { parseConfig } from '../../../src/common/config';
import type { ModelWorker } from '../../../src/operator/api/v1alpha1/types';
import { SPEC_HASH_ANNOTATION } from '../../../src/operator/modelworker/labels';
import { renderDeployment, renderService } from '../../../src/operator/modelworker/render';
import { gpuImageOf } from '../../../src/operator/modelworker/render-pod';
import { validSpec } from '../../../src/operator/modelworker/valid-spec';
import { workerOptions } from '../../../src/worker/main';
import { expandArgs } from '../support/simulated-worker';

function mw(spec: Record<string, unknown>, name = 'pool'): ModelWorker {
  return { apiVersion: 'fleetchat.dev/v1alpha1', kind: 'ModelWorker', metadata: { name, namespace: 'ml', uid: 'uid-1', generation: 1 }, spec: spec as unknown as ModelWorker['spec'] };
}

const OPTIONS = { image: 'registry.example/fleetchat:1.0', gpuImage: 'registry.example/fleetchat:1.0-gpu', controllerAddress: 'fleetchat-controller.fleetchat.svc:21001', replicas: 2 };

function render(spec: Record<string, unknown>) {
  const m = mw(spec);
  return renderDeployment(m, validSpec(m), OPTIONS);
}

describe('rendering a ModelWorker', () => {
  it('passes worker flags that the real worker CLI accepts, with the pod identity from the downward API', () => {
    const d = render({ model: { source: 'hf:Qwen/Qwen2.5-0.5B-Instruct', names: ['qwen', 'q'], convTemplate: 'qwen-7b-chat', toolParser: 'hermes', weights: 'q4' }, maxConcurrency: 8, extraArgs: ['--threads', '4'] });
    const pod = { metadata: { name: 'pool-abc-12345', namespace: 'ml' }, status: { podIP: '10.1.2.3' }, spec: d.spec!.template.spec };
    const args = expandArgs(pod, d.spec!.template.spec!.containers[0]);
    expect(args[0]).toBe('worker');
    const config = parseConfig(workerOptions, args.slice(1));
    expect(config).toMatchObject({
      model: 'hf:Qwen/Qwen2.5-0.5B-Instruct', modelNames: ['qwen', 'q'], convTemplate: 'qwen-7b-chat', toolParser: 'hermes', weights: 'q4', maxConcurrency: 8, threads: 4,
      controller: 'fleetchat-controller.fleetchat.svc:21001', listen: '0.0.0.0:21011', advertiseAddress: '10.1.2.3:21011', metricsListen: '0.0.0.0:21012',
      workerId: 'ml.pool-abc-12345', cacheDir: '/var/cache/fleetchat',
    });
  });

  it('sizes the worker\'s threads to its CPU limit (else request), unless --threads is given', () => {
    const threads = (spec: Record<string, unknown>): string | undefined => {
      const args = render(spec).spec!.template.spec!.containers[0].args!;
      const i = args.lastIndexOf('--threads');
      return i < 0 ? undefined : args[i + 1];
    };
    expect(threads({ model: { source: 'default' } })).toBeUndefined();
    expect(threads({ model: { source: 'default' }, resources: { requests: { cpu: '500m' } } })).toBe('1');
    expect(threads({ model: { source: 'default' }, resources: { requests: { cpu: '2' }, limits: { cpu: '3500m' } } })).toBe('4');
    expect(threads({ model: { source: 'default' }, resources: { limits: { cpu: 6 } }, extraArgs: ['--threads', '2'] })).toBe('2');
  });

  it('mounts a PVC model read-only and points --model into it', () => {
    const d = render({ model: { source: 'pvc://models/vicuna/7b/' }, cache: { claimName: 'shared-cache' } });
    const spec = d.spec!.template.spec!;
    expect(spec.volumes).toEqual(expect.arrayContaining([
      { name: 'model', persistentVolumeClaim: { claimName: 'models', readOnly: true } },
      { name: 'cache', persistentVolumeClaim: { claimName: 'shared-cache' } },
    ]));
    const c = spec.containers[0];
    expect(c.volumeMounts).toEqual(expect.arrayContaining([{ name: 'model', mountPath: '/models/models', readOnly: true }]));
    expect(c.args![c.args!.indexOf('--model') + 1]).toBe('/models/models/vicuna/7b');
  });

  it('turns a hub mirror URL into --model hf:... and --hf-endpoint', () => {
    const args = render({ model: { source: 'https://hub.example.com:8443/org/model@v2' } }).spec!.template.spec!.containers[0].args!;
    expect(args.slice(args.indexOf('--model'), args.indexOf('--model') + 4)).toEqual(['--model', 'hf:org/model@v2', '--hf-endpoint', 'https://hub.example.com:8443']);
  });

  it('gives a GPU request the same limit, keeps a size-limited cache and takes image and controller overrides', () => {
    const d = render({ model: { source: 'default' }, resources: { requests: { 'nvidia.com/gpu': 2, cpu: '1' } }, cache: { sizeLimit: '10Gi' }, image: 'mine:2', controllerAddress: 'ctl:9000' });
    // 2 GPUs on the ONNX engine: one worker container per GPU, each given the GPU request's limit of one
    const [c, second] = d.spec!.template.spec!.containers;
    expect(c.resources).toEqual({ requests: { 'nvidia.com/gpu': '1', cpu: '1' }, limits: { 'nvidia.com/gpu': '1' } });
    expect(second.resources).toEqual(c.resources);
    const one = render({ model: { source: 'default' }, resources: { requests: { 'nvidia.com/gpu': 1 } } }).spec!.template.spec!.containers;
    expect(one.map((x) => [x.name, x.resources])).toEqual([['worker', { requests: { 'nvidia.com/gpu': '1' }, limits: { 'nvidia.com/gpu': '1' } }]]);
    expect(c.image).toBe('mine:2');
    expect(c.args![c.args!.indexOf('--controller') + 1]).toBe('ctl:9000');
    expect(d.spec!.template.spec!.volumes).toEqual(expect.arrayContaining([{ name: 'cache', emptyDir: { sizeLimit: '10Gi' } }]));
  });

  it('runs a GPU worker on the GPU image with --device cuda and TF32 off, unless spec.gpu.allowTF32', () => {
    const gpu = render({ model: { source: 'default' }, resources: { limits: { 'nvidia.com/gpu': 1 } } }).spec!.template.spec!.containers[0];
    expect(gpu.image).toBe('registry.example/fleetchat:1.0-gpu');
    expect(gpu.env).toEqual(expect.arrayContaining([{ name: 'NVIDIA_TF32_OVERRIDE', value: '0' }]));
    const pod = { metadata: { name: 'pool-abc-12345', namespace: 'ml' }, status: { podIP: '10.1.2.3' }, spec: { containers: [gpu] } };
    expect(parseConfig(workerOptions, expandArgs(pod, gpu).slice(1))).toMatchObject({ device: 'cuda', allowTf32: false });
    const tf32 = render({ model: { source: 'default' }, resources: { requests: { 'nvidia.com/gpu': 1 } }, gpu: { allowTF32: true } }).spec!.template.spec!.containers[0];
    expect(tf32.args).toEqual(expect.arrayContaining(['--device', 'cuda', '--allow-tf32']));
    expect(tf32.env!.some((e) => e.name === 'NVIDIA_TF32_OVERRIDE')).toBe(false);
    const cpu = render({ model: { source: 'default' }, resources: { requests: { cpu: '2' } } }).spec!.template.spec!.containers[0];
    expect(cpu.image).toBe('registry.example/fleetchat:1.0');
    expect(cpu.args).not.toContain('--device');
    expect(cpu.env!.some((e) => e.name === 'NVIDIA_TF32_OVERRIDE')).toBe(false);
    const own = render({ model: { source: 'default' }, resources: { limits: { 'nvidia.com/gpu': 1 } }, extraArgs: ['--device', 'webgpu'] }).spec!.template.spec!.containers[0];
    expect(own.args!.filter((a) => a === '--device')).toHaveLength(1);
  });

  it('derives the GPU image from the worker image tag', () => {
    expect(gpuImageOf('ghcr.io/fleetchat/fleetchat:0.1.0')).toBe('ghcr.io/fleetchat/fleetchat:0.1.0-gpu');
    expect(gpuImageOf('localhost:5000/fleetchat')).toBe('localhost:5000/fleetchat:latest-gpu');
    expect(gpuImageOf('fleetchat@sha256:abc')).toBe('fleetchat@sha256:abc');
  });

  it('reads the Hugging Face token from the Secret, and user env cannot override the pod identity', () => {
    const c = render({ model: { source: 'hf:a/b', hfTokenSecretRef: { name: 'hf', key: 'token' } }, env: [{ name: 'POD_NAME', value: 'spoofed' }, { name: 'EXTRA', value: '1' }] }).spec!.template.spec!.containers[0];
    const env = c.env!;
    expect(env.filter((e) => e.name === 'POD_NAME')).toEqual([{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }]);
    expect(env).toEqual(expect.arrayContaining([{ name: 'FLEETCHAT_HF_TOKEN', valueFrom: { secretKeyRef: { name: 'hf', key: 'token' } } }, { name: 'EXTRA', value: '1' }]));
  });

  it('changes the spec hash when anything in the pod changes, and only then', () => {
    const base = { model: { source: 'default' }, maxConcurrency: 4 };
    const hash = (spec: Record<string, unknown>, replicas = 2): string => {
      const m = mw(spec);
      return renderDeployment(m, validSpec(m), { ...OPTIONS, replicas }).spec!.template.metadata!.annotations![SPEC_HASH_ANNOTATION];
    };
    expect(hash(base)).toBe(hash({ maxConcurrency: 4, model: { source: 'default' } }));
    expect(hash(base, 5)).toBe(hash(base));
    expect(hash({ ...base, maxConcurrency: 5 })).not.toBe(hash(base));
    expect(hash({ ...base, nodeSelector: { a: 'b' } })).not.toBe(hash(base));
  });

  it('renders a headless Service with the Deployment selector and an owner reference', () => {
    const m = mw({ model: { source: 'default' } });
    const s = renderService(m);
    expect(s.spec).toMatchObject({ clusterIP: 'None', selector: { 'app.kubernetes.io/name': 'fleetchat-worker', 'fleetchat.dev/model-worker': 'pool' } });
    expect(s.metadata!.ownerReferences).toEqual([{ apiVersion: 'fleetchat.dev/v1alpha1', kind: 'ModelWorker', name: 'pool', uid: 'uid-1', controller: true, blockOwnerDeletion: true }]);
  });

  it('refuses a PVC path that climbs out of the claim', () => {
    expect(() => validSpec(mw({ model: { source: 'pvc://models/a/../../b' } }))).toThrow(/must not contain '\.\.'/);
  });

  it('refuses to send a Hugging Face token to a plain-http hub mirror (https is fine)', () => {
    const token = { name: 'hf', key: 'token' };
    expect(() => validSpec(mw({ model: { source: 'http://mirror.example/org/m', hfTokenSecretRef: token } }))).toThrow('a hub mirror that receives model.hfTokenSecretRef must be https://');
    expect(validSpec(mw({ model: { source: 'https://mirror.example/org/m', hfTokenSecretRef: token } })).source).toEqual({ kind: 'mirror', endpoint: 'https://mirror.example', ref: 'hf:org/m' });
    expect(validSpec(mw({ model: { source: 'http://mirror.example/org/m' } })).source.kind).toBe('mirror');
  });
});
