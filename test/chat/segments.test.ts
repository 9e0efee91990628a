/**
 * Training segments: for every FastChat template the segments concatenate to the prompt exactly, and only
 * assistant replies (with their closing separator) are trainable. Expected cuts worked out from FastChat's
 * get_prompt() and train.py (which unmasks the reply and its end separator).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getConvTemplate, getPrompt, getPromptSegments, listConvTemplates, newConversation, type PromptSegment, renderChat, renderSegments, selectTemplate } from '../../src/chat';

interface GoldenRecord {
  template: string;
  system_message: string;
  messages: [string, string | null][];
  prompt: string | null;
}

const golden: GoldenRecord[] = JSON.parse(readFileSync(join(__dirname, '../fixtures/golden/conv_golden.json'), 'utf8'));
const renderable = listConvTemplates().filter((t) => t.sepStyle !== null);
const joined = (segments: PromptSegment[]): string => segments.map((s) => s.text).join('');
const trainable = (segments: PromptSegment[]): string[] => segments.filter((s) => s.trainable).map((s) => s.text);

const conversation = [
  { role: 'system', content: 'Be terse.' },
  { role: 'user', content: 'What is 2+2?' },
  { role: 'assistant', content: 'Four.' },
  { role: 'user', content: 'And 3+3?' },
  { role: 'assistant', content: 'Six.' },
];

describe('segments of every FastChat template', () => {
  it('cover 101 renderable templates', () => {
    expect(renderable).toHaveLength(101);
  });

  it.each(golden.filter((r) => r.prompt !== null).map((r, i) => [`${r.template} #${i}`, r] as const))(
    'concatenate to the golden prompt: %s',
    (_label, record) => {
      const template = renderable.find((t) => t.name === record.template)!;
      const conv = newConversation(template, { systemMessage: record.system_message, messages: record.messages });
      expect(joined(getPromptSegments(conv))).toBe(record.prompt);
    },
  );

  it.each(renderable.map((t) => [t.name] as const))('%s: segments = prompt, only assistant replies trainable', (name) => {
    const selection = selectTemplate({ override: name });
    for (const addGenerationPrompt of [false, true]) {
      const messages = addGenerationPrompt ? conversation.slice(0, 4) : conversation;
      const segments = renderSegments(selection, { messages, addGenerationPrompt });
      expect(joined(segments)).toBe(renderChat(selection, { messages, addGenerationPrompt }).text);
      expect(segments.every((s) => !s.trainable || s.role === 'assistant')).toBe(true);
      const train = trainable(segments).join('');
      expect(train).not.toContain('2+2');
      expect(train).not.toContain('3+3');
      expect(train).not.toContain('terse');
      // The open slot (or, where it renders empty, the last user turn) ends the prompt and is never trained.
      if (addGenerationPrompt) expect(segments[segments.length - 1].trainable).toBe(false);
    }
    const finished = trainable(renderSegments(selection, { messages: conversation })).join('');
    expect(finished).toContain('Six.');
    if (name !== 'cllm') expect(finished).toContain('Four.'); // cllm renders only the last two messages
  });
});

describe('where the cuts are', () => {
  const cut = (template: string, systemMessage?: string): Array<[string, string, boolean]> =>
    renderSegments(selectTemplate({ override: template }), { messages: conversation.slice(1), systemMessage }).map((s) => [s.role, s.text, s.trainable]);

  it('vicuna_v1.1: "ASSISTANT: " is prompt, the reply and </s> are trained', () => {
    expect(cut('vicuna_v1.1', 'S')).toEqual([
      ['system', 'S ', false],
      ['user', 'USER: What is 2+2? ', false],
      ['assistant', 'ASSISTANT: ', false],
      ['assistant', 'Four.</s>', true],
      ['user', 'USER: And 3+3? ', false],
      ['assistant', 'ASSISTANT: ', false],
      ['assistant', 'Six.</s>', true],
    ]);
  });

  it('llama-2: the first user message has no tag, replies end with " </s><s>"', () => {
    expect(cut('llama-2', 'S')).toEqual([
      ['system', '[INST] <<SYS>>\nS\n<</SYS>>\n\n', false],
      ['user', 'What is 2+2? ', false],
      ['assistant', '[/INST] ', false],
      ['assistant', 'Four. </s><s>', true],
      ['user', '[INST] And 3+3? ', false],
      ['assistant', '[/INST] ', false],
      ['assistant', 'Six. </s><s>', true],
    ]);
  });

  it('qwen-7b-chat (ChatML): <|im_end|>\\n closes a trained reply', () => {
    expect(cut('qwen-7b-chat')).toEqual([
      ['system', '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n', false],
      ['user', '<|im_start|>user\nWhat is 2+2?<|im_end|>\n', false],
      ['assistant', '<|im_start|>assistant\n', false],
      ['assistant', 'Four.<|im_end|>\n', true],
      ['user', '<|im_start|>user\nAnd 3+3?<|im_end|>\n', false],
      ['assistant', '<|im_start|>assistant\n', false],
      ['assistant', 'Six.<|im_end|>\n', true],
    ]);
  });

  it("one_shot: the template's own example reply is never trained", () => {
    const segments = renderSegments(selectTemplate({ override: 'one_shot' }), { messages: conversation.slice(1) });
    expect(trainable(segments)).toEqual(['Four.\n### ', 'Six.\n### ']);
    const examplesOnly = getPromptSegments(newConversation(getConvTemplate('one_shot')));
    expect(trainable(examplesOnly)).toEqual([]);
    expect(joined(examplesOnly)).toBe(getPrompt(newConversation(getConvTemplate('one_shot'))));
  });
});
