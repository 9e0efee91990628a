/** spec.engine, spec.engineContainer and spec.upstream of a ModelWorker, checked and defaulted. */
import { FleetError } from '../../common/errors';
import { DEFAULTS } from '../api/v1alpha1/schema';
import type { ModelWorkerSpec } from '../api/v1alpha1/types';
import type { EngineKind, ValidEngine } from './valid-spec';

export function validEngine(spec: ModelWorkerSpec | undefined): ValidEngine {
  const kind: EngineKind = spec?.engine ?? DEFAULTS.engine;
  const c = spec?.engineContainer;
  const engine: ValidEngine = {
    kind,
    image: c?.image || undefined,
    args: c?.args ?? [],
    shmSize: c?.shmSize === undefined ? DEFAULTS.shmSize : String(c.shmSize),
    tensorParallelSize: c?.tensorParallelSize,
  };
  if (kind === 'openai') {
    const u = spec?.upstream;
    if (!u?.url) throw new FleetError('invalid_request', 'engine openai needs upstream.url', { param: 'spec.upstream.url' });
    engine.upstream = { url: u.url, model: u.model || undefined, api: u.api, apiKeySecretRef: u.apiKeySecretRef };
  }
  return engine;
}
