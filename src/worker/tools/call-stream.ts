/**
 * Turns a model's streamed output into content and OpenAI tool-call deltas, in the model's tool format. Text before a
 * call marker streams as content; a tail that may be the beginning of a marker is held back until the next piece
 * tells. Inside a section of calls each envelope is scanned as it arrives: the first delta of a call carries its id
 * and name (sent once the name is complete and is one of the offered functions), later ones pieces of the arguments
 * JSON. Text that turns out not to be a call (bad JSON, an unknown function, a missing name) is given back as
 * content — whatever was held for it, nothing is lost.
 */
import { EnvelopeScanner } from './envelope-scanner';
import type { ToolFormat } from './formats';

export interface ToolDelta {
  readonly index: number;
  readonly id: string;
  readonly name: string;
  readonly arguments: string;
}

export interface StreamOutput {
  content: string;
  calls: ToolDelta[];
}

type Mode = 'text' | 'section' | 'envelope';

const SEPARATORS = new Set([' ', '\t', '\n', '\r', ',', ';', '[', ']']);

export class ToolCallStream {
  private mode: Mode = 'text';
  /** Text not yet given out: in text mode a possible marker prefix; in a section what is not yet resolved. */
  private held = '';
  /** Raw text of the section since its last complete call (given back as content if the section fails). */
  private unresolved = '';
  private scanner: EnvelopeScanner | undefined;
  /** The current call: its index once announced, and arguments read before the name. */
  private current: { index: number; id: string; announced: boolean; earlyArgs: string; sawArgs: boolean; dropped: boolean } | undefined;
  private nextIndex = 0;
  private wroteContent = false;
  private reported = 0;

  /** `maxCalls`: calls after that many are read but not reported (parallel_tool_calls: false allows one). */
  constructor(
    private readonly format: ToolFormat,
    private readonly functions: ReadonlySet<string>,
    private readonly maxCalls = Number.POSITIVE_INFINITY,
  ) {}

  /** Calls announced so far. */
  get callCount(): number {
    return this.nextIndex;
  }

  push(text: string): StreamOutput {
    const out: StreamOutput = { content: '', calls: [] };
    this.held += text;
    this.run(out, false);
    return out;
  }

  /** The output ended: everything held is resolved (a call cut off mid-arguments stays as far as it got). */
  finish(): StreamOutput {
    const out: StreamOutput = { content: '', calls: [] };
    this.run(out, true);
    if (this.mode === 'section' && !this.sectionHadCall) this.addContent(out, this.unresolved);
    if (this.mode === 'envelope' && this.current && !this.current.announced) this.giveBack(out);
    else if (this.mode === 'envelope' && this.current && !this.current.sawArgs && !this.current.dropped) out.calls.push(this.delta('{}'));
    if (this.mode === 'text' || this.current === undefined) {
      out.content += this.held;
      this.held = '';
    }
    this.markContent(out);
    return out;
  }

  private run(out: StreamOutput, final: boolean): void {
    for (let guard = 0; guard < 1_000_000; guard++) {
      const progressed = this.mode === 'text' ? this.text(out, final) : this.mode === 'section' ? this.section(out, final) : this.envelope(out);
      if (!progressed) break;
    }
    this.markContent(out);
  }

  private markContent(out: StreamOutput): void {
    if (out.content.trim() !== '') this.wroteContent = true;
  }

  private text(out: StreamOutput, final: boolean): boolean {
    const held = this.held;
    if (held === '') return false;
    if (this.format.jsonAtStart && !this.wroteContent && this.nextIndex === 0) {
      const lead = held.trimStart();
      if (lead === '' && !final) return false;
      if (lead.startsWith('{')) {
        this.enterSection(held.length - lead.length, 0);
        return true;
      }
    }
    let at = -1;
    let marker = '';
    for (const m of this.format.startMarkers) {
      const i = held.indexOf(m);
      if (i >= 0 && (at < 0 || i < at)) {
        at = i;
        marker = m;
      }
    }
    if (at >= 0) {
      const before = held.slice(0, at);
      if (this.nextIndex === 0 || before.trim() !== '') out.content += before;
      this.held = held.slice(at);
      this.enterSection(0, marker.length);
      return true;
    }
    let keep = final ? 0 : this.markerPrefixLength(held, this.format.startMarkers);
    // After calls, blank text between or after them is not content (it is dropped at the end).
    if (this.nextIndex > 0) {
      const blank = held.length - held.trimEnd().length;
      if (final && blank === held.length) keep = held.length;
      else if (!final) keep = Math.max(keep, blank);
      if (!final && held.slice(0, held.length - keep).trim() === '') keep = held.length;
    }
    out.content += held.slice(0, held.length - keep);
    this.held = held.slice(held.length - keep);
    if (final && keep > 0) {
      this.held = '';
      return false;
    }
    if (out.content.trim() !== '') this.wroteContent = true;
    return false;
  }

