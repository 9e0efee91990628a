/**
 * Loads xgrammar (`@mlc-ai/web-xgrammar`, the xgrammar C++ engine compiled to WebAssembly, its .wasm inlined)
 * under plain Node.
 *
 * The package declares `"type": "module"` but ships a UMD bundle whose Node branch calls `require` and
 * `await import('module')`; imported as an ES module it fails with `require is not defined`. We evaluate the same
 * file as CommonJS instead: Node's module wrapper around its source, with the one dynamic import replaced by
 * `require('module')` (a dynamic import inside vm-compiled code needs an experimental loader flag). The version is
 * pinned in package.json; a bundle that no longer has the expected text is a startup error, never a silent guess.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { runInThisContext } from 'node:vm';
import { FleetError } from '../../common/errors';
import type * as XGrammar from '@mlc-ai/web-xgrammar';

export type XGrammarModule = typeof XGrammar;

const DYNAMIC_IMPORT = "await import('module')";

let loaded: XGrammarModule | undefined;

/** The xgrammar module (evaluated once per process). */
export function xgrammar(): XGrammarModule {
  if (loaded) return loaded;
  const localRequire = createRequire(__filename);
  const packageJson = localRequire.resolve('@mlc-ai/web-xgrammar/package.json');
  const file = join(dirname(packageJson), 'lib', 'index.js');
  const source = readFileSync(file, 'utf8');
  if (!source.includes(DYNAMIC_IMPORT)) {
    throw new FleetError('internal', `${file} is not the @mlc-ai/web-xgrammar bundle this loader knows (no ${DYNAMIC_IMPORT}); pin 0.1.27`);
  }
  const wrapped = `(function (exports, require, module, __filename, __dirname) {${source.replace(DYNAMIC_IMPORT, "require('module')")}\n})`;
  const fn = runInThisContext(wrapped, { filename: file }) as (e: object, r: NodeJS.Require, m: { exports: object }, f: string, d: string) => void;
  const mod = { exports: {} };
  fn(mod.exports, createRequire(file), mod, file, dirname(file));
  loaded = mod.exports as XGrammarModule;
  return loaded;
}
