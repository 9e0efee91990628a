/**
 * envtest for fleetchat: a real etcd + kube-apiserver (and, on request, kube-controller-manager and
 * kube-scheduler) started from the binaries that scripts/k8s/build-bins.sh caches, on free loopback
 * ports in a temp dir, with a static admin token. One cluster per test file:
 *
 *   const describeK8s = k8sDescribe();          // describe, or describe.skip with a visible reason
 *   describeK8s('...', () => {
 *     let env: Envtest;
 *     beforeAll(async () => { env = await startEnvtest({ controllers: true }); });
 *     afterAll(() => env?.stop());
 *   });
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { freePort } from '../support/free-port';
export { freePort };

export interface K8sBinaries {
  etcd: string;
  kubeApiserver: string;
  kubeControllerManager?: string;
  kubeScheduler?: string;
  helm?: string;
}

export interface EnvtestOptions {
  /** Also start kube-controller-manager and kube-scheduler (Deployments → ReplicaSets → Pods, GC, Jobs). */
  controllers?: boolean;
  /** Controllers of kube-controller-manager to run (default: what the tests need). */
  controllerList?: string[];
  /**
   * Runs against the API server before the controllers start — install CRDs here (as envtest's CRDInstallOptions
   * do): the garbage collector then knows their kinds at once instead of after its next discovery resync (~30 s).
   */
  beforeControllers?: (kc: KubeConfig) => Promise<void>;
}

export interface Envtest {
  kubeConfig: KubeConfig;
  /** A kubeconfig file for CLIs (helm). */
  kubeconfigPath: string;
  server: string;
  token: string;
  caFile: string;
  dir: string;
  binaries: K8sBinaries;
  /** Tail of every component's log (for failure messages). */
  logs(lines?: number): string;
  stop(): Promise<void>;
}

const DEFAULT_CONTROLLERS = ['deployment-controller', 'replicaset-controller', 'garbage-collector-controller', 'job-controller', 'namespace-controller', 'serviceaccount-controller', 'ttl-after-finished-controller'];

function binDir(): string {
  return process.env.FLEETCHAT_K8S_BIN_DIR ?? join(homedir(), '.cache', 'fleetchat', 'k8s-bins');
}

/** The cached binaries, or undefined when kube-apiserver or etcd is missing. */
export function findBinaries(): K8sBinaries | undefined {
  const dir = binDir();
  const at = (name: string): string | undefined => (existsSync(join(dir, name)) ? join(dir, name) : undefined);
  const etcd = at('etcd');
  const kubeApiserver = at('kube-apiserver');
  if (!etcd || !kubeApiserver) return undefined;
  return { etcd, kubeApiserver, kubeControllerManager: at('kube-controller-manager'), kubeScheduler: at('kube-scheduler'), helm: at('helm') };
}

/** `describe` when the binaries exist, else `describe.skip` with a message naming the fix. */
export function k8sDescribe(needs: Array<keyof K8sBinaries> = []): jest.Describe {
  const found = findBinaries();
  const missing = found ? needs.filter((k) => !found[k]) : ['etcd', 'kube-apiserver'];
  if (missing.length === 0) return describe;
  const message = `SKIPPED Kubernetes API-server tests: ${missing.join(', ')} not found in ${binDir()} — run scripts/k8s/build-bins.sh (needs Go and the module proxy)`;
   
  console.warn(message);
  process.stderr.write(`${message}\n`);
  return describe.skip;
}


interface Proc {
  name: string;
  child: ChildProcess;
  logFile: string;
}

function launch(dir: string, name: string, bin: string, args: string[]): Proc {
  const logFile = join(dir, `${name}.log`);
  const out = createWriteStream(logFile);
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  return { name, child, logFile };
}

