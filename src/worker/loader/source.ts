/** Resolving a model source (a directory, `hf:ORG/NAME[@REV]`, or the embedded default) to a local directory. */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { FleetError } from '../../common/errors';
import type { Logger } from '../../common/log';
import type { WeightVariant } from './files';
import { fetchFromHub, parseHubRef } from './hub';

export interface SourceOptions {
  cacheDir: string;
  hfEndpoint: string;
  hfToken?: string;
  weights: WeightVariant;
  logger?: Logger;
}

export const DEFAULT_SOURCE = 'default';

/** A model chosen for the worker: its directory, the name to serve it under, and how it was obtained. */
export interface ModelChoice {
  dir: string;
  name: string;
  /** How the model was obtained, for logs and GetModelInfo. */
  source: string;
}

/**
 * Picks the model served when none is given. The worker process never builds models itself (that is the model
 * factory's job, src/model): the CLI, which composes the processes, supplies this.
 */
export type DefaultModelResolver = () => Promise<ModelChoice>;

export async function resolveModelSource(source: string, options: SourceOptions): Promise<string> {
  if (source === '' || source === DEFAULT_SOURCE) {
    throw new FleetError('invalid_request', 'no model given: pass --model DIR|hf:ORG/NAME (the embedded default is resolved by the fleetchat CLI)', { param: 'model' });
  }
  if (source.startsWith('hf:')) {
    const ref = parseHubRef(source);
    if (!ref) throw new FleetError('invalid_request', `'${source}' is not a Hugging Face reference: use hf:ORG/NAME or hf:ORG/NAME@REVISION`, { param: 'model' });
    return fetchFromHub(ref, { cacheDir: options.cacheDir, endpoint: options.hfEndpoint, token: options.hfToken, variant: options.weights, logger: options.logger });
  }
  const dir = resolve(source);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new FleetError('not_found', `model directory not found: ${dir} (give a directory in the Hugging Face ONNX layout, hf:ORG/NAME, or omit --model for the embedded default)`, { param: 'model' });
  }
  return dir;
}
