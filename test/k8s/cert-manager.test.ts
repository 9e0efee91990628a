/**
 * The chart's cert-manager variant (tls.certManager.enabled) against cert-manager's real CRDs (from its Go module,
 * scripts/k8s/fetch-cert-manager-crds.sh): the API server accepts the chart's Issuers and Certificates (cert-manager's
 * schemas validate them), each role's Certificate asks for exactly its identity, and the operator — running with the
 * chart's configuration as the chart's ServiceAccount — creates a Certificate per ModelWorker whose Secret the worker
 * pods mount. No cert-manager controller runs here (its cmd/ modules are not on the module proxy), so nothing signs
 * them: the operator's own certificate files, which cert-manager would mount, come from a test CA.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { parseConfig } from '../../src/common/config';
import { silentLogger } from '../../src/common/log';
import { operatorOptions, startOperator, type RunningOperator } from '../../src/operator/main';
import { createCa, issueIdentity } from '../../src/operator/tls/certificates';
import { k8sDescribe, startEnvtest, type Envtest } from './envtest';
import { helmRunner, type HelmResult } from './support/helm';
import { applyFile, applyYaml, eventually, waitEstablished } from './support/kube';
import { serviceAccountKubeConfig } from './support/service-account';

const CHART = join(__dirname, '../../charts/fleetchat');
const EXAMPLES = join(__dirname, '../../examples');
const CRDS = join(process.env.FLEETCHAT_K8S_BIN_DIR ?? join(homedir(), '.cache', 'fleetchat', 'k8s-bins'), 'cert-manager');
const NS = 'fleetchat-cm';
const FULLNAME = 'cm-fleetchat';

function ok(result: HelmResult): string {
  if (result.code !== 0) throw new Error(`helm failed (${result.code}):\n${result.stderr}\n${result.stdout.slice(0, 2000)}`);
  return result.stdout;
}

interface Certificate {
  metadata: { name: string; ownerReferences?: Array<{ kind: string; name: string }> };
  spec: { secretName: string; uris?: string[]; isCA?: boolean; issuerRef: { kind: string; name: string } };
}

const haveCrds = existsSync(join(CRDS, 'crd-certificates.yaml'));
if (!haveCrds) {
  const message = `cert-manager CRDs missing in ${CRDS} — run scripts/k8s/fetch-cert-manager-crds.sh`;
  if (process.env.CI) throw new Error(message);
  process.stderr.write(`SKIPPED cert-manager chart tests: ${message}\n`);
}

(haveCrds ? k8sDescribe(['helm']) : describe.skip)('chart TLS with cert-manager (its real CRDs)', () => {
  let env: Envtest;
  let kc: KubeConfig;
  let helm: (args: string[]) => Promise<HelmResult>;
  let operator: RunningOperator | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'fleetchat-cm-test-'));
  const custom = (): CustomObjectsApi => kc.makeApiClient(CustomObjectsApi);
  const certificates = async (): Promise<Certificate[]> =>
    ((await custom().listNamespacedCustomObject({ group: 'cert-manager.io', version: 'v1', plural: 'certificates', namespace: NS })) as { items: Certificate[] }).items;

  beforeAll(async () => {
    env = await startEnvtest();
    kc = env.kubeConfig;
    for (const crd of ['certificates', 'issuers', 'clusterissuers']) await applyYaml(kc, readFileSync(join(CRDS, `crd-${crd}.yaml`), 'utf8'), { fieldManager: 'fleetchat-test' });
    for (const crd of ['certificates', 'issuers', 'clusterissuers']) await waitEstablished(kc, `${crd}.cert-manager.io`);
    helm = helmRunner(env.binaries.helm!, env.kubeconfigPath);
  }, 120_000);

  afterAll(async () => {
    await operator?.stop();
    await env?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('installs a CA Issuer chain and one Certificate per role that cert-manager\'s schemas accept, each naming only its identity', async () => {
    ok(await helm(['install', 'cm', CHART, '--namespace', NS, '--create-namespace', '--set', 'image.tag=test', '--set', 'tls.enabled=true', '--set', 'tls.certManager.enabled=true', '--wait=false']));
    const byName = new Map((await certificates()).map((c) => [c.metadata.name, c]));
    expect(byName.get(`${FULLNAME}-ca`)?.spec).toMatchObject({ isCA: true, secretName: `${FULLNAME}-ca`, issuerRef: { kind: 'Issuer', name: `${FULLNAME}-selfsigned` } });
    for (const role of ['controller', 'gateway', 'operator']) {
      expect(byName.get(`${FULLNAME}-${role}-tls`)?.spec).toMatchObject({ secretName: `${FULLNAME}-${role}-tls`, uris: [`spiffe://fleetchat/${role}`], issuerRef: { kind: 'Issuer', name: `${FULLNAME}-ca` } });
    }
    const issuers = (await custom().listNamespacedCustomObject({ group: 'cert-manager.io', version: 'v1', plural: 'issuers', namespace: NS })) as { items: Array<{ metadata: { name: string }; spec: Record<string, unknown> }> };
    expect(Object.fromEntries(issuers.items.map((i) => [i.metadata.name, i.spec]))).toEqual({ [`${FULLNAME}-selfsigned`]: { selfSigned: {} }, [`${FULLNAME}-ca`]: { ca: { secretName: `${FULLNAME}-ca` } } });
    // A named issuer replaces the chart's CA; ModelWorkers elsewhere need one.
    const own = ok(await helm(['template', 'cm', CHART, '--namespace', NS, '--show-only', 'templates/tls-cert-manager.yaml', '--set', 'tls.enabled=true', '--set', 'tls.certManager.enabled=true', '--set', 'tls.certManager.issuerRef.kind=ClusterIssuer', '--set', 'tls.certManager.issuerRef.name=corp']));
    expect(own).not.toContain('kind: Issuer');
    expect(own.match(/kind: ClusterIssuer\n\s+name: corp/g)).toHaveLength(3);
    const refused = await helm(['template', 'cm', CHART, '--set', 'tls.enabled=true', '--set', 'tls.certManager.enabled=true', '--set', 'operator.watchNamespace=ml']);
    expect(refused.stderr).toContain('ModelWorkers outside the release namespace need tls.certManager.issuerRef');
  });

  it('the operator, as the chart\'s ServiceAccount, creates a Certificate per ModelWorker and its pods mount the Secret', async () => {
    const apps = kc.makeApiClient(AppsV1Api);
    const op = (await apps.readNamespacedDeployment({ namespace: NS, name: `${FULLNAME}-operator` })).spec!.template.spec!;
    expect(op.volumes).toContainEqual({ name: 'cluster-tls', secret: { secretName: `${FULLNAME}-operator-tls`, defaultMode: 0o440 } });
    const cm = await kc.makeApiClient(CoreV1Api).readNamespacedConfigMap({ namespace: NS, name: `${FULLNAME}-operator` });
    expect(cm.data).toMatchObject({ FLEETCHAT_WORKER_TLS: 'cert-manager', FLEETCHAT_CERT_MANAGER_ISSUER: `Issuer/${FULLNAME}-ca`, FLEETCHAT_TLS_CERT: '/etc/fleetchat/tls/tls.crt' });
    expect(cm.data).not.toHaveProperty('FLEETCHAT_TLS_CA_SECRET');
    // What cert-manager would have mounted at /etc/fleetchat/tls.
    const pem = issueIdentity(createCa(), 'spiffe://fleetchat/operator', 3_600_000);
    for (const [file, text] of Object.entries(pem)) writeFileSync(join(dir, file), text);
    const config = parseConfig(operatorOptions, [], {
      ...cm.data, FLEETCHAT_TLS_CERT: join(dir, 'tls.crt'), FLEETCHAT_TLS_KEY: join(dir, 'tls.key'), FLEETCHAT_TLS_CA: join(dir, 'ca.crt'),
      FLEETCHAT_IDENTITY: 'cm-operator-0', FLEETCHAT_CONTROLLER: '127.0.0.1:9', FLEETCHAT_METRICS_LISTEN: '127.0.0.1:0', FLEETCHAT_LEADER_ELECT: 'false',
    });
    operator = await startOperator(config, silentLogger(), { kubeConfig: await serviceAccountKubeConfig(kc, env.server, env.caFile, NS, `${FULLNAME}-operator`) });
    await applyFile(kc, join(EXAMPLES, 'modelworker-tiny.yaml'), { namespace: NS });
    const cert = await eventually('the ModelWorker\'s Certificate', async () => (await certificates()).find((c) => c.metadata.name === 'tiny-fleetchat-tls'), 30_000, 200);
    expect(cert.spec).toMatchObject({ secretName: 'tiny-fleetchat-tls', uris: [`spiffe://fleetchat/worker/${NS}/tiny`], issuerRef: { kind: 'Issuer', name: `${FULLNAME}-ca` } });
    expect(cert.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'ModelWorker', name: 'tiny' })]);
    const pod = (await eventually('the worker Deployment', () => apps.readNamespacedDeployment({ namespace: NS, name: 'tiny' }), 30_000, 200)).spec!.template.spec!;
    expect(pod.volumes).toContainEqual({ name: 'cluster-tls', secret: { secretName: 'tiny-fleetchat-tls', defaultMode: 0o440 } });
    // The operator's rights here are certificates, not Secrets.
    const secrets = (await kc.makeApiClient(CoreV1Api).listNamespacedSecret({ namespace: NS })).items.map((s) => s.metadata!.name);
    expect(secrets).not.toContain('tiny-fleetchat-tls');
  });
});
