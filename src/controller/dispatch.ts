/** The controller's dispatch over registry entries (the policy itself is shared: src/common/dispatch.ts). */
import { chooseCandidate, type DispatchMethodName } from '../common/dispatch';
import type { RegistryEntry } from './registry';

export type { DispatchMethodName } from '../common/dispatch';

export function chooseWorker(candidates: RegistryEntry[], method: DispatchMethodName, random: () => number = Math.random): RegistryEntry {
  const chosen = chooseCandidate(
    candidates.map((entry) => ({ entry, status: entry.info.status, pending: entry.dispatchedSinceBeat })),
    method,
    random,
  );
  return chosen.entry;
}
