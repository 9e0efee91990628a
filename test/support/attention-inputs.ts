/** Inputs for attention-kernel tests: seeded uniform values, the rotate-half RoPE tables ([positions, d / 2]), and the largest difference of two outputs. */

/** A seeded generator of `n` values uniform in [-scale / 2, scale / 2) (a linear congruential sequence: the same every run). */
export function seededUniform(seed: number, scale = 1): (n: number) => Float32Array {
  let state = seed;
  return (n) =>
    Float32Array.from({ length: n }, () => {
      state = (state * 1103515245 + 12345) % 2147483648;
      return scale * (state / 2147483648 - 0.5);
    });
}

/** cos and sin of position p × 10000^(-2i / d), for p < positions and i < d / 2. */
export function ropeTables(positions: number, d: number): [Float32Array, Float32Array] {
  const half = d / 2;
  const cos = new Float32Array(positions * half);
  const sin = new Float32Array(positions * half);
  for (let p = 0; p < positions; p++) {
    for (let i = 0; i < half; i++) {
      const a = p / 10000 ** ((2 * i) / d);
      cos[p * half + i] = Math.cos(a);
      sin[p * half + i] = Math.sin(a);
    }
  }
  return [cos, sin];
}

/** The largest |a[i] - b[i]| (the lengths must match: a length difference fails the test). */
export function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
