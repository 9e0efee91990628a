/** The operator's certificate flags: issuing the cluster's certificates itself, or through cert-manager. */
import { durationOption, enumOption, listOption, stringOption } from '../../common/config';

export const WORKER_TLS_MODES = ['off', 'issue', 'cert-manager'] as const;
export type WorkerTlsMode = (typeof WORKER_TLS_MODES)[number];

export const certificateOptions = {
  tlsCaSecret: stringOption({ flag: '--tls-ca-secret', description: 'NS/NAME of the cluster CA Secret the operator issues certificates from (created when absent); without --tls-cert the operator also issues its own', default: '' }),
  tlsRoleSecrets: listOption({ flag: '--tls-role-secrets', description: 'ROLE=NS/NAME Secrets the operator keeps issued from --tls-ca-secret (e.g. controller=fleetchat/fc-controller-tls)', default: [] }),
  workerTls: enumOption({ flag: '--worker-tls', description: 'certificates of ModelWorker pods: off; issue (a Secret <name>-fleetchat-tls signed by --tls-ca-secret); cert-manager (a Certificate from --cert-manager-issuer)', choices: WORKER_TLS_MODES, default: 'off' }),
  certManagerIssuer: stringOption({ flag: '--cert-manager-issuer', description: 'KIND/NAME of the cert-manager issuer of worker Certificates: an Issuer in each ModelWorker namespace, or a ClusterIssuer', default: '', pattern: /^$|^(Issuer|ClusterIssuer)\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, patternHint: 'Issuer/NAME or ClusterIssuer/NAME' }),
  certValidity: durationOption({ flag: '--cert-validity', description: 'lifetime of issued certificates (renewed with a third left)', default: 2160 * 3_600_000, defaultLabel: '2160h' }),
  certCheckInterval: durationOption({ flag: '--cert-check-interval', description: 'how often the role and own certificates are checked for renewal (worker ones at every reconcile)', default: 3_600_000, defaultLabel: '1h' }),
  workerClusterTokenSecret: stringOption({ flag: '--worker-cluster-token-secret', description: 'Secret (key token) in each ModelWorker namespace mounted into worker pods as their --cluster-token-file', default: '' }),
};
