/** The browser's SSE parser (src/gateway/ui/client/sse.ts) on the gateway's stream, cut at every possible place. */
import { SseParser } from '../../src/gateway/ui/client/sse';

const stream = 'data: {"a":1}\n\ndata: {"b":"x\\ny"}\n\n: a comment\n\ndata: [DONE]\n\n';

describe('SseParser', () => {
  it('returns the data of each event, ignoring comments', () => {
    expect(new SseParser().push(stream)).toEqual(['{"a":1}', '{"b":"x\\ny"}', '[DONE]']);
  });

  it('gives the same events however the text is split into chunks', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      for (const second of [cut, Math.min(stream.length, cut + 3)]) {
        const p = new SseParser();
        const events = [...p.push(stream.slice(0, cut)), ...p.push(stream.slice(cut, second)), ...p.push(stream.slice(second)), ...p.finish()];
        expect(events).toEqual(['{"a":1}', '{"b":"x\\ny"}', '[DONE]']);
      }
    }
  });

  it('accepts CRLF line ends split between chunks, multi-line data and a last event without a blank line', () => {
    const p = new SseParser();
    expect([...p.push('data: one\r'), ...p.push('\n\r\ndata: two\ndata: lines\r\n\r\ndata: tail')]).toEqual(['one', 'two\nlines']);
    expect(p.finish()).toEqual(['tail']);
    expect(p.finish()).toEqual([]);
  });
});
