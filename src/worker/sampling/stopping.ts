/**
 * Stop-string matching on streamed text. Text that could still turn out to be the beginning of a stop
 * string is held back, so a partial stop string never reaches the client; once a stop string appears,
 * the text before it (plus the stop string when asked) is released and generation ends.
 */
export interface StopResult {
  /** Text safe to stream now. */
  emit: string;
  /** The stop string that ended generation, if one matched. */
  matched?: string;
}

export class StopStringMatcher {
  private pending = '';
  private readonly stops: string[];

  constructor(stops: string[], private readonly includeStop = false) {
    this.stops = stops.filter((s) => s.length > 0);
  }

  push(delta: string): StopResult {
    const buffer = this.pending + delta;
    if (this.stops.length === 0) {
      this.pending = '';
      return { emit: buffer };
    }
    const hit = this.earliestStop(buffer);
    if (hit) {
      this.pending = '';
      const end = hit.index + (this.includeStop ? hit.stop.length : 0);
      return { emit: buffer.slice(0, end), matched: hit.stop };
    }
    const hold = this.heldSuffixLength(buffer);
    this.pending = buffer.slice(buffer.length - hold);
    return { emit: buffer.slice(0, buffer.length - hold) };
  }

  /** Releases held text at the end of generation (no stop string followed it). */
  flush(): string {
    const rest = this.pending;
    this.pending = '';
    return rest;
  }

  private earliestStop(buffer: string): { index: number; stop: string } | undefined {
    let best: { index: number; stop: string } | undefined;
    for (const stop of this.stops) {
      const index = buffer.indexOf(stop);
      if (index >= 0 && (best === undefined || index < best.index || (index === best.index && stop.length > best.stop.length))) {
        best = { index, stop };
      }
    }
    return best;
  }

  /** Length of the longest suffix of `buffer` that is a proper prefix of some stop string. */
  private heldSuffixLength(buffer: string): number {
    let hold = 0;
    for (const stop of this.stops) {
      const max = Math.min(stop.length - 1, buffer.length);
      for (let len = max; len > hold; len--) {
        if (buffer.endsWith(stop.slice(0, len))) {
          hold = len;
          break;
        }
      }
    }
    return hold;
  }
}