  /** Starts a section: `skip` characters of held are content (blank), then `marker` characters are the marker. */
  private enterSection(skip: number, marker: number): void {
    this.unresolved = this.held.slice(skip, skip + marker);
    this.held = this.held.slice(skip + marker);
    this.mode = 'section';
    this.sectionCalls = 0;
  }

  private section(out: StreamOutput, final: boolean): boolean {
    let i = 0;
    const held = this.held;
    while (i < held.length && SEPARATORS.has(held[i])) i++;
    this.unresolved += held.slice(0, i);
    this.held = held.slice(i);
    if (this.held === '') return false;
    if (this.held[0] === '{') {
      this.unresolved += '{';
      this.held = this.held.slice(1);
      this.scanner = new EnvelopeScanner(this.format.argumentKeys);
      this.current = { index: -1, id: '', announced: false, earlyArgs: '', sawArgs: false, dropped: false };
      this.mode = 'envelope';
      return true;
    }
    const end = this.format.endMarker;
    if (end !== undefined) {
      if (this.held.startsWith(end)) {
        this.held = this.held.slice(end.length);
        this.unresolved = '';
        this.mode = 'text';
        return true;
      }
      if (!final && end.startsWith(this.held)) return false;
    }
    // Text that is not a call: the section is over (a section that produced no call is given back as content).
    if (!this.sectionHadCall) this.addContent(out, this.unresolved);
    this.unresolved = '';
    this.mode = 'text';
    return true;
  }

  private get sectionHadCall(): boolean {
    return this.sectionCalls > 0;
  }

  private sectionCalls = 0;

  private envelope(out: StreamOutput): boolean {
    const scanner = this.scanner;
    const call = this.current;
    if (!scanner || !call || this.held === '') return false;
    const { events, consumed } = scanner.feed(this.held);
    const read = this.held.slice(0, consumed);
    this.held = this.held.slice(consumed);
    if (!call.announced) this.unresolved += read;
    for (const e of events) {
      if (e.type === 'name') {
        if (!this.functions.has(e.name)) {
          this.giveBack(out);
          return true;
        }
        call.announced = true;
        this.sectionCalls += 1;
        if (this.reported >= this.maxCalls) call.dropped = true;
        else {
          this.reported += 1;
          call.index = this.nextIndex++;
          call.id = this.format.newId();
          out.calls.push({ index: call.index, id: call.id, name: e.name, arguments: call.earlyArgs });
        }
        call.earlyArgs = '';
      } else if (e.type === 'args') {
        call.sawArgs = true;
        if (call.announced && !call.dropped) out.calls.push(this.delta(e.text));
        else if (!call.announced) call.earlyArgs += e.text;
      } else if (e.type === 'end') {
        if (!call.sawArgs && !call.dropped) out.calls.push(this.delta('{}'));
        this.endEnvelope();
        return true;
      } else {
        if (!call.announced) {
          this.giveBack(out);
          return true;
        }
        // A call already announced whose JSON broke off: it ends here; the rest is not parsed as calls.
        this.endEnvelope();
        this.mode = 'text';
        return true;
      }
    }
    return this.held !== '' && scanner.finished;
  }

  private delta(args: string): ToolDelta {
    const call = this.current;
    return { index: call?.index ?? 0, id: '', name: '', arguments: args };
  }

  private endEnvelope(): void {
    this.scanner = undefined;
    this.current = undefined;
    this.unresolved = '';
    this.mode = 'section';
  }

  /** The current section is not calls after all: what was held for it becomes content. */
  private giveBack(out: StreamOutput): void {
    this.addContent(out, this.unresolved);
    this.unresolved = '';
    this.scanner = undefined;
    this.current = undefined;
    this.mode = 'text';
    // The text after the failure point is plain text again (a later marker may still open a section).
  }

  private addContent(out: StreamOutput, text: string): void {
    out.content += text;
    if (text.trim() !== '') this.wroteContent = true;
  }

  private markerPrefixLength(text: string, markers: readonly string[]): number {
    let best = 0;
    for (const m of markers) {
      for (let n = Math.min(m.length - 1, text.length); n > best; n--) {
        if (text.endsWith(m.slice(0, n))) {
          best = n;
          break;
        }
      }
    }
    return best;
  }
}
