/**
 * clean-sharegpt's sequential finisher (FastChat's clean_html_all): in input order, a kept record is dropped when
 * its id was already kept, when it used plugins, or when its first round (content hash) was already kept.
 * Runs on the main thread so the result does not depend on how records were spread over threads.
 */
import type { RecordResult } from '../record-result';

export class CleanDeduplicator {
  private readonly ids = new Set<string>();
  private readonly keys = new Map<string, string>();

  /** Returns the drop event for a duplicate, or undefined when the record is kept (and remembered). */
  check(result: RecordResult): { reason: string; detail: string } | undefined {
    const dedup = result.dedup;
    if (!dedup) return undefined;
    if (this.ids.has(result.id)) return { reason: 'id_duplicate', detail: 'an earlier kept record has the same id' };
    if (dedup.hasPlugins) return { reason: 'plugins', detail: 'conversation used ChatGPT plugins' };
    const seenKey = this.keys.get(dedup.key);
    if (seenKey !== undefined) return { reason: 'value_duplicate', detail: `same first round as ${seenKey}` };
    this.ids.add(result.id);
    this.keys.set(dedup.key, result.id);
    return undefined;
  }
}
