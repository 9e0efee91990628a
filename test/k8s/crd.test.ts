import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { API_VERSION, DEFAULTS, GROUP, KIND, PLURAL, VERSION } from '../../src/operator/api/v1alpha1/schema';
import type { ModelWorker } from '../../src/operator/api/v1alpha1/types';
import { k8sDescribe, startEnvtest, type Envtest } from './envtest';
import { expectRejected, installCrd } from './support/kube';

function manifest(name: string, spec: Record<string, unknown>): Record<string, unknown> {
  return { apiVersion: API_VERSION, kind: KIND, metadata: { name, namespace: 'default' }, spec };
}

function create(kc: KubeConfig, body: Record<string, unknown>): Promise<ModelWorker> {
  return kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: 'default', plural: PLURAL, body }) as Promise<ModelWorker>;
}

k8sDescribe()('ModelWorker CRD on a real API server', () => {
  let env: Envtest;
  beforeAll(async () => {
    env = await startEnvtest();
    await installCrd(env.kubeConfig);
  });
  afterAll(() => env?.stop());

  it('stores a minimal manifest with the schema defaults filled in', async () => {
    const created = await create(env.kubeConfig, manifest('minimal', { model: { source: 'hf:Qwen/Qwen2.5-0.5B-Instruct' }, autoscaling: { maxReplicas: 3 } }));
    expect(created.spec.replicas).toBe(DEFAULTS.replicas);
    expect(created.spec.maxConcurrency).toBe(DEFAULTS.maxConcurrency);
    expect(created.spec.model.weights).toBe('auto');
    expect(created.spec.autoscaling).toEqual({
      maxReplicas: 3, minReplicas: DEFAULTS.minReplicas, targetQueueLength: DEFAULTS.targetQueueLength,
      scaleUpStabilizationSeconds: DEFAULTS.scaleUpStabilizationSeconds, scaleDownStabilizationSeconds: DEFAULTS.scaleDownStabilizationSeconds,
    });
  });

  it('accepts every model source form and GPU quantities', async () => {
    const sources = ['default', 'hf:meta-llama/Llama-3.2-1B-Instruct@main', 'pvc://models/qwen/0.5b', 'https://hub.example.com:8443/org/model'];
    for (const [i, source] of sources.entries()) {
      const mw = await create(env.kubeConfig, manifest(`source-${i}`, { model: { source }, resources: { limits: { 'nvidia.com/gpu': 1, memory: '16Gi' }, requests: { cpu: '500m' } } }));
      expect(mw.spec.model.source).toBe(source);
    }
  });

  it.each([
    ['a model source of no known form', { model: { source: 's3://bucket/model' } }, /spec.model.source: Invalid value.*model.source must be hf:ORG\/NAME\[@REV\], pvc:\/\/CLAIM\/PATH/],
    ['a missing model', { replicas: 1 }, /spec.model: Required value/],
    ['negative replicas', { model: { source: 'default' }, replicas: -1 }, /spec.replicas: Invalid value: -1: spec.replicas in body should be greater than or equal to 0/],
    ['minReplicas above maxReplicas', { model: { source: 'default' }, autoscaling: { minReplicas: 5, maxReplicas: 2 } }, /spec.autoscaling: Invalid value.*autoscaling.minReplicas must not exceed autoscaling.maxReplicas/],
    ['autoscaling without maxReplicas', { model: { source: 'default' }, autoscaling: { minReplicas: 1 } }, /spec.autoscaling.maxReplicas: Required value/],
    ['a quantity that is not one', { model: { source: 'default' }, resources: { limits: { memory: 'lots' } } }, /spec.resources.limits\[memory\]: Invalid value: "lots": must be a quantity such as 2, 500m or 16Gi/],
    ['an unknown weights variant', { model: { source: 'default', weights: 'fp8' } }, /spec.model.weights: Unsupported value: "fp8"/],
    ['a zero concurrency limit', { model: { source: 'default' }, maxConcurrency: 0 }, /spec.maxConcurrency: Invalid value: 0/],
    ['env with both value and valueFrom', { model: { source: 'default' }, env: [{ name: 'A', value: 'x', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] }, /env: give value or valueFrom, not both/],
    ['a controller address without port', { model: { source: 'default' }, controllerAddress: 'controller' }, /spec.controllerAddress: Invalid value: "controller"/],
  ])('refuses %s with a readable message', async (_what, spec, expected) => {
    const message = await expectRejected(create(env.kubeConfig, manifest('invalid', spec)));
    expect(message).toMatch(expected);
  });

  it('refuses names that cannot name a Deployment and Service', async () => {
    const message = await expectRejected(create(env.kubeConfig, manifest('9-starts-with-digit', { model: { source: 'default' } })));
    expect(message).toMatch(/metadata.name must start with a letter/);
    const long = await expectRejected(create(env.kubeConfig, manifest(`a${'b'.repeat(50)}`, { model: { source: 'default' } })));
    expect(long).toMatch(/at most 50 characters/);
  });

  it('has a scale subresource on spec.replicas', async () => {
    const api = env.kubeConfig.makeApiClient(CustomObjectsApi);
    await create(env.kubeConfig, manifest('scalable', { model: { source: 'default' }, replicas: 2 }));
    const scale = (await api.getNamespacedCustomObjectScale({ group: GROUP, version: VERSION, namespace: 'default', plural: PLURAL, name: 'scalable' })) as { spec: { replicas: number } };
    expect(scale.spec.replicas).toBe(2);
    await api.patchNamespacedCustomObjectScale({ group: GROUP, version: VERSION, namespace: 'default', plural: PLURAL, name: 'scalable', body: { spec: { replicas: 4 } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    const after = (await api.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: 'default', plural: PLURAL, name: 'scalable' })) as ModelWorker;
    expect(after.spec.replicas).toBe(4);
  });

  it('prints the model, replicas, ready, workers, status and age columns', async () => {
    const ca = readFileSync(env.caFile);
    const table = await new Promise<{ columnDefinitions: Array<{ name: string }>; rows: Array<{ cells: unknown[] }> }>((resolve, reject) => {
      const req = request(`${env.server}/apis/${GROUP}/${VERSION}/namespaces/default/${PLURAL}/scalable`, {
        ca, headers: { authorization: `Bearer ${env.token}`, accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' },
      }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve(JSON.parse(body)));
      });
      req.on('error', reject);
      req.end();
    });
    expect(table.columnDefinitions.map((c) => c.name)).toEqual(['Name', 'Model', 'Replicas', 'Ready', 'Workers', 'Status', 'Age']);
    expect(table.rows[0].cells.slice(0, 3)).toEqual(['scalable', 'default', 4]);
  });
});
