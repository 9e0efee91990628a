/**
 * The cert-manager Certificate of a ModelWorker (pure): its pods' identity `spiffe://fleetchat/worker/<ns>/<name>`
 * as the only SAN, written by cert-manager into the Secret the pods mount (render-credentials.ts). Owned by the
 * ModelWorker, so it goes with it.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { identityUri } from '../../common/grpc/identity';
import type { ModelWorker } from '../api/v1alpha1/types';
import { objectLabels } from './labels';
import { ownerReference } from './render';
import { workerTlsSecretName } from './render-credentials';

export interface IssuerRef {
  kind: 'Issuer' | 'ClusterIssuer';
  name: string;
}

export interface CertManagerCertificate extends KubernetesObject {
  spec: Record<string, unknown>;
}

/** `Issuer/NAME` or `ClusterIssuer/NAME`. */
export function parseIssuerRef(text: string): IssuerRef {
  const [kind, name] = text.split('/');
  if ((kind !== 'Issuer' && kind !== 'ClusterIssuer') || !name) throw new Error(`cert-manager issuer '${text}' must be Issuer/NAME or ClusterIssuer/NAME`);
  return { kind, name };
}

function hours(ms: number): string {
  return `${Math.max(1, Math.round(ms / 3_600_000))}h`;
}

export function renderWorkerCertificate(mw: ModelWorker, issuer: IssuerRef, validityMs: number): CertManagerCertificate {
  const name = workerTlsSecretName(mw.metadata.name);
  return {
    apiVersion: 'cert-manager.io/v1',
    kind: 'Certificate',
    metadata: { name, namespace: mw.metadata.namespace, labels: objectLabels(mw.metadata.name), ownerReferences: [ownerReference(mw)] },
    spec: {
      secretName: name,
      uris: [identityUri('worker', mw.metadata.namespace, mw.metadata.name)],
      duration: hours(validityMs),
      renewBefore: hours(validityMs / 3),
      privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' },
      usages: ['digital signature', 'key encipherment', 'server auth', 'client auth'],
      issuerRef: { group: 'cert-manager.io', kind: issuer.kind, name: issuer.name },
    },
  };
}
