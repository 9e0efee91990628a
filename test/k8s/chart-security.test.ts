/**
 * The chart's security objects against the real API server: the ValidatingAdmissionPolicy refuses ModelWorkers with
 * images or Secrets outside the allow-lists (and admits allowed ones), the aggregated ModelWorker roles give `view`
 * read and `edit` write (SubjectAccessReview, and a real request as the ServiceAccount), and the NetworkPolicies
 * apply and select the pods they are meant for. Nothing enforces NetworkPolicies here (no network plugin), so their
 * effect on traffic is not tested.
 */
import { join } from 'node:path';
import {
  AppsV1Api, AuthorizationV1Api, CoreV1Api, CustomObjectsApi, NetworkingV1Api, RbacAuthorizationV1Api, loadAllYaml,
  type KubeConfig, type KubernetesObject, type V1LabelSelector, type V1NetworkPolicyPeer,
} from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION } from '../../src/operator/api/v1alpha1/schema';
import type { ModelWorker } from '../../src/operator/api/v1alpha1/types';
import { renderDeployment } from '../../src/operator/modelworker/render';
import { validSpec } from '../../src/operator/modelworker/valid-spec';
import { k8sDescribe, startEnvtest, type Envtest } from './envtest';
import { helmRunner, type HelmResult } from './support/helm';
import { apiMessage, eventually, expectRejected, waitEstablished } from './support/kube';
import { serviceAccountKubeConfig } from './support/service-account';

const CHART = join(__dirname, '../../charts/fleetchat');
const NS = 'fleetchat-sec';
const FULLNAME = 'sec-fleetchat';

function ok(result: HelmResult): string {
  if (result.code !== 0) throw new Error(`helm failed (${result.code}):\n${result.stderr}\n${result.stdout.slice(0, 2000)}`);
  return result.stdout;
}

function modelWorker(name: string, spec: Record<string, unknown>): ModelWorker {
  return { apiVersion: `${GROUP}/${VERSION}`, kind: 'ModelWorker', metadata: { name, namespace: NS }, spec: { model: { source: 'default' }, ...spec } };
}

