/**
 * Who may register, heartbeat or remove which worker. With mTLS (callers identified by certificate):
 * - a worker certificate must name `<namespace>/<name>` (a ModelWorker or a pod); it may register only the worker
 *   id `<namespace>.<name>` or the ids of that Deployment's pods, `<namespace>.<name>-<replicaset>-<pod>` (the
 *   operator starts each pod with `--worker-id <ns>.<pod name>`), and only the ModelWorker label `<namespace>/<name>`;
 * - a worker id belongs to the identity that registered it first: another identity cannot take it over, beat for
 *   it or remove it (the operator and admins may remove it);
 * - the advertised address must be the caller's own IP (the pod IP the connection comes from).
 * Always: the registry holds at most `maxWorkers` entries.
 * Refusals carry a reason, which the controller logs and counts.
 */
import { FleetError, type ErrorKind } from '../common/errors';
import type { WorkerInfo } from '../common/gen/controller';
import type { PeerIdentity } from '../common/grpc/identity';
import { MODEL_WORKER_LABEL } from '../common/worker-labels';

/** The label the operator's workers carry (same string as the operator's; the controller imports no operator code). */

export type RefusalReason = 'identity_mismatch' | 'takeover' | 'address_mismatch' | 'registry_full' | 'not_owner';

export class AdmissionError extends FleetError {
  constructor(
    readonly reason: RefusalReason,
    kind: ErrorKind,
    message: string,
  ) {
    super(kind, message);
  }
}

export interface Caller {
  /** The certificate identity (mTLS); undefined when callers are not identified. */
  identity?: PeerIdentity;
  /** The connection's remote address as grpc-js reports it (`1.2.3.4:5678`, `[::1]:5678`). */
  peer: string;
}

/** `host` of host:port / [host]:port, lower-cased, with IPv4-mapped IPv6 unwrapped. */
export function hostOf(address: string): string {
  const m = /^\[([^\]]+)\]:\d+$/.exec(address) ?? /^(.*):\d+$/.exec(address);
  const host = (m?.[1] ?? address).toLowerCase();
  return host.startsWith('::ffff:') && host.includes('.') ? host.slice(7) : host;
}

/** The owner key recorded with a registration ('' when callers are not identified). */
export function ownerOf(caller: Caller): string {
  return caller.identity?.uri ?? '';
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Worker ids an identity `<ns>/<name>` may register: the pod `<ns>.<name>`, or a pod of the Deployment `<name>`. */
export function workerIdsOf(namespace: string, name: string): RegExp {
  const base = `${escapeRegExp(namespace)}\\.${escapeRegExp(name)}`;
  return new RegExp(`^${base}(-[a-z0-9]{1,10}-[a-z0-9]{5})?$`);
}

export function checkRegistration(info: WorkerInfo, caller: Caller, existingOwner: string | undefined): void {
  const id = caller.identity;
  if (!id) return;
  if (!id.namespace) {
    throw new AdmissionError('identity_mismatch', 'permission_denied', `a worker certificate must name the ModelWorker or pod it serves (${id.uri} names none)`);
  }
  if (!workerIdsOf(id.namespace, id.name).test(info.workerId)) {
    throw new AdmissionError('identity_mismatch', 'permission_denied', `worker identity ${id.namespace}/${id.name} may register only worker ids ${id.namespace}.${id.name} or ${id.namespace}.${id.name}-<replicaset>-<pod>, not '${info.workerId}'`);
  }
  const label = info.labels[MODEL_WORKER_LABEL];
  if (label !== undefined && label !== `${id.namespace}/${id.name}`) {
    throw new AdmissionError('identity_mismatch', 'permission_denied', `worker identity ${id.namespace}/${id.name} may not carry ${MODEL_WORKER_LABEL}=${label}`);
  }
  if (existingOwner !== undefined && existingOwner !== id.uri) {
    throw new AdmissionError('takeover', 'permission_denied', `worker id '${info.workerId}' belongs to another identity`);
  }
  const advertised = hostOf(info.address);
  const from = hostOf(caller.peer);
  if (advertised !== from) {
    throw new AdmissionError('address_mismatch', 'permission_denied', `worker address ${info.address} is not the caller's own address (${from})`);
  }
}

/** Heartbeat / deregister of `workerId` by a worker: only its owner. Other roles pass (the access table decides). */
export function checkOwner(workerId: string, caller: Caller, owner: string | undefined): void {
  if (!caller.identity || caller.identity.role !== 'worker' || owner === undefined) return;
  if (owner !== caller.identity.uri) throw new AdmissionError('not_owner', 'permission_denied', `worker id '${workerId}' belongs to another identity`);
}
