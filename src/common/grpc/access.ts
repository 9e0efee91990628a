/**
 * Who may call what on the internal gRPC plane when processes are identified by certificate (mTLS). One table for
 * every fleetchat gRPC service; a service or method missing here is refused (default deny).
 */
import { CLUSTER_ROLES, type ClusterRole } from './identity';

export interface ServiceAccess {
  /** Roles allowed on every method not listed in `methods`. */
  default: readonly ClusterRole[];
  methods?: Readonly<Record<string, readonly ClusterRole[]>>;
}

export const CLUSTER_ACCESS: Readonly<Record<string, ServiceAccess>> = {
  'fleetchat.v1.Controller': {
    default: ['gateway', 'operator', 'admin'],
    methods: { RegisterWorker: ['worker'], Heartbeat: ['worker'], DeregisterWorker: ['worker', 'operator', 'admin'] },
  },
  'fleetchat.v1.Worker': { default: ['gateway', 'admin'] },
  'fleetchat.v1.Judge': { default: ['jobs', 'gateway', 'admin'] },
  'grpc.health.v1.Health': { default: CLUSTER_ROLES },
};

/** Roles allowed to call `/package.Service/Method` (none when the service is unknown). */
export function rolesFor(path: string, table: Readonly<Record<string, ServiceAccess>> = CLUSTER_ACCESS): readonly ClusterRole[] {
  const m = /^\/([^/]+)\/([^/]+)$/.exec(path);
  if (!m) return [];
  const access = table[m[1] ?? ''];
  if (!access) return [];
  return access.methods?.[m[2] ?? ''] ?? access.default;
}
