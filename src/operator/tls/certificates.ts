/**
 * The cluster CA and the certificates it signs when the operator issues them (no cert-manager): pure functions over
 * PEM text. Helm's genCA / genSignedCert cannot put URI SANs into a certificate, and fleetchat identities are URI
 * SANs (`spiffe://fleetchat/<role>[/<ns>/<name>]`), so the operator signs. Keys are RSA 2048 from Node's native
 * generator; node-forge (already the test CA's library) builds and signs the X.509 structures; node:crypto parses
 * and verifies what is read back.
 */
import { X509Certificate, createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';
import { identityOfAltNames } from '../../common/grpc/identity';

export interface CertificateAuthority {
  /** PEM certificate (self-signed, CA:true). */
  cert: string;
  /** PEM private key. */
  key: string;
}

/** What a Secret of type kubernetes.io/tls holds, as cert-manager writes it too. */
export interface IdentityPem {
  'tls.crt': string;
  'tls.key': string;
  'ca.crt': string;
}

export const CA_COMMON_NAME = 'fleetchat cluster CA';
export const CA_VALIDITY_MS = 10 * 365 * 24 * 3600_000;
/** Certificates are renewed when less than this fraction of their lifetime is left (cert-manager's default too). */
export const RENEW_FRACTION = 1 / 3;
/** Allow for clocks that run a little behind. */
const BACKDATE_MS = 5 * 60_000;

function newKeyPair(): { privateKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey } {
  const { privateKey: pem } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const privateKey = forge.pki.privateKeyFromPem(pem);
  return { privateKey, publicKey: forge.pki.setRsaPublicKey(privateKey.n, privateKey.e) };
}

function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f; // positive
  return bytes.toString('hex');
}

function build(subjectCn: string, publicKey: forge.pki.PublicKey, notBefore: Date, notAfter: Date, extensions: object[]): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = serialNumber();
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
  cert.setSubject([{ name: 'commonName', value: subjectCn }]);
  cert.setExtensions(extensions);
  return cert;
}

export function createCa(nowMs = Date.now()): CertificateAuthority {
  const keys = newKeyPair();
  const cert = build(CA_COMMON_NAME, keys.publicKey, new Date(nowMs - BACKDATE_MS), new Date(nowMs + CA_VALIDITY_MS), [
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.setIssuer(cert.subject.attributes);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: forge.pki.privateKeyToPem(keys.privateKey) };
}

/** A leaf certificate for one fleetchat identity (its only SAN is the URI), valid for `validityMs`. */
export function issueIdentity(ca: CertificateAuthority, uri: string, validityMs: number, nowMs = Date.now()): IdentityPem {
  const caCert = forge.pki.certificateFromPem(ca.cert);
  const caKey = forge.pki.privateKeyFromPem(ca.key);
  const keys = newKeyPair();
  const cert = build(uri.slice(0, 64), keys.publicKey, new Date(nowMs - BACKDATE_MS), new Date(nowMs + validityMs), [
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
    { name: 'subjectAltName', critical: true, altNames: [{ type: 6, value: uri }] },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.setIssuer(caCert.subject.attributes);
  cert.sign(caKey, forge.md.sha256.create());
  return { 'tls.crt': forge.pki.certificateToPem(cert), 'tls.key': forge.pki.privateKeyToPem(keys.privateKey), 'ca.crt': ca.cert };
}

/** Parses a CA read back from a Secret; throws when it is not a CA certificate with its key. */
export function checkCa(ca: CertificateAuthority): void {
  const cert = new X509Certificate(ca.cert);
  if (!cert.ca) throw new Error('the CA Secret\'s certificate is not a CA (basicConstraints CA:false)');
  if (!cert.checkPrivateKey(createPrivateKey(ca.key))) throw new Error('the CA Secret\'s key does not match its certificate');
}

/**
 * Why `pem` must be (re)issued for `uri` under `ca`, or undefined when it is current: missing or unreadable, another
 * identity, another CA, or less than RENEW_FRACTION of its lifetime left.
 */
export function renewalReason(pem: Partial<IdentityPem>, ca: CertificateAuthority, uri: string, nowMs = Date.now()): string | undefined {
  if (!pem['tls.crt'] || !pem['tls.key'] || !pem['ca.crt']) return 'missing';
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem['tls.crt']);
    if (!cert.checkPrivateKey(createPrivateKey(pem['tls.key']))) return 'key mismatch';
  } catch {
    return 'unreadable';
  }
  if (identityOfAltNames(cert.subjectAltName)?.uri !== uri) return 'identity changed';
  const caCert = new X509Certificate(ca.cert);
  if (pem['ca.crt'].trim() !== ca.cert.trim() || !cert.checkIssued(caCert) || !cert.verify(caCert.publicKey)) return 'CA changed';
  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  if (to - nowMs < (to - from) * RENEW_FRACTION) return 'expiring';
  return undefined;
}
