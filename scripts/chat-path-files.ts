/**
 * Which hand-written files one streamed `POST /v1/chat/completions` executes code in, per process — the measure of
 * ARCHITECTURE.md's "one chat request, hop by hop".
 *
 * Builds a source tree (tsc, as `npm run build`) and runs its controller, worker (a generated tiny model, one thread,
 * CPU) and gateway (with an API key) as separate processes (scripts/chat-path/launch.ts) with NODE_V8_COVERAGE
 * (precise per-function call counts). After warm-up requests it alternates equal windows: an idle one, then one with
 * k identical streamed chat requests, one after the other (--requests, default 3). After each window every process
 * (and the worker's session thread) writes its coverage and resets the counters (SIGUSR2,
 * scripts/chat-path/coverage-hook.cjs). A function is on the path when, in every round, it ran at least k times in the
 * requests' window and more often than in any idle window: startup, warm-up and timers (heartbeats, sweeps, watches)
 * are left out. A file is on the path when one of its functions is. Files under src/common/gen/ (generated protobuf
 * code) are counted apart. The build, not the TypeScript loader, runs: the loader reads every exported binding
 * through a getter, which would put a file on the path for reading one of its constants.
 *
 *   node -r @swc-node/register scripts/chat-path-files.ts [--root DIR] [--model DIR] [--rounds 3] [--requests 3]
 *       [--window-ms 2000] [--functions] [--skip-build] [--keep]
 *
 * --root measures another checkout (e.g. a worktree at an older commit; it needs node_modules); --model reuses a
 * model directory (default: the tests' generated tiny model in .cache/test-models). The last line is one JSON object.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { GENERATOR_VERSION, createTinyModel } from '../src/model/tiny/create-tiny-model';
import { added, isGenerated, loadedFiles, most, readCounts, type FunctionCount } from './chat-path/coverage';
import { freePort, sleep, snapshot, startProcess, stopAll, type MeasuredProcess, type ProcessName } from './chat-path/processes';

const MODEL_NAME = 'tiny';
/** The gateway runs with an API key, as a deployment does. */
const API_KEY = 'chat-path-key';
const HEADERS = { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` };
const REQUEST = {
  model: MODEL_NAME,
  messages: [{ role: 'system', content: 'You are a helpful assistant.' }, { role: 'user', content: 'Say hello in three words.' }],
  stream: true,
  max_tokens: 16,
};

/** The tests' tiny model (same directory as test/support/models.ts), generated when missing. */
async function tinyModel(repo: string): Promise<string> {
  const dir = join(repo, '.cache/test-models', `tiny-v${GENERATOR_VERSION}`);
  if (existsSync(join(dir, 'onnx', 'model.onnx'))) return dir;
  const tmp = `${dir}.tmp-${process.pid}`;
  await createTinyModel({ preset: 'tiny', outDir: tmp });
  renameSync(tmp, dir);
  return dir;
}

/** The tree's production build (tsc -p tsconfig.build.json into dist/), which the processes run. */
function build(root: string): void {
  const tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
  console.log(`building ${root} (tsc -p tsconfig.build.json) ...`);
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) console.log('warning: tsc reported errors (its output is emitted anyway)');
  if (!existsSync(join(root, 'dist/src/worker/main.js'))) throw new Error(`no build in ${root}/dist`);
}

async function chat(url: string): Promise<void> {
  const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: HEADERS, body: JSON.stringify(REQUEST) });
  const text = await res.text();
  if (res.status !== 200 || !text.includes('data: [DONE]')) throw new Error(`chat request failed (${res.status}): ${text.slice(0, 300)}`);
}

async function waitForModel(url: string, processes: MeasuredProcess[]): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const dead = processes.find((p) => p.child.exitCode !== null);
    if (dead) throw new Error(`${dead.name} exited (${dead.child.exitCode}) before the stack was up`);
    try {
      const res = await fetch(`${url}/v1/models`, { headers: HEADERS });
      const body = (await res.json()) as { data?: Array<{ id: string }> };
      if (body.data?.some((m) => m.id === MODEL_NAME)) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('the gateway did not list the model within 120 s');
    await sleep(200);
  }
}

interface ProcessPath {
  /** Hand-written file -> functions that ran (on any thread). */
  files: Map<string, FunctionCount[]>;
  generated: Set<string>;
  /** Files that were on the path in some rounds only (not counted). */
  sometimes: Set<string>;
}

/** The functions on the path in every round; files with any of them. */
function pathOf(rounds: Array<Map<string, FunctionCount>>): ProcessPath {
  const always = [...rounds[0].entries()].filter(([key]) => rounds.every((r) => r.has(key)));
  const files = new Map<string, FunctionCount[]>();
  const generated = new Set<string>();
  for (const [, fn] of always) {
    if (isGenerated(fn.file)) generated.add(fn.file);
    else files.set(fn.file, [...(files.get(fn.file) ?? []), fn]);
  }
  const sometimes = new Set(rounds.flatMap((r) => [...r.values()].map((fn) => fn.file)).filter((f) => !files.has(f) && !generated.has(f)));
  return { files, generated, sometimes };
}

function report(name: ProcessName, path: ProcessPath, loaded: number, showFunctions: boolean): void {
  const threads = (fns: FunctionCount[]): string => [...new Set(fns.map((f) => f.thread))].join(', ');
  const byThread = new Map<string, number>();
  for (const fns of path.files.values()) for (const t of new Set(fns.map((f) => f.thread))) byThread.set(t, (byThread.get(t) ?? 0) + 1);
  const split = byThread.size > 1 ? ` (${[...byThread].map(([t, n]) => `${t} ${n}`).join(', ')})` : '';
  console.log(`\n${name}: ${path.files.size} hand-written files${split}, ${path.generated.size} generated (${loaded} hand-written modules loaded)`);
  for (const [file, fns] of [...path.files].sort(([a], [b]) => a.localeCompare(b))) {
    console.log(`  ${file.padEnd(52)} ${String(fns.length).padStart(3)} functions  [${threads(fns)}]`);
    if (showFunctions) console.log(`      ${fns.map((f) => `${f.name}×${f.count}`).join(', ')}`);
  }
  if (path.sometimes.size > 0) console.log(`  (on the path in some rounds only, not counted: ${[...path.sometimes].sort().join(', ')})`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      root: { type: 'string' }, model: { type: 'string' }, rounds: { type: 'string', default: '3' }, 'window-ms': { type: 'string', default: '2000' },
      requests: { type: 'string', default: '3' },
      warmup: { type: 'string', default: '3' }, functions: { type: 'boolean', default: false }, keep: { type: 'boolean', default: false },
      'skip-build': { type: 'boolean', default: false },
    },
  });
  const repo = resolve(__dirname, '..');
  const root = resolve(values.root ?? repo);
  const model = resolve(values.model ?? (await tinyModel(repo)));
  if (!values['skip-build']) build(root);
  const rounds = Number(values.rounds);
  const windowMs = Number(values['window-ms']);
  const perWindow = Number(values.requests);
  const workDir = mkdtempSync(join(tmpdir(), 'chat-path-'));
  const [controllerPort, workerPort, gatewayPort] = [await freePort(), await freePort(), await freePort()];
  const controllerAddress = `127.0.0.1:${controllerPort}`;
  const url = `http://127.0.0.1:${gatewayPort}`;
  const processes: MeasuredProcess[] = [];
  try {
    processes.push(startProcess(root, workDir, 'controller', ['--listen', controllerAddress, '--metrics-listen', '127.0.0.1:0', '--heartbeat-interval', '30s', '--heartbeat-expiry', '5m']));
    processes.push(startProcess(root, workDir, 'worker', [
      '--model', model, '--model-names', MODEL_NAME, '--controller', controllerAddress, '--listen', `127.0.0.1:${workerPort}`,
      '--metrics-listen', '127.0.0.1:0', '--threads', '1', '--device', 'cpu', '--heartbeat-interval', '30s',
    ]));
    processes.push(startProcess(root, workDir, 'gateway', ['--controller', controllerAddress, '--listen', `127.0.0.1:${gatewayPort}`, '--db', ':memory:', '--api-keys', API_KEY]));
    await waitForModel(url, processes);
    for (let i = 0; i < Number(values.warmup); i++) await chat(url);
    const snapshots = [await snapshot(processes)];
    const idleWindows = new Map<ProcessName, Array<Map<string, FunctionCount>>>(processes.map((p) => [p.name, []]));
    const busyWindows = new Map<ProcessName, Array<Map<string, FunctionCount>>>(processes.map((p) => [p.name, []]));
    let longest = 0;
    for (let r = 0; r < rounds; r++) {
      await sleep(windowMs);
      const idle = await snapshot(processes);
      snapshots.push(idle);
      const started = Date.now();
      for (let i = 0; i < perWindow; i++) await chat(url);
      const took = Date.now() - started;
      longest = Math.max(longest, took);
      await sleep(Math.max(0, windowMs - took));
      const busy = await snapshot(processes);
      snapshots.push(busy);
      for (const p of processes) {
        idleWindows.get(p.name)?.push(readCounts(idle.get(p.name) ?? [], root));
        busyWindows.get(p.name)?.push(readCounts(busy.get(p.name) ?? [], root));
      }
    }
    if (longest > windowMs) console.log(`warning: the requests took ${longest} ms, longer than the ${windowMs} ms window; raise --window-ms`);
    console.log(`chat path of ${root} (${rounds} rounds of ${windowMs} ms windows, ${perWindow} requests in each busy one, slowest ${longest} ms)`);
    const summary: Record<string, number> = {};
    const all = new Set<string>();
    for (const p of processes) {
      // Against the most each function ran in any idle window: a timer that fired twice there is not the request.
      const idleMost = most(idleWindows.get(p.name) ?? []);
      const path = pathOf((busyWindows.get(p.name) ?? []).map((busy) => added(busy, idleMost, perWindow)));
      const loaded = loadedFiles(snapshots.flatMap((snap) => snap.get(p.name) ?? []), root).size;
      report(p.name, path, loaded, values.functions);
      summary[p.name] = path.files.size;
      summary[`${p.name}_loaded`] = loaded;
      for (const f of path.files.keys()) all.add(f);
    }
    summary.total = processes.reduce((sum, p) => sum + summary[p.name], 0);
    summary.distinct = all.size;
    console.log(`\ntotal ${summary.total} (a file counted once per process it runs in), distinct ${summary.distinct}`);
    console.log(JSON.stringify({ chat_path_files: summary }));
  } finally {
    await stopAll(processes);
    if (values.keep) console.log(`kept ${workDir}`);
    else rmSync(workDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exitCode = 1;
});
