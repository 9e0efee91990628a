/**
 * The batch path on conversations beyond the golden fixture: FastChat's odd behaviours, with expected prompts
 * worked out by hand from fastchat/conversation.py's get_prompt(), and malformed records.
 */
import { renderFastChatRecord, renderFastChatRecords } from '../../src/chat';

function prompt(template: string, messages: [string, string | null][], system_message?: string): string | null {
  const result = renderFastChatRecord({ template, system_message, messages });
  expect(result.error).toBeNull();
  return result.prompt;
}

describe('FastChat get_prompt() behaviours through the batch path', () => {
  it('yuan2 strips every trailing <, n and > — also from the message itself', () => {
    expect(prompt('yuan2', [['user', 'Close it'], ['assistant', 'Open'], ['user', 'Fine'], ['assistant', null]])).toBe('Close it<n>Open<n>Fine<sep>');
    expect(prompt('yuan2', [['user', 'Turn on'], ['assistant', null]])).toBe('Turn o<sep>');
  });

  it('cllm renders only the last two messages', () => {
    const messages: [string, string | null][] = [['USER', 'a'], ['ASSISTANT', 'b'], ['USER', 'c'], ['ASSISTANT', 'd'], ['USER', 'e'], ['ASSISTANT', null]];
    expect(prompt('cllm', messages, 'S')).toBe('S USER: e ASSISTANT:');
  });

  it('rwkv normalises CRLF and collapses blank lines once, left to right', () => {
    expect(prompt('rwkv', [['Bob', 'line1\r\nline2\n\n\nline3'], ['Alice', null]], '')).toBe('Bob: line1\nline2\n\nline3\n\nAlice:');
  });

  it("llama-3 strips messages with Python's notion of whitespace", () => {
    const header = (role: string): string => `<|start_header_id|>${role}<|end_header_id|>\n\n`;
    expect(prompt('llama-3', [['user', '  hi \n'], ['assistant', null]])).toBe(`<|begin_of_text|>${header('user')}hi<|eot_id|>${header('assistant')}`);
    // Python strips \x1c (a separator) but not \ufeff (BOM); JavaScript's trim() does the opposite.
    expect(prompt('llama-3', [['user', '\ufeffhi\x1c'], ['assistant', null]])).toBe(`<|begin_of_text|>${header('user')}\ufeffhi<|eot_id|>${header('assistant')}`);
  });

  it('an empty message renders like an open slot', () => {
    const messages: [string, string | null][] = [['USER', 'a'], ['ASSISTANT', ''], ['USER', 'b'], ['ASSISTANT', null]];
    expect(prompt('vicuna_v1.1', messages, 'S')).toBe('S USER: a ASSISTANT:USER: b ASSISTANT:');
  });

  it('chatglm counts rounds from 0 (chatglm2 from 1)', () => {
    const messages: [string, string | null][] = [['问', 'a'], ['答', 'b'], ['问', 'c'], ['答', null]];
    expect(prompt('chatglm', messages, '')).toBe('[Round 0]\n问：a\n答：b\n[Round 1]\n问：c\n答：');
  });

  it('keeps a custom system message verbatim, braces included', () => {
    expect(prompt('llama-2', [['[INST]', 'Hi'], ['[/INST]', null]], 'Use {x} and {{y}}')).toBe('[INST] <<SYS>>\nUse {x} and {{y}}\n<</SYS>>\n\nHi [/INST]');
  });
});

describe('malformed batches', () => {
  it('answers every record in order, with the error where one is bad', () => {
    const results = renderFastChatRecords([
      { template: 'nope', messages: [] },
      { template: 'vicuna_v1.1', messages: [['USER', 'x'], ['ASSISTANT']] },
      'not a record',
      { template: 'raw', messages: [['', 'just text'], ['', null]] },
    ]);
    expect(results.map((r) => r.error)).toEqual([
      "KeyError: 'nope'",
      'invalid record: messages[1] must be a [role, text|null] pair',
      'invalid record: record must be an object',
      null,
    ]);
    expect(results[3].prompt).toBe('just text');
  });

  it('rejects a batch that is not an array', () => {
    expect(() => renderFastChatRecords({ template: 'raw' })).toThrow(expect.objectContaining({ kind: 'invalid_request' }));
  });
});
