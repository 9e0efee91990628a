import { silentLogger } from '../../src/common/log';
import { FinishReason } from '../../src/common/gen/worker';
import { loadGenerationRuntime } from '../../src/worker/loader/load';
import { resolveSamplingParams } from '../../src/worker/sampling/params';
import { tinyModel } from '../support/models';

/** The model runs in its own thread: a long forward pass must not stall the worker's event loop. */
it('keeps the event loop responsive while a long prompt is prefilled', async () => {
  let longestStepMs = 0;
  const rt = await loadGenerationRuntime({
    dir: await tinyModel(), source: 'tiny', modelNames: ['tiny'], threads: 1, weights: 'auto', maxConcurrency: 4, maxQueue: 4, maxPrefillTokens: 8192, logger: silentLogger(),
    observer: { onStep: (_b, s) => (longestStepMs = Math.max(longestStepMs, s * 1000)) },
  });
  try {
    const ids = Array.from({ length: 1300 }, (_, i) => 100 + (i % 500));
    let maxGapMs = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      maxGapMs = Math.max(maxGapMs, now - last);
      last = now;
    }, 2);
    await Promise.all(
      [0, 1, 2].map(
        () =>
          new Promise<void>((resolve) => {
            rt.engine.submit({
              promptIds: ids,
              params: resolveSamplingParams([{ temperature: 0, maxTokens: 2, ignoreEos: true }], rt.info.vocabSize),
              onChunk: (c) => {
                if (c.finishReason !== FinishReason.FINISH_REASON_UNSPECIFIED) resolve();
              },
            });
          }),
      ),
    );
    clearInterval(timer);
    expect(longestStepMs).toBeGreaterThan(40);
    expect(maxGapMs).toBeLessThan(longestStepMs / 2);
  } finally {
    await rt.release();
  }
}, 60_000);
