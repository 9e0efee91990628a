/**
 * Who a fleetchat process is inside the cluster: a SPIFFE-style URI in the subjectAltName of its certificate,
 * `spiffe://fleetchat/<role>` or `spiffe://fleetchat/<role>/<namespace>/<name>`. A worker's certificate names the
 * ModelWorker (or pod) it may register for; the controller checks registrations against it.
 */
export const CLUSTER_ROLES = ['controller', 'gateway', 'worker', 'operator', 'judge', 'jobs', 'admin'] as const;
export type ClusterRole = (typeof CLUSTER_ROLES)[number];

export const TRUST_DOMAIN = 'fleetchat';

export interface PeerIdentity {
  role: ClusterRole;
  /** Kubernetes namespace ('' when the identity names none). */
  namespace: string;
  /** ModelWorker or pod name ('' when the identity names none). */
  name: string;
  uri: string;
}

const NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

function isRole(s: string): s is ClusterRole {
  return (CLUSTER_ROLES as readonly string[]).includes(s);
}

export function identityUri(role: ClusterRole, namespace = '', name = ''): string {
  if ((namespace === '') !== (name === '')) throw new Error('an identity names both a namespace and a name, or neither');
  if (namespace !== '' && (!NAME.test(namespace) || !NAME.test(name))) throw new Error(`invalid identity name ${namespace}/${name}`);
  return `spiffe://${TRUST_DOMAIN}/${role}${namespace ? `/${namespace}/${name}` : ''}`;
}

export function parseIdentityUri(uri: string): PeerIdentity | undefined {
  const prefix = `spiffe://${TRUST_DOMAIN}/`;
  if (!uri.startsWith(prefix)) return undefined;
  const parts = uri.slice(prefix.length).split('/');
  const role = parts[0] ?? '';
  if (!isRole(role)) return undefined;
  if (parts.length === 1) return { role, namespace: '', name: '', uri };
  if (parts.length !== 3 || !NAME.test(parts[1] ?? '') || !NAME.test(parts[2] ?? '')) return undefined;
  return { role, namespace: parts[1] ?? '', name: parts[2] ?? '', uri };
}

/**
 * The identity in a certificate's subjectAltName as Node prints it (`DNS:a, URI:spiffe://fleetchat/worker/ns/n`).
 * A certificate that carries more than one fleetchat identity is ambiguous and names none.
 */
export function identityOfAltNames(subjectAltName: string | undefined): PeerIdentity | undefined {
  if (!subjectAltName) return undefined;
  const found = subjectAltName
    .split(/,\s*/)
    .filter((entry) => entry.startsWith('URI:'))
    .map((entry) => parseIdentityUri(entry.slice(4)))
    .filter((id): id is PeerIdentity => id !== undefined);
  return found.length === 1 ? found[0] : undefined;
}

/** "role" or "role ns/name" for logs. */
export function describeIdentity(id: PeerIdentity | undefined): string {
  if (!id) return 'anonymous';
  return id.namespace ? `${id.role} ${id.namespace}/${id.name}` : id.role;
}
