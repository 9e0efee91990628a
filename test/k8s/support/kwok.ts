/**
 * KWOK (sigs.k8s.io/kwok) against an envtest API server: the real kwok binary plays the kubelet of every Node that
 * carries MANAGED_NODE_ANNOTATION — marks the Node Ready and renews its Lease, marks the pods bound to it
 * Running/Ready with a pod IP, and finishes deleting terminating pods — with the node and pod stages of its own
 * release (scripts/k8s/build-bins.sh writes them to kwok-stages.yaml: the kwok binary embeds none).
 * kwok's informers watch from resourceVersion 0, which kube-apiserver 1.37 serves as a watch-list stream: that needs
 * etcd >= 3.5 (build-bins.sh builds 3.6 rather than use Debian's 3.4, on which kwok would lag by seconds).
 *
 *   const describeKwok = kwokDescribe();       // describe, or describe.skip with a visible reason
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { k8sDescribe } from '../envtest';

/** kwok manages the Nodes with this annotation (the key and value kwok's own docs use). */
export const MANAGED_NODE_ANNOTATION = { key: 'kwok.x-k8s.io/node', value: 'fake' } as const;

export interface KwokBinaries {
  kwok: string;
  stages: string;
}

export interface KwokOptions {
  binaries: KwokBinaries;
  /** kubeconfig file of the API server (Envtest.kubeconfigPath). */
  kubeconfigPath: string;
  /** Directory for kwok's log and its HOME (so no ~/.kwok/kwok.yaml of the machine is read). */
  dir: string;
  /** Pod IPs are handed out from this range (never contacted: nothing runs behind them). */
  cidr?: string;
}

export interface Kwok {
  /** Tail of kwok's log (for failure messages). */
  logs(lines?: number): string;
  stop(): Promise<void>;
}

export class KwokExitedError extends Error {
  constructor(readonly code: number | null, readonly log: string) {
    super(`kwok exited (${code}) right after starting:\n${log}`);
    this.name = 'KwokExitedError';
  }
}

function binDir(): string {
  return process.env.FLEETCHAT_K8S_BIN_DIR ?? join(homedir(), '.cache', 'fleetchat', 'k8s-bins');
}

/** KWOK= and KWOK_STAGES= of the cache's paths.env, when build-bins.sh built kwok and both files exist. */
export function findKwok(): KwokBinaries | undefined {
  const pathsEnv = join(binDir(), 'paths.env');
  if (!existsSync(pathsEnv)) return undefined;
  const vars = new Map<string, string>();
  for (const line of readFileSync(pathsEnv, 'utf8').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) vars.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  const kwok = vars.get('KWOK');
  const stages = vars.get('KWOK_STAGES');
  if (!kwok || !stages || !existsSync(kwok) || !existsSync(stages)) return undefined;
  return { kwok, stages };
}

/** `describe` when the control-plane binaries and kwok exist, else `describe.skip` with a message naming the fix. */
export function kwokDescribe(): jest.Describe {
  const base = k8sDescribe(['kubeControllerManager', 'kubeScheduler']);
  if (base === describe.skip) return base;
  if (findKwok()) return base;
  const message = `SKIPPED KWOK rollout tests: KWOK/KWOK_STAGES not in ${join(binDir(), 'paths.env')} — run scripts/k8s/build-bins.sh (FLEETCHAT_K8S_EXTRAS=1, the default)`;
  console.warn(message);
  process.stderr.write(`${message}\n`);
  return describe.skip;
}

function tail(file: string, lines: number): string {
  if (!existsSync(file)) return '';
  return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

export async function startKwok(o: KwokOptions): Promise<Kwok> {
  const home = join(o.dir, 'kwok-home');
  mkdirSync(home, { recursive: true });
  const logFile = join(o.dir, 'kwok.log');
  const out = createWriteStream(logFile);
  const args = [
    `--kubeconfig=${o.kubeconfigPath}`, `--config=${o.binaries.stages}`,
    '--manage-all-nodes=false', `--manage-nodes-with-annotation-selector=${MANAGED_NODE_ANNOTATION.key}=${MANAGED_NODE_ANNOTATION.value}`,
    `--cidr=${o.cidr ?? '10.244.1.0/24'}`, '--node-ip=127.0.0.1',
    // The node lifecycle controller reads the Lease as the heartbeat (it then lifts the not-ready taint).
    '--node-lease-duration-seconds=40',
    // No --server-address / --node-port: kwok serves no port (no logs/exec/port-forward are needed).
  ];
  const child = spawn(o.binaries.kwok, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOME: home } });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  // kwok serves nothing to poll: a bad flag or an unreachable API server shows as an early exit.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  if (exited(child)) throw new KwokExitedError(child.exitCode, tail(logFile, 30));
  return {
    logs: (lines = 40) => tail(logFile, lines),
    stop: async () => {
      if (exited(child)) return;
      const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await done;
      clearTimeout(timer);
      out.end();
    },
  };
}
