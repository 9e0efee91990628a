/**
 * The operator's part in the cluster's certificates, from its flags (options.ts):
 * - `--tls-ca-secret`: the cluster CA lives in that Secret (created when absent). The operator keeps the
 *   `--tls-role-secrets` (controller, gateway, ...) issued from it and, without `--tls-cert`, issues its own operator
 *   certificate into a private temp dir; all are checked every `--cert-check-interval` and renewed with a third of
 *   their lifetime left (the processes re-read mounted files every minute).
 * - `--worker-tls issue`: each ModelWorker gets a Secret `<name>-fleetchat-tls` for
 *   `spiffe://fleetchat/worker/<ns>/<name>`, made current at every reconcile; `--worker-tls cert-manager`: a
 *   cert-manager Certificate for the same identity instead.
 */
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CoreV1Api } from '@kubernetes/client-node';
import type { ConfigOf } from '../../common/config';
import { clusterSecurityOptions, loadClusterSecurity, type ClusterSecurity } from '../../common/grpc/credentials';
import { CLUSTER_ROLES, identityUri, type ClusterRole } from '../../common/grpc/identity';
import { FleetError } from '../../common/errors';
import type { Logger } from '../../common/log';
import type { ModelWorker } from '../api/v1alpha1/types';
import { objectLabels } from '../modelworker/labels';
import { ownerReference } from '../modelworker/render';
import { parseIssuerRef, renderWorkerCertificate } from '../modelworker/render-certificate';
import { workerTlsSecretName, type WorkerCredentials } from '../modelworker/render-credentials';
import type { KubeClient } from '../runtime/kube-client';
import { kubeMessage } from '../runtime/kube-errors';
import { issueIdentity, renewalReason, type CertificateAuthority, type IdentityPem } from './certificates';
import type { certificateOptions } from './options';
import { ensureIdentitySecret, loadOrCreateCa, parseSecretRef, type SecretRef } from './secrets';

export type CertificateConfig = ConfigOf<typeof certificateOptions> & ConfigOf<typeof clusterSecurityOptions>;

export interface WorkerCertificates {
  /** What every worker pod mounts. */
  credentials: WorkerCredentials;
  /** Makes the ModelWorker's certificate exist and be current (before its pods need it). */
  ensure(mw: ModelWorker): Promise<void>;
}

export interface OperatorCertificates {
  /** Security of the operator's own calls to the controller. */
  security: ClusterSecurity;
  workers?: WorkerCertificates;
  stop(): void;
}

function invalid(message: string, param: string): FleetError {
  return new FleetError('invalid_request', message, { param });
}

function roleSecrets(config: CertificateConfig, defaultNamespace: string): Array<{ role: ClusterRole; ref: SecretRef }> {
  return config.tlsRoleSecrets.map((entry) => {
    const eq = entry.indexOf('=');
    const role = entry.slice(0, eq);
    if (eq < 0 || !(CLUSTER_ROLES as readonly string[]).includes(role)) throw invalid(`--tls-role-secrets entry '${entry}' must be ROLE=NS/NAME with ROLE one of ${CLUSTER_ROLES.join(', ')}`, '--tls-role-secrets');
    return { role: role as ClusterRole, ref: parseSecretRef(entry.slice(eq + 1), defaultNamespace) };
  });
}

/** The operator's own certificate, in files only this process reads (rewritten in place when renewed). */
class OwnCertificate {
  readonly dir = mkdtempSync(join(tmpdir(), 'fleetchat-operator-tls-'));
  readonly files = { cert: join(this.dir, 'tls.crt'), key: join(this.dir, 'tls.key'), ca: join(this.dir, 'ca.crt') };

  constructor(private readonly ca: CertificateAuthority, private readonly validityMs: number) {}

