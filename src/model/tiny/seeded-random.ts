/**
 * Deterministic random numbers for generated weights: xorshift128 seeded per tensor from the model seed and the
 * tensor's name, so every tensor can be produced on its own, in any order, with identical bytes on every machine.
 * Hand-written because it is a few lines and runs ~100M values a second.
 */

/** FNV-1a hash of a string, mixed with the seed (murmur3 finaliser). */
export function tensorSeed(seed: number, name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mix32(h ^ Math.imul(seed >>> 0, 0x9e3779b1));
}

/** murmur3's 32-bit finaliser. */
function mix32(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Fills `out` with values uniform in [mean - halfWidth, mean + halfWidth), from Marsaglia's xorshift128 (shifts and
 * xors only: fast in any JavaScript context, including jest's, where Math.imul is a slow cross-realm call).
 */
export function fillUniform(out: Float32Array, seed: number, mean: number, halfWidth: number): Float32Array {
  let x = mix32(seed ^ 0x9e3779b9);
  let y = mix32(x ^ 0x7f4a7c15);
  let z = mix32(y ^ 0x3c6ef372);
  let w = mix32(z ^ 0xa54ff53a) | 1;
  const scale = (2 * halfWidth) / 4294967296;
  const low = mean - halfWidth;
  for (let i = 0; i < out.length; i++) {
    const t = x ^ (x << 11);
    x = y;
    y = z;
    z = w;
    w = w ^ (w >>> 19) ^ (t ^ (t >>> 8));
    out[i] = low + (w >>> 0) * scale;
  }
  return out;
}

/** Uniform values with the given mean and standard deviation (half-width = std * sqrt(3)). */
export function randomTensor(count: number, seed: number, mean: number, std: number): Float32Array {
  return fillUniform(new Float32Array(count), seed, mean, std * Math.sqrt(3));
}
