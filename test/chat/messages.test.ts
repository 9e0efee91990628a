/**
 * OpenAI-style messages → prompt: what FastChat templates can express renders like FastChat's OpenAI server,
 * everything else is a clear FleetError('invalid_request') naming the field.
 */
import { FleetError } from '../../src/common/errors';
import { parseChatTokenizerInfo, renderChat, selectTemplate } from '../../src/chat';

const vicuna = selectTemplate({ override: 'vicuna_v1.1' });
const jinja = selectTemplate({
  override: 'jinja',
  tokenizerConfig: parseChatTokenizerInfo({ tokenizerConfig: { chat_template: '{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}' } }),
});

function errorOf(render: () => unknown): FleetError {
  try {
    render();
  } catch (err) {
    if (err instanceof FleetError) return err;
    throw err;
  }
  throw new Error('expected an error');
}

describe('rendering OpenAI messages with a FastChat template', () => {
  it('joins leading system messages and text parts with newlines, then opens the assistant turn', () => {
    const rendered = renderChat(vicuna, {
      messages: [
        { role: 'system', content: 'S1' },
        { role: 'system', content: [{ type: 'text', text: 'S2' }] },
        { role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] },
      ],
    });
    expect(rendered).toMatchObject({ text: 'S1\nS2 USER: a\nb ASSISTANT:', stop: [], templateName: 'vicuna_v1.1' });
  });

  it('keeps the template system message unless one is given, and the few-shot examples of one_shot', () => {
    const oneShot = renderChat(selectTemplate({ override: 'one_shot' }), { messages: [{ role: 'user', content: 'hi' }] });
    expect(oneShot.text.startsWith('A chat between a curious human')).toBe(true);
    expect(oneShot.text).toContain('\n### Human: Got any creative ideas');
    expect(oneShot.text.endsWith('\n### Human: hi\n### Assistant:')).toBe(true);
    expect(oneShot.stop).toEqual(['###']);
    expect(renderChat(vicuna, { messages: [{ role: 'user', content: 'hi' }], systemMessage: 'Be brief.' }).text).toBe('Be brief. USER: hi ASSISTANT:');
  });

  it('renders a finished conversation without the open slot', () => {
    const rendered = renderChat(vicuna, {
      messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }],
      addGenerationPrompt: false,
      systemMessage: 'S',
    });
    expect(rendered.text).toBe('S USER: q ASSISTANT: a</s>');
  });

  it.each([
    ['an empty list', [], 'at least one message'],
    ['two assistant turns in a row', [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }, { role: 'assistant', content: 'b' }], 'messages[2]: two assistant messages in a row'],
    ['two user turns in a row', [{ role: 'user', content: 'q' }, { role: 'user', content: 'r' }], 'messages[1]: two user messages in a row'],
    ['the assistant first', [{ role: 'system', content: 's' }, { role: 'assistant', content: 'a' }, { role: 'user', content: 'q' }], 'messages[1]: the conversation must start with a user message'],
    ['a system message mid-conversation', [{ role: 'user', content: 'q' }, { role: 'system', content: 's' }], 'messages[1]: a system message must come before'],
    ['only a system message', [{ role: 'system', content: 's' }], 'at least one user message'],
    ['an assistant turn last, with a generation prompt', [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }], 'nothing to generate'],
    ['an empty user message', [{ role: 'user', content: '' }], 'messages[0].content is empty'],
    ['a tool message', [{ role: 'user', content: 'q' }, { role: 'tool', content: 'r' }], "cannot express tool messages"],
  ])('rejects %s', (_label, messages, text) => {
    const err = errorOf(() => renderChat(vicuna, { messages }));
    expect(err).toMatchObject({ kind: 'invalid_request', param: 'messages' });
    expect(err.message).toContain(text);
  });

  it('rejects tools, which FastChat templates cannot express', () => {
    const err = errorOf(() => renderChat(vicuna, { messages: [{ role: 'user', content: 'q' }], tools: [{ type: 'function', function: { name: 'f' } }] }));
    expect(err).toMatchObject({ kind: 'invalid_request', param: 'tools' });
  });
});

describe('message shape, for every template kind', () => {
  it.each([
    ['a non-array', 'hello', 'messages must be an array'],
    ['an unknown role', [{ role: 'bot', content: 'x' }], 'messages[0].role must be one of system, user, assistant, tool'],
    ['an image part', [{ role: 'user', content: [{ type: 'text', text: 'see' }, { type: 'image_url', image_url: { url: 'http://x/y.png' } }] }], "messages[0].content[1] has type 'image_url': only text content is supported"],
    ['an unknown part type', [{ role: 'user', content: [{ type: 'blob' }] }], "unsupported type 'blob'"],
    ['a number as content', [{ role: 'user', content: 42 }], 'messages[0].content must be a string or an array of text parts'],
    ['missing content', [{ role: 'user' }], 'messages[0].content is required'],
    ['tool calls on a user message', [{ role: 'user', content: 'x', tool_calls: [{ type: 'function', function: { name: 'f', arguments: '{}' } }] }], 'only assistant messages carry tool_calls'],
  ])('rejects %s', (_label, messages, text) => {
    for (const selection of [vicuna, jinja]) {
      const err = errorOf(() => renderChat(selection, { messages }));
      expect(err).toMatchObject({ kind: 'invalid_request' });
      // The param names the offending part, as the message does (`messages[0].content[1]`).
      expect(err.message.startsWith(err.param ?? '-')).toBe(true);
      expect(err.param).toMatch(/^messages/);
      expect(err.message).toContain(text);
    }
  });

  it('lets a Jinja template decide the role sequence', () => {
    const text = renderChat(jinja, { messages: [{ role: 'assistant', content: 'a' }, { role: 'assistant', content: 'b' }, { role: 'tool', content: 't' }] }).text;
    expect(text).toBe('<assistant>a<assistant>b<tool>t');
  });
});
