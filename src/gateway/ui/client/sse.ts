/**
 * Server-sent events as the gateway sends them (`data: <json>\n\n`, finally `data: [DONE]`), parsed from text
 * chunks that may split anywhere. Pure (no DOM), so it is unit-tested under Node.
 */
export class SseParser {
  private buffer = '';

  /** Feeds decoded text; returns the `data` payloads of every event completed by it. */
  push(text: string): string[] {
    this.buffer = (this.buffer + text).replace(/\r\n/g, '\n');
    const events: string[] = [];
    let end = this.buffer.indexOf('\n\n');
    while (end >= 0) {
      const data = dataOf(this.buffer.slice(0, end));
      if (data !== undefined) events.push(data);
      this.buffer = this.buffer.slice(end + 2);
      end = this.buffer.indexOf('\n\n');
    }
    return events;
  }

  /** The payload of a last event not followed by a blank line, if any. */
  finish(): string[] {
    const data = dataOf(this.buffer);
    this.buffer = '';
    return data === undefined ? [] : [data];
  }
}

/** Joins the `data:` lines of one event (comments and other fields are ignored). */
function dataOf(block: string): string | undefined {
  const lines = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(l.startsWith('data: ') ? 6 : 5));
  return lines.length === 0 ? undefined : lines.join('\n');
}
