/**
 * The `fleetchat` binary loads only the command it runs: a serving process does not carry the model factory, the
 * judge or the operator. Checked through the real binary (a child process, compiled from source) by what it
 * required, and through the command table.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { COMMANDS } from '../../src/cli/commands';
import { entriesFor } from '../../src/cli/program';

const ROOT = join(__dirname, '..', '..');

/** The project source files a `fleetchat ARGS` process has loaded when its command ran (`--help` exits there). */
function loadedSources(args: string[]): string[] {
  const probe = `process.on('exit', () => process.stderr.write('\\nLOADED ' + JSON.stringify(Object.keys(require.cache).filter((f) => f.startsWith(${JSON.stringify(join(ROOT, 'src'))})))));`;
  const r = spawnSync(process.execPath, ['-r', '@swc-node/register', '-e', `${probe} process.argv.splice(1, 0, 'fleetchat'); require(${JSON.stringify(join(ROOT, 'src/cli/main.ts'))});`, '--', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  const line = r.stderr.split('\n').find((l) => l.startsWith('LOADED '));
  if (!line) throw new Error(`no module list from fleetchat ${args.join(' ')}: ${r.stderr.slice(-500)}`);
  return (JSON.parse(line.slice(7)) as string[]).map((f) => f.slice(ROOT.length + 1));
}

describe('lazy command loading', () => {
  it('picks the entry a command line names, every entry for help, no command or an unknown one', () => {
    expect(entriesFor(['worker', '--listen', '127.0.0.1:0']).map((e) => e.names)).toEqual([['worker']]);
    expect(entriesFor(['chat'])).toHaveLength(1);
    expect(entriesFor(['jobs', 'elo', '--help'])[0].names).toEqual(['jobs']);
    expect(entriesFor(['--help'])).toHaveLength(COMMANDS.length);
    expect(entriesFor(['help', 'worker'])).toHaveLength(COMMANDS.length);
    expect(entriesFor(['wokrer'])).toHaveLength(COMMANDS.length);
    expect(entriesFor(undefined)).toHaveLength(COMMANDS.length);
  });

  it('every command name is listed once, so a name loads exactly one entry', () => {
    const names = COMMANDS.flatMap((e) => e.names);
    expect(new Set(names).size).toBe(names.length);
  });

  it('a controller process does not load the worker, the gateway, the model factory or the jobs', () => {
    const loaded = loadedSources(['controller', '--help']);
    expect(loaded).toContain('src/cli/commands/controller.ts');
    expect(loaded.filter((f) => /^src\/(worker|gateway|model|jobs|operator)\//.test(f))).toEqual([]);
  }, 60_000);

  it('`--help` still lists every command', () => {
    const loaded = loadedSources(['--help']);
    for (const f of ['src/cli/commands/worker.ts', 'src/cli/commands/jobs-train.ts', 'src/cli/commands/operator.ts']) expect(loaded).toContain(f);
  }, 60_000);
});
