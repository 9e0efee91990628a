import { layerFromGenerationConfig, resolveSamplingParams, WORKER_DEFAULTS, type ValidSamplingParams } from '../../src/worker/sampling/params';
import { applyPresenceFrequency, applyRepetitionPenalty, argmax, newTokenHistory, processLogits, rawLogprobs, recordToken, softmaxInto, topN } from '../../src/worker/sampling/logits';
import { Rng, sampleToken } from '../../src/worker/sampling/sampler';
import { referenceSampleToken } from '../support/reference-sampler';

const V = 8;
const params = (over: Partial<ValidSamplingParams>): ValidSamplingParams => ({ ...WORKER_DEFAULTS, ...over });

/** Empirical distribution of many draws. */
function histogram(logits: number[], p: ValidSamplingParams, draws = 20000, seed = 7): number[] {
  const rng = new Rng(seed);
  const counts = new Array<number>(logits.length).fill(0);
  const row = Float32Array.from(logits);
  for (let i = 0; i < draws; i++) counts[sampleToken(row, p, rng)] += 1;
  return counts.map((c) => c / draws);
}

describe('sampling parameters', () => {
  it('layers with the request winning over generation_config and defaults', () => {
    const gc = layerFromGenerationConfig({ temperature: 0.6, top_p: 0.9, top_k: 20 });
    const p = resolveSamplingParams([gc, { temperature: 0.2, stop: ['###'] }], 100);
    expect(p).toMatchObject({ temperature: 0.2, topP: 0.9, topK: 20, stop: ['###'] });
  });

  it('treats do_sample=false as greedy', () => {
    expect(resolveSamplingParams([layerFromGenerationConfig({ do_sample: false, temperature: 0.7 })], 10).temperature).toBe(0);
  });

  it.each([
    [{ temperature: -1 }, /temperature: must be between 0 and 2, got -1/],
    [{ topP: 0 }, /top_p: must be > 0/],
    [{ topP: 1.5 }, /top_p/],
    [{ topK: -2 }, /top_k/],
    [{ minP: 2 }, /min_p/],
    [{ repetitionPenalty: 0 }, /repetition_penalty/],
    [{ presencePenalty: 3 }, /presence_penalty/],
    [{ frequencyPenalty: -2.5 }, /frequency_penalty/],
    [{ maxTokens: 0 }, /max_tokens/],
    [{ stop: [''] }, /stop strings must not be empty/],
    [{ stopTokenIds: [100] }, /outside the vocabulary/],
    [{ logitBias: { 5: 101 } }, /logit_bias/],
    [{ logitBias: { 500: 1 } }, /outside the vocabulary/],
    [{ topLogprobs: 21 }, /top_logprobs/],
    [{ seed: 1.5 }, /seed/],
  ])('rejects %j', (layer, message) => {
    expect(() => resolveSamplingParams([layer], 100)).toThrow(message);
    try {
      resolveSamplingParams([layer], 100);
    } catch (err) {
      expect((err as { kind: string }).kind).toBe('invalid_request');
    }
  });

  it('accepts top_k = -1 as disabled (vLLM convention)', () => {
    expect(resolveSamplingParams([{ topK: -1 }], 10).topK).toBe(0);
  });
});

describe('logits processors', () => {
  it('repetition penalty divides positive and multiplies negative logits of seen tokens', () => {
    const logits = Float32Array.from([2, -2, 2, -2]);
    applyRepetitionPenalty(logits, new Set([0, 1]), 2);
    expect(Array.from(logits)).toEqual([1, -4, 2, -2]);
  });

  it('presence and frequency penalties follow OpenAI: logit - presence - frequency * count', () => {
    const logits = Float32Array.from([1, 1, 1]);
    applyPresenceFrequency(logits, new Map([[0, 3], [2, 1]]), 0.5, 0.25);
    expect(Array.from(logits)).toEqual([1 - 0.5 - 0.75, 1, 1 - 0.5 - 0.25]);
  });

  it('logit bias can force or forbid a token', () => {
    const h = newTokenHistory([]);
    const logits = Float32Array.from([5, 0, 0, 0]);
    processLogits(logits, params({ logitBias: new Map([[0, -100], [3, 10]]) }), h);
    expect(argmax(logits)).toBe(3);
  });

  it('penalties count only output tokens, the repetition penalty also prompt tokens', () => {
    const h = newTokenHistory([1]);
    recordToken(h, 2);
    recordToken(h, 2);
    const logits = Float32Array.from([0, 4, 4, 0]);
    processLogits(logits, params({ repetitionPenalty: 2, frequencyPenalty: 1 }), h);
    expect(Array.from(logits)).toEqual([0, 2, 0, 0]);
  });
});

