import { X509Certificate } from 'node:crypto';
import { parseConfig } from '../../../src/common/config';
import type { ModelWorker } from '../../../src/operator/api/v1alpha1/types';
import { operatorOptions } from '../../../src/operator/main';
import { renderDeployment } from '../../../src/operator/modelworker/render';
import { parseIssuerRef, renderWorkerCertificate } from '../../../src/operator/modelworker/render-certificate';
import { validSpec } from '../../../src/operator/modelworker/valid-spec';
import { createCa, issueIdentity, renewalReason } from '../../../src/operator/tls/certificates';
import { parseSecretRef } from '../../../src/operator/tls/secrets';

const DAY = 24 * 3600_000;
const URI = 'spiffe://fleetchat/worker/ml/pool';

function mw(spec: Record<string, unknown>, name = 'pool'): ModelWorker {
  return { apiVersion: 'fleetchat.dev/v1alpha1', kind: 'ModelWorker', metadata: { name, namespace: 'ml', uid: 'uid-1', generation: 1 }, spec: spec as unknown as ModelWorker['spec'] };
}

const OPTIONS = { image: 'registry.example/fleetchat:1.0', gpuImage: 'registry.example/fleetchat:1.0-gpu', controllerAddress: 'c:21001', replicas: 1 };

describe('operator-issued certificates', () => {
  const ca = createCa();
  const caX509 = new X509Certificate(ca.cert);

  it('makes a CA and leaf certificates whose only SAN is the identity URI, for client and server use', () => {
    expect(caX509.ca).toBe(true);
    const leaf = issueIdentity(ca, URI, 90 * DAY);
    const x = new X509Certificate(leaf['tls.crt']);
    expect(x.subjectAltName).toBe(`URI:${URI}`);
    expect(x.ca).toBe(false);
    expect(x.checkIssued(caX509) && x.verify(caX509.publicKey)).toBe(true);
    expect(x.keyUsage).toEqual(expect.arrayContaining(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'])); // serverAuth, clientAuth
    expect(Date.parse(x.validTo) - Date.now()).toBeGreaterThan(89 * DAY);
    expect(leaf['ca.crt']).toBe(ca.cert);
  });

  it('renews when missing, for another identity or CA, with a broken key, or in the last third of its life', () => {
    const now = Date.now();
    const leaf = issueIdentity(ca, URI, 90 * DAY, now);
    expect(renewalReason(leaf, ca, URI, now)).toBeUndefined();
    expect(renewalReason(leaf, ca, URI, now + 59 * DAY)).toBeUndefined();
    expect(renewalReason(leaf, ca, URI, now + 61 * DAY)).toBe('expiring');
    expect(renewalReason({}, ca, URI, now)).toBe('missing');
    expect(renewalReason(leaf, ca, 'spiffe://fleetchat/worker/ml/other', now)).toBe('identity changed');
    expect(renewalReason(leaf, createCa(), URI, now)).toBe('CA changed');
    expect(renewalReason({ ...leaf, 'tls.key': issueIdentity(ca, URI, DAY)['tls.key'] }, ca, URI, now)).toBe('key mismatch');
    expect(renewalReason({ ...leaf, 'tls.crt': 'garbage' }, ca, URI, now)).toBe('unreadable');
  });

  it('parses Secret and issuer references', () => {
    expect(parseSecretRef('ns/name', 'd')).toEqual({ namespace: 'ns', name: 'name' });
    expect(parseSecretRef('name', 'd')).toEqual({ namespace: 'd', name: 'name' });
    expect(parseIssuerRef('ClusterIssuer/corp')).toEqual({ kind: 'ClusterIssuer', name: 'corp' });
    expect(() => parseIssuerRef('Foo/x')).toThrow('must be Issuer/NAME or ClusterIssuer/NAME');
    expect(() => parseConfig(operatorOptions, ['--cert-manager-issuer', 'Foo/x'])).toThrow();
    expect(parseConfig(operatorOptions, ['--worker-tls', 'issue', '--tls-role-secrets', 'controller=a/b,gateway=a/c']).tlsRoleSecrets).toEqual(['controller=a/b', 'gateway=a/c']);
  });
});

describe('worker pods with cluster credentials', () => {
  it('mount the ModelWorker\'s certificate Secret and name it in FLEETCHAT_TLS_*, which the spec\'s env cannot override', () => {
    const m = mw({ model: { source: 'default' }, env: [{ name: 'FLEETCHAT_TLS_CA', value: '/evil/ca.crt' }, { name: 'KEEP', value: '1' }] });
    const pod = renderDeployment(m, validSpec(m), { ...OPTIONS, credentials: { tls: true, clusterTokenSecret: 'fc-cluster-token' } }).spec!.template.spec!;
    expect(pod.volumes).toEqual(expect.arrayContaining([
      { name: 'cluster-tls', secret: { secretName: 'pool-fleetchat-tls', defaultMode: 0o440 } },
      { name: 'cluster-token', secret: { secretName: 'fc-cluster-token', defaultMode: 0o440, items: [{ key: 'token', path: 'token' }] } },
    ]));
    const c = pod.containers[0];
    expect(c.volumeMounts).toEqual(expect.arrayContaining([{ name: 'cluster-tls', mountPath: '/etc/fleetchat/tls', readOnly: true }, { name: 'cluster-token', mountPath: '/etc/fleetchat/cluster-token', readOnly: true }]));
    const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));
    expect(env).toMatchObject({ FLEETCHAT_TLS_CERT: '/etc/fleetchat/tls/tls.crt', FLEETCHAT_TLS_KEY: '/etc/fleetchat/tls/tls.key', FLEETCHAT_TLS_CA: '/etc/fleetchat/tls/ca.crt', FLEETCHAT_CLUSTER_TOKEN_FILE: '/etc/fleetchat/cluster-token/token', KEEP: '1' });
    expect((c.env ?? []).filter((e) => e.name === 'FLEETCHAT_TLS_CA')).toHaveLength(1);
  });

  it('give every worker of a one-worker-per-GPU pod the credentials', () => {
    const m = mw({ model: { source: 'default' }, resources: { limits: { 'nvidia.com/gpu': 2 } } });
    const pod = renderDeployment(m, validSpec(m), { ...OPTIONS, credentials: { tls: true } }).spec!.template.spec!;
    expect(pod.containers.map((c) => c.name)).toEqual(['worker', 'worker-1']);
    for (const c of pod.containers) {
      expect(c.volumeMounts).toContainEqual({ name: 'cluster-tls', mountPath: '/etc/fleetchat/tls', readOnly: true });
      expect(c.env).toContainEqual({ name: 'FLEETCHAT_TLS_CERT', value: '/etc/fleetchat/tls/tls.crt' });
    }
  });

  it('give the credentials to the adapter beside vLLM, not to the engine container; none without credentials', () => {
    const m = mw({ engine: 'vllm', model: { source: 'hf:Qwen/Qwen2.5-0.5B-Instruct' } });
    const pod = renderDeployment(m, validSpec(m), { ...OPTIONS, credentials: { tls: true } }).spec!.template.spec!;
    const byName = new Map(pod.containers.map((c) => [c.name, c]));
    expect(byName.get('worker')?.volumeMounts).toContainEqual({ name: 'cluster-tls', mountPath: '/etc/fleetchat/tls', readOnly: true });
    const engine = pod.containers.find((c) => c.name !== 'worker')!;
    expect(engine.volumeMounts?.some((v) => v.name === 'cluster-tls')).toBe(false);
    expect(engine.env?.some((e) => e.name.startsWith('FLEETCHAT_TLS'))).toBe(false);
    const plain = renderDeployment(m, validSpec(m), OPTIONS).spec!.template.spec!;
    expect(plain.volumes?.some((v) => v.name === 'cluster-tls')).toBe(false);
  });

  it('render a cert-manager Certificate for the worker identity, owned by the ModelWorker', () => {
    const cert = renderWorkerCertificate(mw({ model: { source: 'default' } }), { kind: 'Issuer', name: 'fc-ca' }, 90 * DAY);
    expect(cert.metadata).toMatchObject({ name: 'pool-fleetchat-tls', namespace: 'ml', ownerReferences: [{ kind: 'ModelWorker', name: 'pool', uid: 'uid-1' }] });
    expect(cert.spec).toMatchObject({ secretName: 'pool-fleetchat-tls', uris: [URI], duration: '2160h', renewBefore: '720h', issuerRef: { group: 'cert-manager.io', kind: 'Issuer', name: 'fc-ca' } });
  });
});
