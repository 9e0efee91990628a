/** Memory copy bandwidth of this machine (one thread, bytes read + written per second), best of a few runs. */
export function measureCopyBandwidth(bytes = 256 * 1024 * 1024, runs = 5): number {
  const src = new Float32Array(bytes / 4).fill(1);
  const dst = new Float32Array(bytes / 4);
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    dst.set(src);
    best = Math.min(best, performance.now() - t);
  }
  return (2 * bytes) / (best / 1000);
}
