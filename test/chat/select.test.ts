/**
 * Template selection: FastChat's adapter rules in FastChat's order (basename first, then the full path), the
 * explicit override, the tokenizer's chat_template for models FastChat does not know, and the one_shot default.
 */
import { matchModelAdapter, parseChatTokenizerInfo, selectTemplate } from '../../src/chat';

const withChatTemplate = parseChatTokenizerInfo({ tokenizerConfig: { chat_template: '{{ messages[0].content }}', eos_token: '</s>' } });

describe('FastChat model adapters', () => {
  it.each([
    ['lmsys/vicuna-7b-v1.5', 'VicunaAdapter', 'vicuna_v1.1'],
    ['lmsys/vicuna-7b-v0', 'VicunaAdapter', 'one_shot'],
    ['CarperAI/stable-vicuna-13b-delta', 'StableVicunaAdapter', 'stable-vicuna'],
    ['meta-llama/Llama-2-7b-chat-hf', 'Llama2Adapter', 'llama-2'],
    ['meta-llama/Meta-Llama-3-8B-Instruct', 'Llama3Adapter', 'llama-3'],
    ['meta-llama/Llama-3.1-8B-Instruct', 'Llama31Adapter', 'meta-llama-3.1'],
    ['llama-3.1-8b-instruct', 'Llama31Adapter', 'meta-llama-3.1-sp'],
    ['mistralai/Mixtral-8x7B-Instruct-v0.1', 'MistralAdapter', 'mistral'],
    ['teknium/OpenHermes-2.5-Mistral-7B', 'Hermes2Adapter', 'OpenHermes-2.5-Mistral-7B'],
    ['Open-Orca/Mistral-7B-OpenOrca', 'OpenOrcaAdapter', 'mistral-7b-openorca'],
    ['Qwen/Qwen2.5-7B-Instruct', 'QwenChatAdapter', 'qwen-7b-chat'],
    ['THUDM/chatglm2-6b', 'ChatGLMAdapter', 'chatglm2'],
    ['gemini-1.5-pro-002', 'GeminiAdapter', 'gemini-1.5-pro'],
    ['google/gemma-2b-it', 'GemmaAdapter', 'gemma'],
    ['mosaicml/mpt-30b-chat', 'MPTAdapter', 'mpt-30b-chat'],
    ['jondurbin/airoboros-l2-70b-3.1', 'AiroborosAdapter', 'airoboros_v3'],
    ['BAAI/AquilaChat2-34B', 'AquilaChatAdapter', 'aquila-legacy'],
    ['gpt-4o-2024-08-06', 'ChatGPTAdapter', 'gpt-mini'],
    ['claude-3-opus-20240229', 'ClaudeAdapter', 'claude-3-opus-20240229'],
    ['cllm/consistency-llm-7b-sharegpt48k', 'CllmAdapter', 'cllm'],
    ['IEITYuan/Yuan2-2B-Janus-hf', 'Yuan2Adapter', 'yuan2'],
    ['xai/grok-2-mini', 'GrokAdapter', 'grok-2-mini'],
  ])('%s → %s → %s', (path, adapter, template) => {
    expect(matchModelAdapter(path)).toEqual({ adapter, template });
  });

  it('tries the basename before the full path', () => {
    // The directory says mistral, the model itself is koala: FastChat picks Koala from the basename.
    expect(matchModelAdapter('/data/mistral-runs/koala-13b/')?.adapter).toBe('KoalaAdapter');
    // Nothing in the basename: the full path decides.
    expect(matchModelAdapter('/models/vicuna/checkpoint-1000')).toEqual({ adapter: 'VicunaAdapter', template: 'vicuna_v1.1' });
  });

  it('is null when only the base adapter would match', () => {
    expect(matchModelAdapter('HuggingFaceTB/SmolLM2-135M-Instruct')).toBeNull();
    expect(matchModelAdapter('meta-llama/Llama-3.2-1B-Instruct')).toBeNull();
  });
});

describe('selectTemplate priority', () => {
  it('1. an explicit override wins over everything', () => {
    const s = selectTemplate({ modelPath: 'lmsys/vicuna-7b-v1.5', override: 'alpaca', tokenizerConfig: withChatTemplate });
    expect(s).toMatchObject({ kind: 'fastchat', templateName: 'alpaca', source: 'override' });
    expect(selectTemplate({ modelPath: 'lmsys/vicuna-7b-v1.5', override: 'jinja', tokenizerConfig: withChatTemplate })).toMatchObject({
      kind: 'jinja',
      source: 'override',
    });
  });

  it('2. a FastChat adapter beats the chat_template', () => {
    const s = selectTemplate({ modelPath: '/models/vicuna-7b', tokenizerConfig: withChatTemplate });
    expect(s).toMatchObject({ kind: 'fastchat', templateName: 'vicuna_v1.1', source: 'adapter' });
    expect(s.reason).toContain('VicunaAdapter');
  });

  it('2. served model names are tried after the path, and a PEFT adapter by its base model first', () => {
    expect(selectTemplate({ modelPath: '/models/m1', modelNames: ['zephyr-7b'] })).toMatchObject({ templateName: 'zephyr' });
    expect(selectTemplate({ modelPath: '/adapters/my-lora', peftBaseModel: 'meta-llama/Llama-2-7b-hf' })).toMatchObject({ templateName: 'llama-2' });
  });

  it("3. the tokenizer's chat_template when no adapter matches", () => {
    expect(selectTemplate({ modelPath: '/models/SmolLM2-135M-Instruct', tokenizerConfig: withChatTemplate })).toMatchObject({
      kind: 'jinja',
      templateName: 'jinja',
      source: 'chat_template',
    });
  });

  it('4. one_shot when there is neither', () => {
    expect(selectTemplate({ modelPath: '/models/SmolLM2-135M-Instruct' })).toMatchObject({ templateName: 'one_shot', source: 'default' });
  });

  it('rejects what cannot render, at selection time', () => {
    expect(() => selectTemplate({ override: 'no-such-template' })).toThrow(expect.objectContaining({ kind: 'not_found', code: 'template_not_found' }));
    expect(() => selectTemplate({ override: 'jinja' })).toThrow(expect.objectContaining({ kind: 'invalid_request', message: expect.stringContaining('chat_template') }));
    expect(() => selectTemplate({ override: 'yandexgpt' })).toThrow(expect.objectContaining({ kind: 'invalid_request', message: expect.stringContaining('Invalid style: None') }));
    const broken = parseChatTokenizerInfo({ tokenizerConfig: { chat_template: '{% for m in messages %}' } });
    expect(() => selectTemplate({ override: 'jinja', tokenizerConfig: broken })).toThrow(expect.objectContaining({ kind: 'internal' }));
  });
});
