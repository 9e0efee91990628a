/**
 * Builds the web UI (`npm run build` runs it after tsc): the browser code in `client/` bundled by esbuild into
 * `app.js`, plus `static/index.html` and `static/app.css`, into `dist/src/gateway/ui/static` (or `--out DIR`).
 * Tests call `buildUi` to get a UI directory of their own.
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { build } from 'esbuild';

/** The package root: the first ancestor of this file holding package.json (works from src/ and dist/). */
function packageRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${__dirname}`);
    dir = up;
  }
  return dir;
}

export const UI_SOURCE_DIR = join(packageRoot(), 'src', 'gateway', 'ui');

export interface BuildUiOptions {
  outDir: string;
  minify?: boolean;
}

export async function buildUi(options: BuildUiOptions): Promise<void> {
  mkdirSync(options.outDir, { recursive: true });
  await build({
    entryPoints: [join(UI_SOURCE_DIR, 'client', 'main.ts')],
    outfile: join(options.outDir, 'app.js'),
    bundle: true,
    format: 'esm',
    target: ['es2022'],
    platform: 'browser',
    minify: options.minify ?? true,
    legalComments: 'none',
    logLevel: 'warning',
    tsconfig: join(UI_SOURCE_DIR, 'client', 'tsconfig.json'),
  });
  for (const file of ['index.html', 'app.css']) copyFileSync(join(UI_SOURCE_DIR, 'static', file), join(options.outDir, file));
}

if (require.main === module) {
  const i = process.argv.indexOf('--out');
  const outDir = i > 0 ? resolve(process.argv[i + 1]) : join(__dirname, 'static');
  buildUi({ outDir }).then(
    () => process.stdout.write(`web UI built into ${outDir}\n`),
    (err: unknown) => {
      process.stderr.write(`building the web UI failed: ${(err as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
