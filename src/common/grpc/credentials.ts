/**
 * Credentials of the internal gRPC plane, built from mounted files:
 * - mTLS (`--tls-cert/--tls-key/--tls-ca`): every process presents a certificate signed by the cluster CA whose URI
 *   SAN names its role (see identity.ts); servers require one and check the caller's role per method (access.ts);
 *   clients check that the server has the role they meant to reach. Files are re-read when they change
 *   (cert-manager rotation) by grpc-js's file-watcher certificate provider.
 * - a shared token (`--cluster-token-file`): the fallback when TLS is off; every call carries
 *   `authorization: Bearer <token>` and servers refuse calls without it. Holders of the token are not told apart.
 * - plaintext: nothing (the default, for `fleetchat up` on a laptop).
 * The TLS building blocks (`tlsServerCredentials`, `tlsChannelCredentials`) are usable alone, e.g. by a public
 * TLS port that does not ask for client certificates.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { PeerCertificate } from 'node:tls';
import {
  type ChannelCredentials,
  type Metadata,
  ServerCredentials,
  ServerInterceptingCall,
  credentials,
  experimental,
  status,
  InterceptingCall,
  type ClientOptions,
  type Interceptor,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
} from '@grpc/grpc-js';
import { stringOption, type ConfigOf } from '../config';
import { FleetError } from '../errors';
import { rolesFor } from './access';
import { describeIdentity, identityOfAltNames, type ClusterRole, type PeerIdentity } from './identity';

export const clusterSecurityOptions = {
  tlsCert: stringOption({ flag: '--tls-cert', description: 'PEM certificate presented to other fleetchat processes (mTLS, with --tls-key and --tls-ca); empty = no TLS', default: '' }),
  tlsKey: stringOption({ flag: '--tls-key', description: 'PEM private key of --tls-cert', default: '' }),
  tlsCa: stringOption({ flag: '--tls-ca', description: 'PEM CA bundle that signs every fleetchat process of the cluster', default: '' }),
  clusterTokenFile: stringOption({ flag: '--cluster-token-file', description: 'file holding a shared token required on every internal gRPC call (the fallback when TLS is off)', default: '' }),
};

export type ClusterSecurityConfig = ConfigOf<typeof clusterSecurityOptions>;

export const TOKEN_MIN_LENGTH = 16;
/** How often mounted certificate files are re-read. */
export const CERT_REFRESH_MS = 60_000;

export interface TlsFiles {
  cert: string;
  key: string;
  ca: string;
}

export interface Refusal {
  reason: 'unauthenticated' | 'forbidden';
  method: string;
  peer: string;
  identity?: PeerIdentity;
}

export interface ServerSecurity {
  credentials: ServerCredentials;
  interceptors: ServerInterceptor[];
}

export interface ClientSecurity {
  credentials: ChannelCredentials;
  options: Partial<ClientOptions>;
}

export interface ClusterSecurity {
  readonly mode: 'mtls' | 'token' | 'plaintext';
  /** Callers are told apart by certificate: per-identity checks (worker ownership, peer address) apply. */
  readonly identified: boolean;
  /** Credentials and interceptors for a gRPC server of the cluster; `onRefused` sees every refused call. */
  server(onRefused?: (refusal: Refusal) => void): ServerSecurity;
  /** Credentials for a client; with mTLS the server must present a certificate of `peerRole`. */
  client(peerRole?: ClusterRole): ClientSecurity;
}

function fileProvider(files: Partial<TlsFiles>): experimental.FileWatcherCertificateProvider {
  return new experimental.FileWatcherCertificateProvider({
    certificateFile: files.cert,
    privateKeyFile: files.key,
    caCertificateFile: files.ca,
    refreshIntervalMs: CERT_REFRESH_MS,
  });
}

function checkReadable(files: Partial<TlsFiles>): void {
  for (const [flag, path] of Object.entries(files)) {
    if (!path) continue;
    try {
      readFileSync(path);
    } catch (err) {
      throw new FleetError('invalid_request', `--tls-${flag} ${path}: ${(err as Error).message}`, { param: `--tls-${flag}` });
    }
  }
}

/**
 * Server credentials from PEM files (re-read on change). With `ca`, clients must present a certificate signed by it
 * when `requireClientCert` (mTLS); without `ca` any client may connect (server-side TLS only).
 */
export function tlsServerCredentials(files: { cert: string; key: string; ca?: string }, requireClientCert = true): ServerCredentials {
  checkReadable(files);
  const identity = fileProvider({ cert: files.cert, key: files.key });
  const ca = files.ca ? fileProvider({ ca: files.ca }) : null;
  return experimental.createCertificateProviderServerCredentials(identity, ca, requireClientCert && ca !== null);
}

/** The server's certificate must name a fleetchat identity (of `peerRole` when given); host names are not used. */
function checkServerRole(peerRole: ClusterRole | undefined): (host: string, cert: PeerCertificate) => Error | undefined {
  return (_host, cert) => {
    const id = identityOfAltNames(cert.subjectaltname);
    if (!id) return new Error('the server certificate names no fleetchat identity');
    if (peerRole && id.role !== peerRole) return new Error(`expected a ${peerRole} but the server is ${describeIdentity(id)}`);
    return undefined;
  };
}

/** Client credentials from PEM files (re-read on change); `cert`/`key` are optional (no client certificate). */
export function tlsChannelCredentials(files: { ca: string; cert?: string; key?: string }, peerRole?: ClusterRole): ChannelCredentials {
  checkReadable(files);
  const identity = files.cert && files.key ? fileProvider({ cert: files.cert, key: files.key }) : null;
  return experimental.createCertificateProviderChannelCredentials(fileProvider({ ca: files.ca }), identity, { checkServerIdentity: checkServerRole(peerRole) });
}

