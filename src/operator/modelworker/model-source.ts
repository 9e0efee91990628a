/** Model sources of a ModelWorker (`hf:`, `pvc://`, `https://` hub mirror, `default`), parsed once. */
import { FleetError } from '../../common/errors';
import { SOURCE_PATTERNS } from '../api/v1alpha1/schema';

export type ModelSource =
  | { kind: 'default' }
  | { kind: 'hf'; ref: string }
  | { kind: 'pvc'; claim: string; path: string }
  | { kind: 'mirror'; endpoint: string; ref: string };

export function parseModelSource(source: string): ModelSource {
  if (source === 'default') return { kind: 'default' };
  if (new RegExp(SOURCE_PATTERNS.hf).test(source)) return { kind: 'hf', ref: source };
  if (new RegExp(SOURCE_PATTERNS.pvc).test(source)) {
    const rest = source.slice('pvc://'.length);
    const slash = rest.indexOf('/');
    const claim = slash < 0 ? rest : rest.slice(0, slash);
    const path = slash < 0 ? '' : rest.slice(slash + 1).replace(/^\/+|\/+$/g, '');
    if (path.split('/').includes('..')) throw new FleetError('invalid_request', `model.source '${source}': the path must not contain '..'`, { param: 'spec.model.source' });
    return { kind: 'pvc', claim, path };
  }
  if (new RegExp(SOURCE_PATTERNS.url).test(source)) {
    const url = new URL(source);
    return { kind: 'mirror', endpoint: `${url.protocol}//${url.host}`, ref: `hf:${url.pathname.slice(1)}` };
  }
  throw new FleetError('invalid_request', `model.source '${source}' must be hf:ORG/NAME[@REV], pvc://CLAIM/PATH, https://HOST/ORG/NAME[@REV] or default`, { param: 'spec.model.source' });
}