  /** Issues (again) when missing or due; true when it did. */
  refresh(): boolean {
    const uri = identityUri('operator');
    const read = (f: string): string | undefined => {
      try {
        return readFileSync(f, 'utf8');
      } catch {
        return undefined;
      }
    };
    const current: Partial<IdentityPem> = { 'tls.crt': read(this.files.cert), 'tls.key': read(this.files.key), 'ca.crt': read(this.files.ca) };
    if (renewalReason(current, this.ca, uri) === undefined) return false;
    const pem = issueIdentity(this.ca, uri, this.validityMs);
    for (const [file, text] of [[this.files.key, pem['tls.key']], [this.files.cert, pem['tls.crt']], [this.files.ca, pem['ca.crt']]] as const) {
      writeFileSync(`${file}.tmp`, text, { mode: 0o600 });
      renameSync(`${file}.tmp`, file);
    }
    return true;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function workerCertificates(config: CertificateConfig, kube: KubeClient, ca: CertificateAuthority | undefined): WorkerCertificates | undefined {
  const credentials: WorkerCredentials = { tls: config.workerTls !== 'off', clusterTokenSecret: config.workerClusterTokenSecret || undefined };
  if (config.workerTls === 'issue') {
    if (!ca) throw invalid('--worker-tls issue needs --tls-ca-secret', '--worker-tls');
    return {
      credentials,
      ensure: async (mw) => {
        const { namespace, name } = mw.metadata;
        await ensureIdentitySecret(kube.core, ca, {
          namespace, name: workerTlsSecretName(name), uri: identityUri('worker', namespace, name), validityMs: config.certValidity,
          owner: ownerReference(mw), labels: objectLabels(name),
        });
      },
    };
  }
  if (config.workerTls === 'cert-manager') {
    if (!config.certManagerIssuer) throw invalid('--worker-tls cert-manager needs --cert-manager-issuer', '--cert-manager-issuer');
    const issuer = parseIssuerRef(config.certManagerIssuer);
    return { credentials, ensure: async (mw) => void (await kube.apply(renderWorkerCertificate(mw, issuer, config.certValidity))) };
  }
  return credentials.clusterTokenSecret ? { credentials, ensure: async () => undefined } : undefined;
}

export async function startCertificates(config: CertificateConfig, kube: KubeClient, defaultNamespace: string, logger: Logger): Promise<OperatorCertificates> {
  const roles = roleSecrets(config, defaultNamespace);
  if (roles.length > 0 && !config.tlsCaSecret) throw invalid('--tls-role-secrets needs --tls-ca-secret', '--tls-role-secrets');
  let ca: CertificateAuthority | undefined;
  if (config.tlsCaSecret) {
    const ref = parseSecretRef(config.tlsCaSecret, defaultNamespace);
    const loaded = await loadOrCreateCa(kube.core, ref);
    ca = loaded.ca;
    if (loaded.created) logger.info({ secret: `${ref.namespace}/${ref.name}` }, 'created the cluster CA');
  }
  const workers = workerCertificates(config, kube, ca);
  const own = ca && !config.tlsCert ? new OwnCertificate(ca, config.certValidity) : undefined;
  const check = async (core: CoreV1Api): Promise<void> => {
    if (!ca) return;
    for (const { role, ref } of roles) {
      const outcome = await ensureIdentitySecret(core, ca, { ...ref, uri: identityUri(role), validityMs: config.certValidity, labels: { 'app.kubernetes.io/part-of': 'fleetchat' } });
      if (outcome.action !== 'current') logger.info({ secret: `${ref.namespace}/${ref.name}`, role, action: outcome.action, reason: outcome.reason }, 'issued a certificate');
    }
    if (own?.refresh()) logger.info({ role: 'operator' }, 'issued the operator\'s own certificate');
  };
  await check(kube.core);
  const security = loadClusterSecurity(own ? { ...config, tlsCert: own.files.cert, tlsKey: own.files.key, tlsCa: own.files.ca } : config);
  const timer = setInterval(() => {
    check(kube.core).catch((err: unknown) => logger.warn({ err: kubeMessage(err) }, 'certificate check failed; retrying at the next interval'));
  }, config.certCheckInterval);
  timer.unref();
  return {
    security, workers,
    stop: () => {
      clearInterval(timer);
      own?.remove();
    },
  };
}
