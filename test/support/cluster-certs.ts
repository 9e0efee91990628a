/**
 * Real X.509 certificates for mTLS tests, generated in the test with node-forge (RSA keys come from Node's native
 * generator): a cluster CA and leaf certificates whose URI SAN names a fleetchat identity.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';

export interface Pem {
  cert: string;
  key: string;
}

export interface CertFiles {
  cert: string;
  key: string;
  ca: string;
}

let serial = 1;

function certificate(subjectCn: string, publicKey: forge.pki.PublicKey, issuer: { cn: string; key: forge.pki.rsa.PrivateKey }, extensions: object[]): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = (serial++).toString(16).padStart(2, '0');
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 24 * 3600_000);
  cert.setSubject([{ name: 'commonName', value: subjectCn }]);
  cert.setIssuer([{ name: 'commonName', value: issuer.cn }]);
  cert.setExtensions(extensions);
  cert.sign(issuer.key, forge.md.sha256.create());
  return cert;
}

export class TestCa {
  readonly dir = mkdtempSync(join(tmpdir(), 'fleetchat-certs-'));
  private readonly keys = forge.pki.rsa.generateKeyPair({ bits: 2048 });
  readonly cn: string;
  readonly certPem: string;
  readonly caFile: string;

  constructor(cn = 'fleetchat test CA') {
    this.cn = cn;
    const cert = certificate(cn, this.keys.publicKey, { cn, key: this.keys.privateKey }, [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ]);
    this.certPem = forge.pki.certificateToPem(cert);
    this.caFile = join(this.dir, `ca-${serial}.pem`);
    writeFileSync(this.caFile, this.certPem);
  }

  /** A leaf certificate with the given URI SANs (plus DNS localhost), written to files next to the CA. */
  issue(name: string, uris: string[]): CertFiles {
    const keys = forge.pki.rsa.generateKeyPair({ bits: 2048 });
    const cert = certificate(name, keys.publicKey, { cn: this.cn, key: this.keys.privateKey }, [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
      { name: 'subjectAltName', altNames: [...uris.map((value) => ({ type: 6, value })), { type: 2, value: 'localhost' }] },
    ]);
    const base = join(this.dir, name.replace(/[^a-z0-9-]/gi, '_'));
    writeFileSync(`${base}.crt`, forge.pki.certificateToPem(cert));
    writeFileSync(`${base}.key`, forge.pki.privateKeyToPem(keys.privateKey));
    return { cert: `${base}.crt`, key: `${base}.key`, ca: this.caFile };
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** `--tls-cert X --tls-key Y --tls-ca Z` */
export function tlsArgs(files: CertFiles): string[] {
  return ['--tls-cert', files.cert, '--tls-key', files.key, '--tls-ca', files.ca];
}
