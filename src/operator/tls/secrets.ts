/**
 * Certificates kept in Secrets (type kubernetes.io/tls: tls.crt, tls.key, ca.crt — what cert-manager writes too):
 * the cluster CA, created once and never overwritten, and identity Secrets re-issued when missing, for another
 * identity or CA, or within the last third of their lifetime.
 */
import type { CoreV1Api, V1OwnerReference, V1Secret } from '@kubernetes/client-node';
import { isConflict, isNotFound } from '../runtime/kube-errors';
import { checkCa, createCa, issueIdentity, renewalReason, type CertificateAuthority } from './certificates';

export const ISSUED_BY_LABEL = 'fleetchat.dev/issued-by';
export const IDENTITY_ANNOTATION = 'fleetchat.dev/identity';

export interface SecretRef {
  namespace: string;
  name: string;
}

/** `ns/name` -> SecretRef (`name` alone uses `defaultNamespace`). */
export function parseSecretRef(text: string, defaultNamespace: string): SecretRef {
  const slash = text.indexOf('/');
  return slash < 0 ? { namespace: defaultNamespace, name: text } : { namespace: text.slice(0, slash), name: text.slice(slash + 1) };
}

function decode(secret: V1Secret): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(secret.data ?? {})) out[k] = Buffer.from(v, 'base64').toString('utf8');
  return out;
}

function encode(data: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(data)) out[k] = Buffer.from(v, 'utf8').toString('base64');
  return out;
}

async function readSecret(core: CoreV1Api, ref: SecretRef): Promise<V1Secret | undefined> {
  try {
    return await core.readNamespacedSecret(ref);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

function caOf(secret: V1Secret, ref: SecretRef): CertificateAuthority {
  const data = decode(secret);
  const ca = { cert: data['tls.crt'] ?? '', key: data['tls.key'] ?? '' };
  try {
    checkCa(ca);
  } catch (err) {
    throw new Error(`CA Secret ${ref.namespace}/${ref.name}: ${(err as Error).message}`, { cause: err });
  }
  return ca;
}

/** The CA in `ref`, created when the Secret does not exist (several operator replicas may race: the first wins). */
export async function loadOrCreateCa(core: CoreV1Api, ref: SecretRef): Promise<{ ca: CertificateAuthority; created: boolean }> {
  const existing = await readSecret(core, ref);
  if (existing) return { ca: caOf(existing, ref), created: false };
  const ca = createCa();
  try {
    await core.createNamespacedSecret({ namespace: ref.namespace, body: {
      metadata: { name: ref.name, labels: { [ISSUED_BY_LABEL]: 'fleetchat-operator' } },
      type: 'kubernetes.io/tls',
      data: encode({ 'tls.crt': ca.cert, 'tls.key': ca.key, 'ca.crt': ca.cert }),
    } });
    return { ca, created: true };
  } catch (err) {
    if (!isConflict(err)) throw err;
    const winner = await readSecret(core, ref);
    if (!winner) throw err;
    return { ca: caOf(winner, ref), created: false };
  }
}

export interface IdentitySecret extends SecretRef {
  uri: string;
  validityMs: number;
  owner?: V1OwnerReference;
  labels?: Record<string, string>;
}

export type IssueOutcome = { action: 'current' } | { action: 'created' | 'renewed'; reason: string };

/** Makes `want` hold a current certificate for its identity; returns what it did. */
export async function ensureIdentitySecret(core: CoreV1Api, ca: CertificateAuthority, want: IdentitySecret, nowMs = Date.now()): Promise<IssueOutcome> {
  const existing = await readSecret(core, want);
  const reason = existing ? renewalReason(decode(existing), ca, want.uri, nowMs) : 'missing';
  if (reason === undefined) return { action: 'current' };
  const body: V1Secret = {
    metadata: {
      name: want.name, namespace: want.namespace,
      labels: { ...want.labels, [ISSUED_BY_LABEL]: 'fleetchat-operator' },
      annotations: { [IDENTITY_ANNOTATION]: want.uri },
      ownerReferences: want.owner ? [want.owner] : undefined,
      resourceVersion: existing?.metadata?.resourceVersion,
    },
    type: 'kubernetes.io/tls',
    data: encode({ ...issueIdentity(ca, want.uri, want.validityMs, nowMs) }),
  };
  if (!existing) {
    await core.createNamespacedSecret({ namespace: want.namespace, body });
    return { action: 'created', reason };
  }
  if (existing.metadata?.labels?.[ISSUED_BY_LABEL] !== 'fleetchat-operator') throw new Error(`Secret ${want.namespace}/${want.name} exists and was not issued by fleetchat: not replacing it`);
  await core.replaceNamespacedSecret({ namespace: want.namespace, name: want.name, body });
  return { action: 'renewed', reason };
}
