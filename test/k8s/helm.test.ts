import { join } from 'node:path';
import {
  AppsV1Api, ApiextensionsV1Api, CoordinationV1Api, CoreV1Api, CustomObjectsApi, KubernetesObjectApi, PatchStrategy, loadAllYaml,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { parseConfig } from '../../src/common/config';
import { GROUP, PLURAL, VERSION } from '../../src/operator/api/v1alpha1/schema';
import type { ModelWorker } from '../../src/operator/api/v1alpha1/types';
import { operatorOptions, startOperator, type RunningOperator } from '../../src/operator/main';
import { k8sDescribe } from './envtest';
import { helmRunner, type HelmResult } from './support/helm';
import { applyFile, createNamespace, eventually } from './support/kube';
import { serviceAccountKubeConfig } from './support/service-account';
import { startOperatorEnv, type OperatorEnv } from './support/operator-env';

const CHART = join(__dirname, '../../charts/fleetchat');
const EXAMPLES = join(__dirname, '../../examples');
const RELEASE_NS = 'fleetchat-system';
const FULLNAME = 'fc-fleetchat';

function ok(result: HelmResult): string {
  if (result.code !== 0) throw new Error(`helm failed (${result.code}):\n${result.stderr}\n${result.stdout.slice(0, 2000)}`);
  return result.stdout;
}

const ready = (mw: ModelWorker): boolean => mw.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

k8sDescribe(['helm', 'kubeControllerManager', 'kubeScheduler'])('Helm chart charts/fleetchat', () => {
  let o: OperatorEnv;
  let helm: (args: string[]) => Promise<HelmResult>;
  let operator: RunningOperator | undefined;
  beforeAll(async () => {
    o = await startOperatorEnv({ installCrd: false });
    helm = helmRunner(o.env.binaries.helm!, o.env.kubeconfigPath);
  }, 120_000);
  afterAll(async () => {
    await operator?.stop();
    await o?.stop();
  });

  it('passes helm lint --strict, with defaults and with every option turned on, and refuses values outside values.schema.json', async () => {
    ok(await helm(['lint', '--strict', CHART]));
    const bad = await helm(['lint', '--strict', CHART, '--set', 'controller.dispatch=random']);
    expect(bad.code).not.toBe(0);
    expect(bad.stdout + bad.stderr).toContain("at '/controller/dispatch': value must be one of 'shortest_queue', 'lottery'");
    ok(await helm(['lint', '--strict', CHART, '--set', 'operator.watchNamespace=ml', '--set', 'gateway.ingress.enabled=true', '--set', 'gateway.arena.persistence.enabled=true', '--set', 'gateway.apiKeysSecret.name=keys', '--set', 'operator.replicas=2',
      '--set', 'gateway.grpc.tlsSecret=grpc-tls', '--set', 'gateway.grpc.ingress.enabled=true', '--set', 'gateway.grpc.grpcRoute.enabled=true', '--set', 'gateway.grpc.grpcRoute.parentRefs[0].name=public']));
  });

  it('renders objects the API server accepts (server-side dry-run apply of helm template)', async () => {
    const rendered = ok(await helm(['template', 'fc', CHART, '--namespace', 'dry-run', '--set', 'gateway.ingress.enabled=true', '--set', 'gateway.arena.persistence.enabled=true', '--set', 'gateway.grpc.ingress.enabled=true']));
    const docs = (loadAllYaml(rendered) as KubernetesObject[]).filter((d) => d?.kind);
    const gatewayService = docs.find((d) => d.kind === 'Service' && d.metadata?.name === 'fc-fleetchat-gateway') as { spec: { ports: Array<{ name: string; port: number; appProtocol?: string }> } } | undefined;
    expect(gatewayService?.spec.ports).toEqual([expect.objectContaining({ name: 'http', port: 8000 }), { name: 'grpc', port: 8001, targetPort: 'grpc', appProtocol: 'kubernetes.io/h2c' }]);
    // The operator's rights are Roles (no ClusterRole binding); the two ClusterRoles are the aggregated
    // ModelWorker editor / viewer.
    expect(docs.map((d) => d.kind).sort()).toEqual(['ClusterRole', 'ClusterRole', 'ConfigMap', 'ConfigMap', 'ConfigMap', 'CustomResourceDefinition', 'Deployment', 'Deployment', 'Deployment', 'Ingress', 'Ingress',
      'NetworkPolicy', 'NetworkPolicy', 'NetworkPolicy', 'NetworkPolicy', 'NetworkPolicy', 'PersistentVolumeClaim', 'Role', 'Role', 'RoleBinding', 'RoleBinding', 'Service', 'Service', 'Service', 'ServiceAccount',
      'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']);
    await createNamespace(o.kc, 'dry-run');
    const api = KubernetesObjectApi.makeApiClient(o.kc);
    for (const doc of docs) await api.patch(doc, undefined, 'All', 'helm-test', true, PatchStrategy.ServerSideApply);
  });

  it('runs 3 gateway replicas on an external PostgreSQL (URL and admin keys from Secrets), and refuses several on SQLite', async () => {
    const refused = await helm(['template', 'fc', CHART, '--set', 'gateway.replicas=2']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('gateway.replicas > 1 needs gateway.arena.postgres.urlSecret');
    const ns = await createNamespace(o.kc, 'arena-pg');
    const core = o.kc.makeApiClient(CoreV1Api);
    await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'arena-db' }, stringData: { url: 'postgres://arena:pw@db.example:5432/arena' } } });
    await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'arena-admin' }, stringData: { 'admin-keys': 'adm-1' } } });
    const rendered = ok(await helm([
      'template', 'fc', CHART, '--namespace', ns, '--show-only', 'templates/gateway.yaml', '--show-only', 'templates/gateway-config.yaml',
      '--set', 'gateway.arena.postgres.urlSecret.name=arena-db', '--set', 'gateway.arena.adminKeysSecret.name=arena-admin',
      '--set', 'gateway.arena.trustProxy={10.0.0.0/8}', '--set', 'gateway.arena.persistence.enabled=true',
    ]));
    const docs = (loadAllYaml(rendered) as KubernetesObject[]).filter((d) => d?.kind);
    expect(docs.map((d) => d.kind).sort()).toEqual(['ConfigMap', 'Deployment', 'Service']); // no PVC: the database is elsewhere
    const api = KubernetesObjectApi.makeApiClient(o.kc);
    for (const doc of docs) await api.patch(doc, undefined, undefined, 'helm-test', true, PatchStrategy.ServerSideApply);
    const cm = await core.readNamespacedConfigMap({ namespace: ns, name: `${FULLNAME}-gateway` });
    expect(cm.data).not.toHaveProperty('FLEETCHAT_DB');
    expect(cm.data).toMatchObject({ FLEETCHAT_TRUST_PROXY: '10.0.0.0/8' });
    const pods = await eventually('3 gateway pods', async () => {
      const list = await core.listNamespacedPod({ namespace: ns, labelSelector: 'app.kubernetes.io/component=gateway' });
      return list.items.length === 3 && list.items;
    }, 60_000);
    for (const pod of pods) {
      const env = pod.spec!.containers[0].env ?? [];
      expect(env.find((e) => e.name === 'FLEETCHAT_DB')?.valueFrom?.secretKeyRef).toEqual({ name: 'arena-db', key: 'url' });
      expect(env.find((e) => e.name === 'FLEETCHAT_ADMIN_KEYS')?.valueFrom?.secretKeyRef).toEqual({ name: 'arena-admin', key: 'admin-keys' });
    }
  });

  it('installs into the API server, and the operator running as the chart\'s ServiceAccount (a namespaced Role only) reconciles a ModelWorker', async () => {
    ok(await helm(['install', 'fc', CHART, '--namespace', RELEASE_NS, '--create-namespace', '--set', 'image.tag=test', '--wait=false']));
    const ext = o.kc.makeApiClient(ApiextensionsV1Api);
    await eventually('CRD established', async () => (await ext.readCustomResourceDefinition({ name: 'modelworkers.fleetchat.dev' })).status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True'));
    const apps = o.kc.makeApiClient(AppsV1Api);
    const deployments = (await apps.listNamespacedDeployment({ namespace: RELEASE_NS })).items.map((d) => d.metadata!.name).sort();
    expect(deployments).toEqual([`${FULLNAME}-controller`, `${FULLNAME}-gateway`, `${FULLNAME}-operator`]);

    // The operator as the chart deploys it: its ConfigMap as environment, its ServiceAccount's token. Only what
    // needs a pod network is replaced: the controller address and the metrics port.
    const opDeployment = await apps.readNamespacedDeployment({ namespace: RELEASE_NS, name: `${FULLNAME}-operator` });
    const container = opDeployment.spec!.template.spec!.containers[0];
    expect(container.args).toEqual(['operator']);
    const cm = await o.kc.makeApiClient(CoreV1Api).readNamespacedConfigMap({ namespace: RELEASE_NS, name: `${FULLNAME}-operator` });
    expect(cm.data).toMatchObject({ FLEETCHAT_CONTROLLER: `${FULLNAME}-controller.${RELEASE_NS}.svc:21001`, FLEETCHAT_WORKER_IMAGE: 'ghcr.io/fleetchat/fleetchat:test', FLEETCHAT_WORKER_GPU_IMAGE: '', FLEETCHAT_LEADER_ELECTION_NAMESPACE: RELEASE_NS });
    const env = { ...cm.data, FLEETCHAT_IDENTITY: 'chart-operator-0', FLEETCHAT_CONTROLLER: o.controller.address, FLEETCHAT_METRICS_LISTEN: '127.0.0.1:0', FLEETCHAT_POLL_INTERVAL: '300ms' };
    const config = parseConfig(operatorOptions, [], env);
    const saKc = await serviceAccountKubeConfig(o.kc, o.env.server, o.env.caFile, RELEASE_NS, opDeployment.spec!.template.spec!.serviceAccountName!);
    operator = await startOperator(config, o.logger, { kubeConfig: saKc });
    await eventually('chart operator leads', async () => operator!.isLeader());
    const lease = await o.kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ namespace: RELEASE_NS, name: `${FULLNAME}-operator` });
    expect(lease.spec?.holderIdentity).toBe('chart-operator-0');

    // Its rights are a Role in the release namespace, where it watches (rbac.clusterWide=false, the default).
    expect(cm.data).toMatchObject({ FLEETCHAT_NAMESPACE: RELEASE_NS });
    const ns = RELEASE_NS;
    await applyFile(o.kc, join(EXAMPLES, 'modelworker-tiny.yaml'), { namespace: ns });
    const custom = o.kc.makeApiClient(CustomObjectsApi);
    const get = async (): Promise<ModelWorker> => (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace: ns, name: 'tiny' })) as ModelWorker;
    const mw = await eventually('tiny Ready', async () => {
      const got = await get();
      return ready(got) && got;
    }, 60_000);
    expect(mw.status).toMatchObject({ readyReplicas: 1, registeredWorkers: 1 });
    const worker = await apps.readNamespacedDeployment({ namespace: ns, name: 'tiny' });
    expect(worker.spec!.template.spec!.containers[0].image).toBe('ghcr.io/fleetchat/fleetchat:test');

    await custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace: ns, name: 'tiny' });
    // The finalizer runs with the ServiceAccount's rights (garbage collection is covered by operator.test.ts).
    await eventually('finalized', async () => ((await custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace: ns })) as { items: unknown[] }).items.length === 0);
  });

  it('creates values.modelWorkers on upgrade once the CRD exists, and keeps the CRD on uninstall', async () => {
    ok(await helm(['upgrade', 'fc', CHART, '--namespace', RELEASE_NS, '--set', 'image.tag=test', '--set', 'modelWorkers[0].name=from-values', '--set', 'modelWorkers[0].spec.model.source=default',
      '--set', 'modelWorkers[0].spec.replicas=3', '--set', 'modelWorkers[0].spec.autoscaling.maxReplicas=2']));
    const custom = o.kc.makeApiClient(CustomObjectsApi);
    // Autoscaling bounds: the operator (as the ServiceAccount) writes spec.replicas through the scale subresource.
    await eventually('the chart\'s ModelWorker reconciled and clamped', async () => {
      const got = (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace: RELEASE_NS, name: 'from-values' })) as ModelWorker;
      return ready(got) && got.spec.replicas === 2 && got.status?.readyReplicas === 2;
    }, 60_000);
    ok(await helm(['uninstall', 'fc', '--namespace', RELEASE_NS]));
    const ext = o.kc.makeApiClient(ApiextensionsV1Api);
    expect((await ext.readCustomResourceDefinition({ name: 'modelworkers.fleetchat.dev' })).metadata?.name).toBe('modelworkers.fleetchat.dev');
  });
});