describe('sampler', () => {
  const logits = [2, 1, 0.5, 0, -1, -2, -3, -4];

  it('is greedy at temperature 0 (first index wins ties)', () => {
    expect(sampleToken(Float32Array.from([1, 3, 3, 0]), params({ temperature: 0 }), new Rng(1))).toBe(1);
  });

  it('samples the softmax distribution at temperature 1', () => {
    const expected = new Float32Array(V);
    softmaxInto(Float32Array.from(logits), 1, expected);
    const got = histogram(logits, params({ temperature: 1 }));
    got.forEach((g, i) => expect(Math.abs(g - expected[i])).toBeLessThan(0.015));
  });

  it('sharpens with low temperature and flattens with high temperature', () => {
    expect(histogram(logits, params({ temperature: 0.25 }))[0]).toBeGreaterThan(0.95);
    expect(histogram(logits, params({ temperature: 10 }))[0]).toBeLessThan(0.2);
  });

  it('top_k keeps exactly the k best tokens, renormalised', () => {
    const got = histogram(logits, params({ topK: 2 }));
    const e = Math.exp(1);
    expect(got.slice(2).every((g) => g === 0)).toBe(true);
    expect(Math.abs(got[0] - e / (e + 1))).toBeLessThan(0.015);
  });

  it('top_p keeps the smallest prefix reaching the mass', () => {
    const probs = new Float32Array(V);
    softmaxInto(Float32Array.from(logits), 1, probs);
    // p0 ≈ 0.55, p0 + p1 ≈ 0.75: top_p 0.7 keeps tokens 0 and 1 only.
    expect(probs[0]).toBeLessThan(0.7);
    expect(probs[0] + probs[1]).toBeGreaterThanOrEqual(0.7);
    const got = histogram(logits, params({ topP: 0.7 }));
    expect(got[0] + got[1]).toBe(1);
    expect(got[1]).toBeGreaterThan(0.2);
  });

  it('min_p drops tokens below min_p times the best probability', () => {
    // p_i / p_0 = e^(l_i - 2): token 1 has e^-1 ≈ 0.37, token 2 e^-1.5 ≈ 0.22.
    const got = histogram(logits, params({ minP: 0.3 }));
    expect(got[1]).toBeGreaterThan(0);
    expect(got.slice(2).every((g) => g === 0)).toBe(true);
  });

  it('is reproducible for a seed and differs across seeds', () => {
    const draw = (seed: number): number[] => {
      const rng = new Rng(seed);
      return Array.from({ length: 50 }, () => sampleToken(Float32Array.from(logits), params({ temperature: 1.5 }), rng));
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
  });

  it('reports raw logprobs with the top alternatives', () => {
    const row = Float32Array.from([0, Math.log(3), 0, 0]);
    const lp = rawLogprobs(row, 2);
    expect(lp.top[0].tokenId).toBe(1);
    expect(lp.top[0].logprob).toBeCloseTo(Math.log(3 / 6), 6);
    expect(lp.top[1]).toEqual({ tokenId: 0, logprob: expect.closeTo(Math.log(1 / 6), 6) });
    expect(topN(Float32Array.from([1, 5, 3, 5, 2]), 3)).toEqual([1, 3, 2]);
  });
});

describe('sampler fast paths draw what the straightforward sampler draws', () => {
  const VOCAB = 50_259;
  /** Rows shaped like a language model's (a broad bulk, a few far ahead), or flat (a random-weight model's). */
  function rows(kind: 'peaked' | 'flat', count: number, seed: number): Float32Array[] {
    const rng = new Rng(seed);
    return Array.from({ length: count }, () => {
      const row = new Float32Array(VOCAB);
      for (let i = 0; i < VOCAB; i++) {
        const g = Math.sqrt(-2 * Math.log(rng.next() + 1e-12)) * Math.cos(2 * Math.PI * rng.next());
        row[i] = kind === 'peaked' ? 2.5 * g : 0.05 * g;
      }
      if (kind === 'peaked') for (let k = 0; k < 6; k++) row[Math.floor(rng.next() * VOCAB)] += 8 + 2 * rng.next();
      row[17] = -Infinity; // a masked token (grammar, logit bias) is never drawn
      return row;
    });
  }

  it.each([
    ['temperature', { temperature: 0.8 }],
    ['top_p', { temperature: 0.9, topP: 0.9 }],
    ['top_k', { temperature: 1, topK: 40 }],
    ['top_k + top_p', { temperature: 0.7, topK: 400, topP: 0.8 }],
    ['min_p', { temperature: 1.2, minP: 0.05 }],
    ['top_p + min_p', { temperature: 1, topP: 0.95, minP: 0.1 }],
    ['large top_k', { temperature: 1, topK: 3000 }],
  ] as const)('%s: the same tokens for the same seeds (peaked rows), nearly all on flat rows', (_name, over) => {
    const p = params(over);
    const scratch = new Float32Array(VOCAB);
    for (const kind of ['peaked', 'flat'] as const) {
      const data = rows(kind, 4, kind === 'peaked' ? 1 : 2);
      const fast = new Rng(99);
      const reference = new Rng(99);
      const got: number[] = [];
      const want: number[] = [];
      for (let i = 0; i < 40; i++) {
        got.push(sampleToken(data[i % data.length], p, fast));
        want.push(referenceSampleToken(data[i % data.length], p, reference, scratch));
      }
      expect(got).not.toContain(17);
      // Flat rows have thousands of tokens whose float32 probabilities are equal: the old sampler walked those in id
      // order, the new one in logit order — the same distribution, another token for a rare draw.
      if (kind === 'peaked') expect(got).toEqual(want);
      else expect(got.filter((g, i) => g !== want[i]).length).toBeLessThanOrEqual(2);
    }
  });

  it('greedy is the first maximum, and a fully masked row still yields a token', () => {
    const row = new Float32Array(VOCAB).fill(-Infinity);
    expect(sampleToken(row, params({ temperature: 1, topP: 0.5 }), new Rng(1))).toBe(0);
    expect(sampleToken(row, params({ temperature: 1 }), new Rng(1))).toBe(0);
    row[7] = 3;
    row[9] = 3;
    expect(sampleToken(row, params({ temperature: 0 }), new Rng(1))).toBe(7);
    expect(sampleToken(row, params({ temperature: 1, topK: 1 }), new Rng(1))).toBe(7);
  });
});
