/** Reads gauges from a Prometheus text exposition (the engines' /metrics): each name's values summed over label sets. */
export function sumMetrics(text: string, names: ReadonlySet<string>): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const brace = line.indexOf('{');
    const space = line.indexOf(' ');
    const end = brace >= 0 && brace < space ? brace : space;
    if (end <= 0) continue;
    const name = line.slice(0, end);
    if (!names.has(name)) continue;
    const tail = brace >= 0 && brace < space ? line.slice(line.lastIndexOf('}') + 1) : line.slice(space);
    const value = Number(tail.trim().split(/\s+/)[0]);
    if (Number.isFinite(value)) out.set(name, (out.get(name) ?? 0) + value);
  }
  return out;
}

/** Waiting and running requests from the first known pair of gauge names present; undefined when none is. */
export function queueFromMetrics(text: string, pairs: ReadonlyArray<{ waiting: string; running: string }>): { waiting: number; running: number } | undefined {
  const names = new Set(pairs.flatMap((p) => [p.waiting, p.running]));
  const values = sumMetrics(text, names);
  for (const p of pairs) {
    if (values.has(p.waiting) || values.has(p.running)) return { waiting: values.get(p.waiting) ?? 0, running: values.get(p.running) ?? 0 };
  }
  return undefined;
}
