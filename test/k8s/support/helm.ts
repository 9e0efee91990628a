/** Runs the helm binary that scripts/k8s/build-bins.sh built, with its state in a temp dir. */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface HelmResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function helmRunner(helm: string, kubeconfig?: string): (args: string[]) => Promise<HelmResult> {
  const home = mkdtempSync(join(tmpdir(), 'fleetchat-helm-'));
  const env = { ...process.env, HELM_CACHE_HOME: join(home, 'cache'), HELM_CONFIG_HOME: join(home, 'config'), HELM_DATA_HOME: join(home, 'data'), ...(kubeconfig ? { KUBECONFIG: kubeconfig } : {}) };
  return (args) => new Promise((resolve, reject) => {
    const child = spawn(helm, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
