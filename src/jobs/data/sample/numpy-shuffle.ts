/**
 * The permutation `np.random.seed(seed); np.random.shuffle(list)` produces, which FastChat's sample.py and
 * split_train_test.py use, so the same records are sampled. numpy's legacy RandomState is MT19937 seeded with
 * init_genrand(seed), and shuffle is a Fisher–Yates walk from the end that draws j in [0, i] by masked rejection
 * sampling on 32-bit outputs (numpy's random_interval). Written here because the exact numpy semantics are the
 * point; checked against numpy in scripts/compat/data-compare.sh.
 */

const N = 624;
const M = 397;

export class Mt19937 {
  private readonly mt = new Uint32Array(N);
  private index = N;

  constructor(seed: number) {
    this.mt[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = this.mt[i - 1] ^ (this.mt[i - 1] >>> 30);
      // 1812433253 * prev + i, modulo 2^32, without losing precision in doubles.
      this.mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
  }

  nextUint32(): number {
    if (this.index >= N) this.twist();
    let y = this.mt[this.index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  private twist(): void {
    const mt = this.mt;
    for (let i = 0; i < N; i++) {
      const y = (mt[i] & 0x80000000) | (mt[(i + 1) % N] & 0x7fffffff);
      let v = mt[(i + M) % N] ^ (y >>> 1);
      if (y & 1) v ^= 0x9908b0df;
      mt[i] = v >>> 0;
    }
    this.index = 0;
  }
}

/** numpy's random_interval(max) for max < 2^32: a uniform integer in [0, max]. */
function randomInterval(rng: Mt19937, max: number): number {
  if (max === 0) return 0;
  let mask = max;
  mask |= mask >>> 1;
  mask |= mask >>> 2;
  mask |= mask >>> 4;
  mask |= mask >>> 8;
  mask |= mask >>> 16;
  mask >>>= 0;
  for (;;) {
    const value = (rng.nextUint32() & mask) >>> 0;
    if (value <= max) return value;
  }
}

/** The order of `count` items after numpy's legacy `seed(seed); shuffle(items)`. */
export function numpyShuffledOrder(count: number, seed: number): Uint32Array {
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  const rng = new Mt19937(seed);
  for (let i = count - 1; i >= 1; i--) {
    const j = randomInterval(rng, i);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}
