/**
 * Which battle-log records the ratings use, and why the others are dropped (pure). FastChat's elo_analysis keeps
 * anonymous battles only (the judge did not know the names) and cannot rate a model against itself; records that
 * are not valid JSON or not valid battles are dropped too — every drop is counted by reason and field and the
 * first few are kept as examples with their location in the input.
 */
import { parseBattleRecord, type ValidBattleRecord } from '../../arena/battle-log';
import type { BattleLogItem } from '../../arena/battle-log-file';

export type DropReason = 'invalid_json' | 'malformed' | 'named' | 'self_battle';

export const DROP_EXPLANATIONS: Record<DropReason, string> = {
  invalid_json: 'the line is not valid JSON',
  malformed: 'the record is not a valid FastChat battle (see problems by field)',
  named: 'the judge saw the model names (not anonymous); use --include-named to keep these',
  self_battle: 'a model against itself says nothing about its rating',
};

export type Classified = { keep: ValidBattleRecord } | { drop: DropReason; detail: string; fields: string[] };

export function classifyBattle(item: BattleLogItem, includeNamed: boolean): Classified {
  if (item.kind === 'syntax_error') return { drop: 'invalid_json', detail: item.problem, fields: [] };
  const parsed = parseBattleRecord(item.value);
  if (!parsed.ok) return { drop: 'malformed', detail: parsed.problem, fields: parsed.fields };
  const record = parsed.record;
  if (record.modelA === record.modelB) return { drop: 'self_battle', detail: `${record.modelA} against itself`, fields: [] };
  if (!record.anony && !includeNamed) return { drop: 'named', detail: `${record.modelA} vs ${record.modelB} with names shown`, fields: [] };
  return { keep: record };
}

export interface DropExample {
  location: string;
  reason: DropReason;
  detail: string;
}

export interface DropReport {
  records_read: number;
  battles_used: number;
  dropped_total: number;
  dropped: Record<DropReason, number>;
  explanations: Record<DropReason, string>;
  /** Malformed records by the field at fault (a record may count under several fields). */
  malformed_fields: Record<string, number>;
  examples: DropExample[];
}

const MAX_EXAMPLES = 20;

/** Accumulates the drop report while records stream by. */
export class DropCounter {
  private readonly report: DropReport = {
    records_read: 0,
    battles_used: 0,
    dropped_total: 0,
    dropped: { invalid_json: 0, malformed: 0, named: 0, self_battle: 0 },
    explanations: DROP_EXPLANATIONS,
    malformed_fields: {},
    examples: [],
  };

  get recordsRead(): number {
    return this.report.records_read;
  }

  count(location: string, classified: Classified): void {
    this.report.records_read++;
    if ('keep' in classified) {
      this.report.battles_used++;
      return;
    }
    this.report.dropped_total++;
    this.report.dropped[classified.drop]++;
    for (const field of classified.fields) this.report.malformed_fields[field] = (this.report.malformed_fields[field] ?? 0) + 1;
    const wantsExample = classified.drop === 'malformed' || classified.drop === 'invalid_json' || classified.drop === 'self_battle';
    if (wantsExample && this.report.examples.length < MAX_EXAMPLES) {
      this.report.examples.push({ location, reason: classified.drop, detail: classified.detail });
    }
  }

  result(): DropReport {
    return structuredClone(this.report);
  }
}
