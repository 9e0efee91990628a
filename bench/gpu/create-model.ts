/** Generates a benchmark model for bench:gpu (a child process, so run.ts works from sources or from a bundle). */
import { createTinyModel } from '../../src/model/tiny/create-tiny-model';
import type { TinyModelOptions } from '../../src/model/tiny/create-tiny-model';

const options = JSON.parse(process.argv[2] ?? '{}') as TinyModelOptions;
createTinyModel(options)
  .then((r) => process.stdout.write(`${JSON.stringify({ dir: r.dir, parameters: r.parameterCount, elapsed_ms: r.elapsedMs })}\n`))
  .catch((err: unknown) => {
    process.stderr.write(`create-model: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