/** The identity in a call's client certificate (undefined without TLS or without a fleetchat identity). */
export function peerIdentity(call: { getAuthContext(): AuthContext | null }): PeerIdentity | undefined {
  const cert = call.getAuthContext()?.sslPeerCertificate;
  return cert ? identityOfAltNames(cert.subjectaltname) : undefined;
}

/** A server interceptor that ends calls for which `check` returns a refusal, before the handler runs. */
function gate(check: (method: string, metadata: Metadata, call: ServerInterceptingCallLike) => Omit<Refusal, 'method' | 'peer'> | undefined, onRefused: (r: Refusal) => void): ServerInterceptor {
  return (methodDescriptor, call) =>
    new ServerInterceptingCall(call, {
      start: (next) => {
        next({
          onReceiveMetadata: (metadata, mdNext) => {
            const refusal = check(methodDescriptor.path, metadata, call);
            if (!refusal) {
              mdNext(metadata);
              return;
            }
            onRefused({ ...refusal, method: methodDescriptor.path, peer: call.getPeer() });
            const message = refusal.reason === 'unauthenticated' ? 'this cluster requires credentials' : `${describeIdentity(refusal.identity)} may not call ${methodDescriptor.path}`;
            call.sendStatus({ code: refusal.reason === 'unauthenticated' ? status.UNAUTHENTICATED : status.PERMISSION_DENIED, details: message });
          },
        });
      },
    });
}

type AuthContext = ReturnType<ServerInterceptingCallInterface['getAuthContext']>;

interface ServerInterceptingCallLike {
  getAuthContext(): AuthContext;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

function readToken(path: string): string {
  let token: string;
  try {
    token = readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new FleetError('invalid_request', `--cluster-token-file ${path}: ${(err as Error).message}`, { param: '--cluster-token-file' });
  }
  if (token.length < TOKEN_MIN_LENGTH) throw new FleetError('invalid_request', `--cluster-token-file ${path} holds fewer than ${TOKEN_MIN_LENGTH} characters`, { param: '--cluster-token-file' });
  return token;
}

function tokenInterceptor(token: string): Interceptor {
  return (options, nextCall) =>
    new InterceptingCall(nextCall(options), {
      start: (metadata, listener, next) => {
        metadata.set('authorization', `Bearer ${token}`);
        next(metadata, listener);
      },
    });
}

const NO_REFUSAL_HOOK = (): void => undefined;

export const PLAINTEXT: ClusterSecurity = {
  mode: 'plaintext',
  identified: false,
  server: () => ({ credentials: ServerCredentials.createInsecure(), interceptors: [] }),
  client: () => ({ credentials: credentials.createInsecure(), options: {} }),
};

function tokenSecurity(token: string): ClusterSecurity {
  const expected = digest(`Bearer ${token}`);
  return {
    mode: 'token',
    identified: false,
    server: (onRefused = NO_REFUSAL_HOOK) => ({
      credentials: ServerCredentials.createInsecure(),
      interceptors: [
        gate((_method, metadata) => {
          const got = metadata.get('authorization')[0];
          return typeof got === 'string' && timingSafeEqual(digest(got), expected) ? undefined : { reason: 'unauthenticated' };
        }, onRefused),
      ],
    }),
    client: () => ({ credentials: credentials.createInsecure(), options: { interceptors: [tokenInterceptor(token)] } }),
  };
}

function mtlsSecurity(files: TlsFiles, token: string | undefined): ClusterSecurity {
  const serverCredentials = tlsServerCredentials(files, true);
  const channels = new Map<string, ChannelCredentials>();
  return {
    mode: 'mtls',
    identified: true,
    server: (onRefused = NO_REFUSAL_HOOK) => ({
      credentials: serverCredentials,
      interceptors: [
        gate((method, metadata, call) => {
          const identity = peerIdentity(call);
          if (!identity) return { reason: 'unauthenticated' };
          if (!rolesFor(method).includes(identity.role)) return { reason: 'forbidden', identity };
          if (token !== undefined) {
            const got = metadata.get('authorization')[0];
            if (typeof got !== 'string' || !timingSafeEqual(digest(got), digest(`Bearer ${token}`))) return { reason: 'unauthenticated', identity };
          }
          return undefined;
        }, onRefused),
      ],
    }),
    client: (peerRole) => {
      // One credentials object per role, so grpc-js shares subchannels between clients of the same peer kind.
      const key = peerRole ?? '*';
      let creds = channels.get(key);
      if (!creds) {
        creds = tlsChannelCredentials(files, peerRole);
        channels.set(key, creds);
      }
      return { credentials: creds, options: token !== undefined ? { interceptors: [tokenInterceptor(token)] } : {} };
    },
  };
}

/** The process's cluster security from its flags; all three TLS files or none. */
export function loadClusterSecurity(config: ClusterSecurityConfig): ClusterSecurity {
  const tls = [config.tlsCert, config.tlsKey, config.tlsCa];
  const token = config.clusterTokenFile ? readToken(config.clusterTokenFile) : undefined;
  if (tls.every((f) => f === '')) return token === undefined ? PLAINTEXT : tokenSecurity(token);
  if (tls.some((f) => f === '')) throw new FleetError('invalid_request', 'mTLS needs all of --tls-cert, --tls-key and --tls-ca', { param: '--tls-cert' });
  return mtlsSecurity({ cert: config.tlsCert, key: config.tlsKey, ca: config.tlsCa }, token);
}