/** `k=v,k=v` of a selector's matchLabels (the chart uses no matchExpressions). */
function selectorString(sel: V1LabelSelector | undefined): string {
  expect(sel?.matchExpressions ?? []).toEqual([]);
  return Object.entries(sel?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
}

k8sDescribe(['helm', 'kubeControllerManager', 'kubeScheduler'])('chart security: admission policy, aggregated roles, NetworkPolicies', () => {
  let env: Envtest;
  let kc: KubeConfig;
  let helm: (args: string[]) => Promise<HelmResult>;
  beforeAll(async () => {
    env = await startEnvtest({
      controllers: true,
      controllerList: ['deployment-controller', 'replicaset-controller', 'clusterrole-aggregation-controller', 'namespace-controller', 'serviceaccount-controller'],
    });
    kc = env.kubeConfig;
    helm = helmRunner(env.binaries.helm!, env.kubeconfigPath);
    ok(await helm(['install', 'sec', CHART, '--namespace', NS, '--create-namespace', '--set', 'image.tag=test', '--wait=false',
      '--set', 'admission.allowedImages={vllm/vllm-openai,registry.example.com/ml/}', '--set', 'admission.allowedSecrets={hf-token}']));
    await waitEstablished(kc, 'modelworkers.fleetchat.dev');
  }, 120_000);
  afterAll(async () => {
    await env?.stop();
  });

  const create = (mw: ModelWorker, as: KubeConfig = kc): Promise<unknown> =>
    as.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace: NS, body: mw });

  it('renders a namespaced Role for the operator by default and a ClusterRole only with rbac.clusterWide', async () => {
    const kinds = async (...set: string[]): Promise<string[]> => {
      const out = ok(await helm(['template', 'sec', CHART, '--namespace', NS, '--show-only', 'templates/operator-rbac.yaml', ...set.flatMap((s) => ['--set', s])]));
      return (loadAllYaml(out) as KubernetesObject[]).filter((d) => d?.kind).map((d) => `${d.kind}/${d.metadata?.namespace ?? ''}`).sort();
    };
    expect(await kinds()).toEqual(['Role/fleetchat-sec', 'Role/fleetchat-sec', 'RoleBinding/fleetchat-sec', 'RoleBinding/fleetchat-sec', 'ServiceAccount/fleetchat-sec']);
    expect(await kinds('operator.watchNamespace=ml')).toEqual(['Role/fleetchat-sec', 'Role/ml', 'RoleBinding/fleetchat-sec', 'RoleBinding/ml', 'ServiceAccount/fleetchat-sec']);
    expect(await kinds('rbac.clusterWide=true')).toEqual(['ClusterRole/', 'ClusterRoleBinding/', 'Role/fleetchat-sec', 'RoleBinding/fleetchat-sec', 'ServiceAccount/fleetchat-sec']);
    ok(await helm(['lint', '--strict', CHART, '--set', 'rbac.clusterWide=true', '--set', 'networkPolicy.workerNamespaces={ml}', '--set', 'admission.namespaceSelector.matchLabels.team=ml', '--set', 'networkPolicy.enabled=false', '--set', 'admission.enabled=false']));
    ok(await helm(['lint', '--strict', CHART, '--set', 'tls.enabled=true', '--set', 'tls.certManager.enabled=true', '--set', 'clusterToken.enabled=true', '--set', 'tls.caSecret=my-ca']));
    const refused = await helm(['template', 'sec', CHART, '--set', 'tls.enabled=true', '--set', 'operator.enabled=false']);
    expect(refused.stderr).toContain('tls.enabled without tls.certManager needs operator.enabled');
  });

  it('the ValidatingAdmissionPolicy refuses images and Secrets outside the allow-lists, and admits allowed ones', async () => {
    // The policy takes effect once the API server has compiled it.
    const first = await eventually('policy in force', async () => {
      try {
        await create(modelWorker('miner', { image: 'evil.example/miner:1' }));
        await kc.makeApiClient(CustomObjectsApi).deleteNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace: NS, name: 'miner' });
        return false;
      } catch (err) {
        return apiMessage(err);
      }
    }, 30_000, 500);
    expect(first).toContain('ModelWorker image evil.example/miner:1 is not allowed (admission.allowedImages: ghcr.io/fleetchat/fleetchat, vllm/vllm-openai, registry.example.com/ml/)');
    // An allowed name is not a prefix of other names.
    expect(await expectRejected(create(modelWorker('lookalike', { image: 'ghcr.io/fleetchat/fleetchat-evil:1' })))).toContain('image ghcr.io/fleetchat/fleetchat-evil:1 is not allowed');
    expect(await expectRejected(create(modelWorker('engine', { engine: 'vllm', model: { source: 'hf:Qwen/Qwen2.5-0.5B-Instruct' }, engineContainer: { image: 'docker.io/evil/vllm:1' } })))).toContain('image docker.io/evil/vllm:1 is not allowed');
    expect(await expectRejected(create(modelWorker('env-secret', { env: [{ name: 'DB', valueFrom: { secretKeyRef: { name: 'arena-db', key: 'url' } } }] })))).toContain('ModelWorker may not read Secret arena-db (admission.allowedSecrets: hf-token)');
    expect(await expectRejected(create(modelWorker('upstream-key', { engine: 'openai', model: {}, upstream: { url: 'https://api.example.com/v1', apiKeySecretRef: { name: 'openai', key: 'key' } } })))).toContain('may not read Secret openai');
    expect(await expectRejected(create(modelWorker('own-cert', { extraArgs: ['--threads', '2', '--tls-ca=/tmp/other.crt'] })))).toContain('spec.extraArgs may not set --tls-cert');
    expect(await expectRejected(create(modelWorker('http-mirror', { model: { source: 'http://mirror.example/org/model', hfTokenSecretRef: { name: 'hf-token', key: 'token' } } })))).toContain('a hub mirror that receives model.hfTokenSecretRef must be https://');

    // Allowed: the chart's image with a tag, an allowed repository with a digest, everything under a '/' entry,
    // the named Secret, an https mirror with the token.
    await create(modelWorker('own-image', { image: 'ghcr.io/fleetchat/fleetchat:0.2.0' }));
    await create(modelWorker('vllm', { engine: 'vllm', model: { source: 'hf:Qwen/Qwen2.5-0.5B-Instruct', hfTokenSecretRef: { name: 'hf-token', key: 'token' } }, engineContainer: { image: `vllm/vllm-openai@sha256:${'a'.repeat(64)}` } }));
    await create(modelWorker('registry', { image: 'registry.example.com/ml/team/worker:1', model: { source: 'https://mirror.example/org/model', hfTokenSecretRef: { name: 'hf-token', key: 'token' } } }));
    await create(modelWorker('plain', {}));
    const custom = kc.makeApiClient(CustomObjectsApi);
    // Changing the spec is checked again; metadata-only updates are not.
    expect(await expectRejected(custom.patchNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace: NS, name: 'plain', body: [{ op: 'add', path: '/spec/image', value: 'evil.example/x:1' }] }))).toContain('is not allowed');
    await custom.patchNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace: NS, name: 'plain', body: [{ op: 'add', path: '/metadata/labels', value: { team: 'ml' } }] });
  });

  it('aggregates ModelWorker rights into view and edit: a viewer reads but cannot create, an editor creates (SubjectAccessReview and real requests)', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    for (const [sa, role] of [['viewer', 'view'], ['editor', 'edit']]) {
      await core.createNamespacedServiceAccount({ namespace: NS, body: { metadata: { name: sa } } });
      await rbac.createNamespacedRoleBinding({ namespace: NS, body: { metadata: { name: sa }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role }, subjects: [{ kind: 'ServiceAccount', name: sa, namespace: NS }] } });
    }
    const authz = kc.makeApiClient(AuthorizationV1Api);
    const allowed = async (sa: string, verb: string, subresource?: string): Promise<boolean> => {
      const review = await authz.createSubjectAccessReview({ body: { spec: { user: `system:serviceaccount:${NS}:${sa}`, groups: ['system:serviceaccounts', `system:serviceaccounts:${NS}`], resourceAttributes: { group: GROUP, resource: PLURAL, subresource, verb, namespace: NS } } } });
      return review.status?.allowed === true;
    };
    // The aggregation controller copies the rules into view / edit shortly after the chart's ClusterRoles exist.
    await eventually('edit aggregated', () => allowed('editor', 'create'), 30_000, 300);
    await eventually('view aggregated', () => allowed('viewer', 'get'), 30_000, 300);
    expect({ viewerGet: await allowed('viewer', 'list'), viewerCreate: await allowed('viewer', 'create'), viewerDelete: await allowed('viewer', 'delete'), viewerScale: await allowed('viewer', 'update', 'scale') })
      .toEqual({ viewerGet: true, viewerCreate: false, viewerDelete: false, viewerScale: false });
    expect({ editorDelete: await allowed('editor', 'delete'), editorScale: await allowed('editor', 'update', 'scale'), editorStatus: await allowed('editor', 'update', 'status') })
      .toEqual({ editorDelete: true, editorScale: true, editorStatus: false });

    const viewer = await serviceAccountKubeConfig(kc, env.server, env.caFile, NS, 'viewer');
    const editor = await serviceAccountKubeConfig(kc, env.server, env.caFile, NS, 'editor');
    const listed = (await viewer.makeApiClient(CustomObjectsApi).listNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace: NS })) as { items: ModelWorker[] };
    expect(listed.items.map((m) => m.metadata.name)).toContain('plain');
    expect(await expectRejected(create(modelWorker('by-viewer', {}), viewer))).toContain('cannot create resource "modelworkers"');
    await create(modelWorker('by-editor', {}), editor);
    // The admission policy applies to editors too.
    expect(await expectRejected(create(modelWorker('by-editor-evil', { image: 'evil.example/x:1' }), editor))).toContain('is not allowed');
  });

  it('NetworkPolicies apply and select the intended pods: workers and the controller are reached only from the intended peers', async () => {
    // Worker pods as the operator renders them for a ModelWorker.
    const mw = modelWorker('tiny', {});
    mw.metadata.uid = ((await kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace: NS, name: 'plain' })) as ModelWorker).metadata.uid;
    mw.metadata.name = 'plain';
    const deployment = renderDeployment(mw, validSpec(mw), { image: 'ghcr.io/fleetchat/fleetchat:test', gpuImage: 'ghcr.io/fleetchat/fleetchat:test-gpu', controllerAddress: 'c:1', replicas: 2 });
    await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({ namespace: NS, body: deployment });
    const core = kc.makeApiClient(CoreV1Api);
    const podsOf = async (selector: string, namespace = NS): Promise<string[]> =>
      (await core.listNamespacedPod({ namespace, labelSelector: selector })).items.map((p) => p.metadata!.labels!['app.kubernetes.io/component'] ?? '?').sort();
    await eventually('all pods created', async () => (await core.listNamespacedPod({ namespace: NS })).items.length === 5, 60_000, 300); // controller, gateway, operator, 2 workers

    const policies = (await kc.makeApiClient(NetworkingV1Api).listNamespacedNetworkPolicy({ namespace: NS })).items;
    const byName = new Map(policies.map((p) => [p.metadata!.name!.replace(`${FULLNAME}-`, ''), p]));
    expect([...byName.keys()].sort()).toEqual(['controller', 'gateway', 'judge', 'operator', 'workers']);
    const selected = async (name: string): Promise<string[]> => podsOf(selectorString(byName.get(name)!.spec!.podSelector));
    expect(await selected('controller')).toEqual(['controller']);
    expect(await selected('gateway')).toEqual(['gateway']);
    expect(await selected('operator')).toEqual(['operator']);
    expect(await selected('workers')).toEqual(['worker', 'worker']);
    expect(await selected('judge')).toEqual([]);

    const peers = async (list: V1NetworkPolicyPeer[] | undefined): Promise<string[]> => {
      const out: string[] = [];
      for (const peer of list ?? []) {
        // A namespaceSelector of {} means every namespace; the chart's other namespace selectors name the release namespace.
        const ns = peer.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'];
        if (peer.namespaceSelector && ns === undefined) expect(peer.namespaceSelector).toEqual({});
        if (ns !== undefined) expect(ns).toBe(NS);
        out.push(...(await podsOf(selectorString(peer.podSelector))));
      }
      return out.sort();
    };
    const workers = byName.get('workers')!.spec!;
    // Only the gateway reaches the workers' gRPC port; the metrics port is separate.
    expect(workers.ingress?.[0].ports).toEqual([{ port: 21011, protocol: 'TCP' }]);
    expect(await peers(workers.ingress?.[0]._from)).toEqual(['gateway']);
    expect(workers.ingress?.[1].ports).toEqual([{ port: 21012, protocol: 'TCP' }]);
    // Workers reach the controller, DNS and HTTPS (their model source), nothing else.
    expect(workers.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(await peers(workers.egress?.[0].to)).toEqual(['controller']);
    expect(workers.egress?.[1].ports?.map((p) => p.port)).toEqual([53, 53]);
    expect(workers.egress?.[2]).toEqual({ ports: [{ port: 443, protocol: 'TCP' }] });
    expect(workers.egress).toHaveLength(3);

    const controller = byName.get('controller')!.spec!;
    expect(controller.ingress?.[0].ports).toEqual([{ port: 'grpc', protocol: 'TCP' }]);
    expect(await peers(controller.ingress?.[0]._from)).toEqual(['gateway', 'operator', 'worker', 'worker']);
    expect(controller.egress?.map((r) => r.ports?.map((p) => p.port))).toEqual([[53, 53]]);
    // The gateway's public ports are open to everyone.
    expect(byName.get('gateway')!.spec!.ingress).toEqual([{ ports: [{ port: 'http', protocol: 'TCP' }, { port: 'grpc', protocol: 'TCP' }] }]);
    // The judge only from fleetchat jobs.
    expect(byName.get('judge')!.spec!.ingress?.[0]._from).toEqual([{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'fleetchat-job' } } }]);
  });

  it('clusterToken: a random token Secret, kept across upgrades, mounted by controller, gateway and operator and named for worker pods', async () => {
    const upgrade = async (): Promise<string> => {
      ok(await helm(['upgrade', 'sec', CHART, '--namespace', NS, '--reuse-values', '--set', 'clusterToken.enabled=true', '--wait=false']));
      const secret = await kc.makeApiClient(CoreV1Api).readNamespacedSecret({ namespace: NS, name: `${FULLNAME}-cluster-token` });
      return Buffer.from(secret.data?.token ?? '', 'base64').toString('utf8');
    };
    const token = await upgrade();
    expect(token).toMatch(/^[A-Za-z0-9]{48}$/);
    expect(await upgrade()).toBe(token);
    const apps = kc.makeApiClient(AppsV1Api);
    for (const component of ['controller', 'gateway', 'operator']) {
      const pod = (await apps.readNamespacedDeployment({ namespace: NS, name: `${FULLNAME}-${component}` })).spec!.template.spec!;
      expect(pod.volumes).toContainEqual({ name: 'cluster-token', secret: { secretName: `${FULLNAME}-cluster-token`, defaultMode: 0o440, items: [{ key: 'token', path: 'token' }] } });
      const cm = await kc.makeApiClient(CoreV1Api).readNamespacedConfigMap({ namespace: NS, name: `${FULLNAME}-${component}` });
      expect(cm.data?.FLEETCHAT_CLUSTER_TOKEN_FILE).toBe('/etc/fleetchat/cluster-token/token');
      if (component === 'operator') expect(cm.data?.FLEETCHAT_WORKER_CLUSTER_TOKEN_SECRET).toBe(`${FULLNAME}-cluster-token`);
      // kubelet's gRPC probe carries no token: the controller is probed over HTTP.
      if (component === 'controller') expect(pod.containers[0].readinessProbe).toMatchObject({ httpGet: { path: '/readyz', port: 'metrics' } });
    }
  });
});