function tail(file: string, lines: number): string {
  if (!existsSync(file)) return '';
  return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function httpsGet(url: string, ca: Buffer | undefined, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = request(url, { ca, rejectUnauthorized: ca !== undefined, headers: { authorization: `Bearer ${token}` }, timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

async function waitFor(what: string, procs: Proc[], check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const dead = procs.find((p) => p.child.exitCode !== null);
    if (dead) throw new Error(`${dead.name} exited (${dead.child.exitCode}) while waiting for ${what}:\n${tail(dead.logFile, 30)}`);
    if (await check()) return;
    await sleep(100);
  }
  throw new Error(`${what} not ready after ${timeoutMs} ms:\n${procs.map((p) => `--- ${p.name}\n${tail(p.logFile, 20)}`).join('\n')}`);
}

async function stopProc(proc: Proc): Promise<void> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.child.once('exit', () => resolve()));
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

function etcdArgs(dir: string, clientPort: number, peerPort: number, etcd: string): string[] {
  const args = [
    '--name=default', `--data-dir=${join(dir, 'etcd')}`,
    `--listen-client-urls=http://127.0.0.1:${clientPort}`, `--advertise-client-urls=http://127.0.0.1:${clientPort}`,
    `--listen-peer-urls=http://127.0.0.1:${peerPort}`, `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
    `--initial-cluster=default=http://127.0.0.1:${peerPort}`, '--log-level=warn',
  ];
  const help = spawnSync(etcd, ['--help'], { encoding: 'utf8' });
  const text = `${help.stdout}${help.stderr}`;
  if (text.includes('--unsafe-no-fsync')) args.push('--unsafe-no-fsync=true');
  if (text.includes('capnslog')) args.push('--logger=zap');
  return args;
}

function writeKeys(dir: string, token: string): void {
  const key = spawnSync('openssl', ['genrsa', '-out', join(dir, 'sa.key'), '2048'], { encoding: 'utf8' });
  if (key.status !== 0) throw new Error(`openssl genrsa failed: ${key.stderr}`);
  const pub = spawnSync('openssl', ['rsa', '-in', join(dir, 'sa.key'), '-pubout', '-out', join(dir, 'sa.pub')], { encoding: 'utf8' });
  if (pub.status !== 0) throw new Error(`openssl rsa failed: ${pub.stderr}`);
  writeFileSync(join(dir, 'tokens.csv'), `${token},admin,admin-uid,"system:masters"\n`);
}

function apiserverArgs(dir: string, etcdPort: number, port: number): string[] {
  return [
    `--etcd-servers=http://127.0.0.1:${etcdPort}`, `--cert-dir=${join(dir, 'certs')}`,
    `--secure-port=${port}`, '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1',
    '--endpoint-reconciler-type=none', '--service-account-issuer=https://kubernetes.default.svc',
    `--service-account-key-file=${join(dir, 'sa.pub')}`, `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
    `--token-auth-file=${join(dir, 'tokens.csv')}`, '--authorization-mode=RBAC',
    '--service-cluster-ip-range=10.0.0.0/24', '--disable-admission-plugins=ServiceAccount', '--allow-privileged=true',
  ];
}

/** The CA is the last certificate of apiserver.crt (serving cert first, its self-signed CA after it). */
function extractCa(dir: string): string {
  const pem = readFileSync(join(dir, 'certs', 'apiserver.crt'), 'utf8');
  const certs = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n?/g) ?? [];
  const caFile = join(dir, 'ca.crt');
  writeFileSync(caFile, certs[certs.length - 1] ?? '');
  return caFile;
}

function writeKubeconfig(dir: string, server: string, caFile: string, token: string): string {
  const path = join(dir, 'kubeconfig');
  writeFileSync(path, [
    'apiVersion: v1', 'kind: Config',
    'clusters:', '- name: envtest', '  cluster:', `    server: ${server}`, `    certificate-authority: ${caFile}`,
    'users:', '- name: admin', '  user:', `    token: ${token}`,
    'contexts:', '- name: envtest', '  context:', '    cluster: envtest', '    user: admin', '    namespace: default',
    'current-context: envtest', '',
  ].join('\n'));
  return path;
}

function controllerArgs(kubeconfig: string, dir: string, caFile: string, list: string[]): { kcm: string[]; scheduler: string[] } {
  const common = [`--kubeconfig=${kubeconfig}`, `--authentication-kubeconfig=${kubeconfig}`, `--authorization-kubeconfig=${kubeconfig}`, '--leader-elect=false', '--bind-address=127.0.0.1', '--secure-port=0'];
  return {
    kcm: [...common, `--controllers=${list.join(',')}`, `--service-account-private-key-file=${join(dir, 'sa.key')}`, `--root-ca-file=${caFile}`, '--use-service-account-credentials=false', '--concurrent-gc-syncs=5'],
    scheduler: common,
  };
}

export async function startEnvtest(options: EnvtestOptions = {}): Promise<Envtest> {
  const binaries = findBinaries();
  if (!binaries) throw new Error(`Kubernetes binaries not found in ${binDir()}: run scripts/k8s/build-bins.sh`);
  const dir = mkdtempSync(join(tmpdir(), 'fleetchat-envtest-'));
  mkdirSync(join(dir, 'certs'));
  const procs: Proc[] = [];
  const stop = async (): Promise<void> => {
    for (const p of [...procs].reverse()) await stopProc(p);
    if (process.env.FLEETCHAT_ENVTEST_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
  };
  try {
    const [etcdPort, peerPort, apiPort] = await distinctPorts(3);
    const etcd = launch(dir, 'etcd', binaries.etcd, etcdArgs(dir, etcdPort, peerPort, binaries.etcd));
    procs.push(etcd);
    const token = randomBytes(32).toString('hex');
    writeKeys(dir, token);
    await waitFor('etcd', procs, async () => (await plainGet(`http://127.0.0.1:${etcdPort}/health`)).includes('true'), 30_000);
    const api = launch(dir, 'kube-apiserver', binaries.kubeApiserver, apiserverArgs(dir, etcdPort, apiPort));
    procs.push(api);
    const server = `https://127.0.0.1:${apiPort}`;
    await waitFor('kube-apiserver', procs, async () => existsSync(join(dir, 'certs', 'apiserver.crt')) && (await httpsGet(`${server}/readyz`, undefined, token)).body === 'ok', 90_000);
    const caFile = extractCa(dir);
    const kubeconfigPath = writeKubeconfig(dir, server, caFile, token);
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(kubeconfigPath);
    await options.beforeControllers?.(kubeConfig);
    if (options.controllers) await startControllers({ binaries, dir, procs, kubeconfigPath, caFile, list: options.controllerList ?? DEFAULT_CONTROLLERS });
    await waitForDefaultNamespace(server, caFile, token, procs);
    return {
      kubeConfig, kubeconfigPath, server, token, caFile, dir, binaries, stop,
      logs: (lines = 40) => procs.map((p) => `--- ${p.name}\n${tail(p.logFile, lines)}`).join('\n'),
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function startControllers(o: { binaries: K8sBinaries; dir: string; procs: Proc[]; kubeconfigPath: string; caFile: string; list: string[] }): Promise<void> {
  if (!o.binaries.kubeControllerManager || !o.binaries.kubeScheduler) throw new Error('kube-controller-manager / kube-scheduler were not built (scripts/k8s/build-bins.sh with FLEETCHAT_K8S_EXTRAS=1)');
  const args = controllerArgs(o.kubeconfigPath, o.dir, o.caFile, o.list);
  o.procs.push(launch(o.dir, 'kube-controller-manager', o.binaries.kubeControllerManager, args.kcm));
  o.procs.push(launch(o.dir, 'kube-scheduler', o.binaries.kubeScheduler, args.scheduler));
  // Neither serves a port here (--secure-port=0): a bad flag shows as an early exit.
  await sleep(1500);
  const dead = o.procs.find((p) => p.child.exitCode !== null);
  if (dead) throw new Error(`${dead.name} exited (${dead.child.exitCode}):\n${tail(dead.logFile, 20)}`);
}

/** The namespace controller of the apiserver creates `default` shortly after /readyz. */
async function waitForDefaultNamespace(server: string, caFile: string, token: string, procs: Proc[]): Promise<void> {
  const ca = readFileSync(caFile);
  await waitFor('namespace default', procs, async () => (await httpsGet(`${server}/api/v1/namespaces/default`, ca, token)).status === 200, 30_000);
}

function plainGet(url: string): Promise<string> {
  return fetch(url, { signal: AbortSignal.timeout(1000) }).then((r) => r.text()).catch(() => '');
}

async function distinctPorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}
