/**
 * Reading V8 coverage files (NODE_V8_COVERAGE, precise call counts): per function of the tree's compiled `src/`, how
 * often it ran in one snapshot window, and which functions ran more often in one window than in another.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';

interface V8Coverage {
  result: Array<{ url: string; functions: Array<{ functionName: string; ranges: Array<{ startOffset: number; count: number }> }> }>;
}

/** `thread` is 'main' or 'thread N' (a worker thread, e.g. the worker's onnxruntime session thread). */
export interface FunctionCount {
  file: string;
  name: string;
  thread: string;
  count: number;
}

/** Function key -> count, for the functions of the build of `<root>/src/` (dist/src/*.js, named by their .ts source). */
export function readCounts(files: string[], root: string): Map<string, FunctionCount> {
  const counts = new Map<string, FunctionCount>();
  const srcDir = `${root.replace(/\/$/, '')}/dist/src/`;
  for (const path of files) {
    const threadId = /-(\d+)\.json$/.exec(basename(path))?.[1] ?? '0';
    const thread = threadId === '0' ? 'main' : `thread ${threadId}`;
    const coverage = JSON.parse(readFileSync(path, 'utf8')) as V8Coverage;
    for (const script of coverage.result) {
      if (!script.url.startsWith('file://')) continue;
      const abs = fileURLToPath(script.url);
      if (!abs.startsWith(srcDir) || !abs.endsWith('.js')) continue;
      const file = `src/${abs.slice(srcDir.length, -'.js'.length)}.ts`;
      for (const fn of script.functions) {
        const start = fn.ranges[0];
        if (!start) continue;
        const key = `${thread}|${file}|${start.startOffset}|${fn.functionName}`;
        const prior = counts.get(key);
        counts.set(key, { file, name: fn.functionName || '(anonymous)', thread, count: (prior?.count ?? 0) + start.count });
      }
    }
  }
  return counts;
}

/** The hand-written files of `<root>/src/` that the process loaded (any thread), from its coverage files. */
export function loadedFiles(files: string[], root: string): Set<string> {
  const loaded = new Set<string>();
  for (const fn of readCounts(files, root).values()) if (!isGenerated(fn.file)) loaded.add(fn.file);
  return loaded;
}

/** Per function, the highest count it had in any of `windows`. */
export function most(windows: Array<Map<string, FunctionCount>>): Map<string, FunctionCount> {
  const out = new Map<string, FunctionCount>();
  for (const window of windows) {
    for (const [key, fn] of window) if (fn.count > (out.get(key)?.count ?? 0)) out.set(key, fn);
  }
  return out;
}

/**
 * Functions that ran at least `atLeast` times in `busy` and more often than in `idle` (what the window's requests
 * added: with k requests in the window, a function of the path runs at least k times; a timer does not).
 */
export function added(busy: Map<string, FunctionCount>, idle: Map<string, FunctionCount>, atLeast: number): Map<string, FunctionCount> {
  const out = new Map<string, FunctionCount>();
  for (const [key, fn] of busy) {
    const extra = fn.count - (idle.get(key)?.count ?? 0);
    if (fn.count >= atLeast && extra > 0) out.set(key, fn);
  }
  return out;
}

/** Generated protobuf code (src/common/gen/) is not hand-written. */
export function isGenerated(file: string): boolean {
  return file.startsWith('src/common/gen/');
}
