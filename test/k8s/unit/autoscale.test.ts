import { decideReplicas, recommendReplicas, type Recommendation } from '../../../src/operator/modelworker/autoscale';
import type { ValidAutoscaling } from '../../../src/operator/modelworker/valid-spec';

const A: ValidAutoscaling = { minReplicas: 1, maxReplicas: 5, targetQueueLength: 4, scaleUpStabilizationMs: 0, scaleDownStabilizationMs: 60_000 };

describe('queue-length autoscaling', () => {
  it.each([[0, 1], [1, 1], [4, 1], [5, 2], [16, 4], [100, 5]])('load %i recommends %i replicas', (load, replicas) => {
    expect(recommendReplicas(load, A)).toBe(replicas);
  });

  /** Feeds (time, load) observations and returns the replicas after each one. */
  function run(a: ValidAutoscaling, start: number, steps: Array<[number, number]>): number[] {
    let history: Recommendation[] = [];
    let current = start;
    return steps.map(([t, load]) => {
      const d = decideReplicas({ current, load, autoscaling: a, history, nowMs: t });
      history = d.history;
      current = d.replicas;
      return current;
    });
  }

  it('scales up at once and down only after a full window of lower recommendations', () => {
    expect(run(A, 1, [[0, 0], [1000, 12], [2000, 0], [30_000, 0], [60_999, 0], [61_001, 0]])).toEqual([1, 3, 3, 3, 3, 1]);
  });

  it('does not scale down right after a restart (no history yet)', () => {
    expect(run(A, 4, [[0, 0], [59_000, 0], [60_001, 0]])).toEqual([4, 4, 1]);
  });

  it('with a scale-up window, follows only a load that lasts', () => {
    const a = { ...A, scaleUpStabilizationMs: 10_000 };
    expect(run(a, 1, [[0, 0], [1000, 20], [5000, 0], [6000, 20], [12_000, 20], [16_001, 20]])).toEqual([1, 1, 1, 1, 1, 5]);
  });

  it('clamps a count outside the bounds', () => {
    expect(run(A, 9, [[0, 0]])).toEqual([5]);
    expect(run({ ...A, minReplicas: 2 }, 1, [[0, 0]])).toEqual([2]);
  });
});
