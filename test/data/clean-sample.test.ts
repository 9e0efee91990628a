import { cleanConversation, type CleanOptions } from '../../src/jobs/data/clean/clean-sample';

const options: CleanOptions = { blockedWords: ['openai', 'chatgpt'], minChars: 16, maxHtmlChars: 1_000_000, maxHtmlDepth: 256, maxMarkdownChars: 10_000_000 };
const t = (from: string, value: string) => ({ from, value });

describe('cleanConversation (FastChat clean_html_one_sample rules)', () => {
  it('keeps a valid conversation with markdown values and only from/value', () => {
    const out = cleanConversation([{ ...t('human', 'What is 2+2?'), extra: 1 }, t('gpt', '<p>It is <b>4</b>.</p>')], options);
    expect(out).toEqual({ kind: 'kept', conversations: [t('human', 'What is 2+2?'), t('gpt', 'It is **4**.')], changes: [] });
  });

  it('drops conversations with fewer than two turns', () => {
    expect(cleanConversation([t('human', 'hello there, anyone?')], options)).toMatchObject({ kind: 'dropped', reason: 'too_short' });
    expect(cleanConversation([t('gpt', 'hi'), t('human', 'x')], options)).toMatchObject({ kind: 'dropped', reason: 'too_short' });
  });

  it('removes a leading non-human turn and a trailing human turn, and reports both', () => {
    const out = cleanConversation([t('system', 'be nice'), t('human', 'Tell me a joke please'), t('gpt', 'Knock knock.'), t('human', 'who is there?')], options);
    expect(out).toMatchObject({ kind: 'kept', conversations: [t('human', 'Tell me a joke please'), t('gpt', 'Knock knock.')] });
    expect(out.kind === 'kept' && out.changes.map((c) => c.reason)).toEqual(['leading_non_human_removed', 'trailing_human_removed']);
  });

  it('drops conversations whose roles do not alternate', () => {
    expect(cleanConversation([t('human', 'a question here'), t('human', 'another one'), t('gpt', 'answer')], options))
      .toMatchObject({ kind: 'dropped', reason: 'wrong_format' });
    expect(cleanConversation([t('human', 'a question here'), t('assistant', 'answer to it')], options))
      .toMatchObject({ kind: 'dropped', reason: 'wrong_format' });
  });

  it('drops conversations mentioning a blocked word in any case', () => {
    expect(cleanConversation([t('human', 'Are you ChatGPT?'), t('gpt', 'I am a model.')], options))
      .toMatchObject({ kind: 'dropped', reason: 'blocked_words', detail: expect.stringContaining('chatgpt') });
    expect(cleanConversation([t('human', 'Are you ChatGPT?'), t('gpt', 'I am a model.')], { ...options, blockedWords: [] })).toMatchObject({ kind: 'kept' });
  });

  it('stops at the first turn that is empty after cleaning and keeps an even number of turns', () => {
    const out = cleanConversation([t('human', 'first question here'), t('gpt', 'first answer'), t('human', 'second?'), t('gpt', '<div><svg></svg></div>'), t('human', 'third'), t('gpt', 'x')], options);
    expect(out).toMatchObject({ kind: 'kept', conversations: [t('human', 'first question here'), t('gpt', 'first answer')] });
    expect(out.kind === 'kept' && out.changes.map((c) => c.reason)).toEqual(['truncated_at_empty_turn', 'odd_turn_removed']);
  });

  it('drops conversations shorter than the minimum after cleaning', () => {
    expect(cleanConversation([t('human', 'hi'), t('gpt', 'yo')], options)).toMatchObject({ kind: 'dropped', reason: 'too_short' });
    expect(cleanConversation([t('human', 'hi'), t('gpt', 'yo')], { ...options, minChars: 4 })).toMatchObject({ kind: 'kept' });
  });

  it('reports hostile HTML as a dropped conversation, not an exception', () => {
    expect(cleanConversation([t('human', 'question is long enough'), t('gpt', `${'<blockquote>'.repeat(2000)}deep`)], options))
      .toMatchObject({ kind: 'dropped', reason: 'html_too_deep' });
  });
});
