/**
 * FastChat's model adapters (fastchat/model/model_adapter.py), reduced to what picks a conversation template:
 * each adapter's `match(model_path)` rule and its `get_default_conv_template(model_path)` choice, in FastChat's
 * registration order (the first match wins). This file is long because it is a table: one entry per adapter.
 *
 * Not carried over: PeftModelAdapter (resolved by the caller from adapter_config.json, see selectTemplate) and
 * anything about loading weights.
 */

export interface ModelAdapterRule {
  /** FastChat's adapter class name. */
  readonly adapter: string;
  readonly match: (modelPath: string) => boolean;
  /** The template name for a model path (FastChat passes the full path, not the basename). */
  readonly template: (modelPath: string) => string;
}

const ANTHROPIC_MODELS = new Set([
  'claude-1', 'claude-2', 'claude-2.0', 'claude-2.1', 'claude-3-haiku-20240307', 'claude-3-haiku-20240307-vertex',
  'claude-3-sonnet-20240229', 'claude-3-sonnet-20240229-vertex', 'claude-3-5-sonnet-20240620', 'claude-3-opus-20240229',
  'claude-instant-1', 'claude-instant-1.2',
]);

const OPENAI_MODELS = new Set([
  'gpt-3.5-turbo', 'gpt-3.5-turbo-0301', 'gpt-3.5-turbo-0613', 'gpt-3.5-turbo-1106', 'gpt-3.5-turbo-0125', 'gpt-4',
  'gpt-4-0314', 'gpt-4-0613', 'gpt-4-turbo', 'gpt-4-1106-preview', 'gpt-4-0125-preview', 'gpt-4-turbo-browsing',
  'gpt-4-turbo-2024-04-09', 'gpt2-chatbot', 'im-also-a-good-gpt2-chatbot', 'im-a-good-gpt2-chatbot',
  'gpt-4o-mini-2024-07-18', 'gpt-4o-2024-05-13', 'gpt-4o-2024-08-06', 'chatgpt-4o-latest-20240903', 'chatgpt-4o-latest',
  'o1-preview', 'o1-mini',
]);

const lower = (p: string): string => p.toLowerCase();
const has = (...words: string[]) => (p: string): boolean => words.every((w) => lower(p).includes(w));
const hasAny = (...words: string[]) => (p: string): boolean => words.some((w) => lower(p).includes(w));
const fixed = (name: string) => (): string => name;
const rule = (adapter: string, match: (p: string) => boolean, template: (p: string) => string): ModelAdapterRule => ({ adapter, match, template });

/** FastChat's `remove_parent_directory_name`. */
function lastPathPart(modelPath: string): string {
  const trimmed = modelPath.endsWith('/') ? modelPath.slice(0, -1) : modelPath;
  return trimmed.split('/').pop() ?? '';
}

function firstWhere(p: string, choices: ReadonlyArray<readonly [string, string]>, fallback: string): string {
  return choices.find(([word]) => p.includes(word))?.[1] ?? fallback;
}

function airoborosTemplate(p: string): string {
  if (p.includes('-3.') || p.includes('-3p')) return 'airoboros_v3';
  if (p.includes('spicyboros') || /-(2\.[2-9]+)/.test(p)) return 'airoboros_v2';
  return 'airoboros_v1';
}

function chatglmTemplate(p: string): string {
  return firstWhere(lower(p), [['chatglm2', 'chatglm2'], ['chatglm3', 'chatglm3']], 'chatglm');
}

function mptTemplate(p: string): string {
  return firstWhere(lower(p), [['mpt-7b-chat', 'mpt-7b-chat'], ['mpt-30b-chat', 'mpt-30b-chat'], ['mpt-30b-instruct', 'mpt-30b-instruct']], 'zero_shot');
}

function chatgptTemplate(p: string): string {
  const turbo = 'gpt-4-turbo-2024-04-09';
  return firstWhere(p, [
    ['browsing', 'api_based_default'], ['gpt-4-turbo-2024-04-09', turbo], ['gpt2-chatbot', turbo], ['gpt-4o-2024-05-13', turbo],
    ['gpt-4o-2024-08-06', 'gpt-mini'], ['anonymous-chatbot', turbo], ['chatgpt-4o-latest', turbo], ['gpt-mini', 'gpt-mini'],
    ['gpt-4o-mini-2024-07-18', 'gpt-mini'], ['o1', 'api_based_default'],
  ], 'chatgpt');
}

function claudeTemplate(p: string): string {
  return firstWhere(p, [
    ['claude-3-haiku', 'claude-3-haiku-20240307'], ['claude-3-sonnet', 'claude-3-sonnet-20240229'],
    ['claude-3-5-sonnet', 'claude-3-5-sonnet-20240620-v2'], ['claude-3-opus', 'claude-3-opus-20240229'],
  ], 'claude');
}

function baichuanTemplate(p: string): string {
  if (!lower(p).includes('chat')) return 'zero_shot';
  return lower(p).includes('baichuan2') ? 'baichuan2-chat' : 'baichuan-chat';
}

function aquilaTemplate(p: string): string {
  const l = lower(p);
  if (!l.includes('aquilachat2')) return 'aquila-chat';
  if (l.includes('16k')) return 'aquila';
  return l.includes('34b') ? 'aquila-legacy' : 'aquila-v1';
}

function vigogneTemplate(p: string): string {
  const l = lower(p);
  if (!l.includes('chat')) return 'vigogne_instruct';
  return l.includes('vigostral') ? 'vigogne_chat_v3' : 'vigogne_chat_v2';
}

const LLAMA31_SP = new Set(['llama-3.1-8b-instruct', 'llama-3.1-70b-instruct', 'the-real-chatbot-v2']);

const gemma = rule('GemmaAdapter', has('gemma'), fixed('gemma'));

/** Every adapter in FastChat's registration order, BaseModelAdapter last. */
export const MODEL_ADAPTER_RULES: readonly ModelAdapterRule[] = [
  rule('StableVicunaAdapter', has('stable-vicuna'), fixed('stable-vicuna')),
  rule('VicunaAdapter', has('vicuna'), (p) => (lastPathPart(p).includes('v0') ? 'one_shot' : 'vicuna_v1.1')),
  rule('AiroborosAdapter', (p) => /airoboros|spicyboros/i.test(p), airoborosTemplate),
  rule('LongChatAdapter', has('longchat'), fixed('vicuna_v1.1')),
  rule('GoogleT5Adapter', hasAny('flan-', 'fastchat-t5', 'codet5p'), fixed('one_shot')),
  rule('KoalaAdapter', has('koala'), fixed('koala_v1')),
  rule('AlpacaAdapter', has('alpaca'), fixed('alpaca')),
  rule('ChatGLMAdapter', has('chatglm'), chatglmTemplate),
  rule('CodeGeexAdapter', has('codegeex'), fixed('codegeex')),
  rule('DollyV2Adapter', has('dolly-v2'), fixed('dolly_v2')),
  rule('OasstPythiaAdapter', has('oasst', 'pythia'), fixed('oasst_pythia')),
  rule('OasstLLaMAAdapter', (p) => has('openassistant-sft-7-llama-30b-hf')(p) || (has('oasst')(p) && !has('pythia')(p)), fixed('oasst_llama')),
  rule('OpenChat35Adapter', (p) => has('openchat', '3.5')(p) || has('starling-lm')(p), fixed('openchat_3.5')),
  rule('TenyxChatAdapter', has('tenyxchat'), fixed('tenyxchat')),
  rule('StableLMAdapter', has('stablelm'), fixed('stablelm')),
  rule('BaizeAdapter', has('baize'), fixed('baize')),
  rule('RwkvAdapter', has('rwkv-4'), fixed('rwkv')),
  rule('OpenBuddyAdapter', has('openbuddy'), fixed('openbuddy')),
  rule('PhoenixAdapter', has('phoenix'), fixed('phoenix')),
  rule('BardAdapter', (p) => p === 'bard', fixed('bard')),
  rule('PaLM2Adapter', (p) => p === 'palm-2', fixed('bard')),
  rule('GeminiAdapter', hasAny('gemini', 'bard'), (p) => (p.includes('gemini-1.5-pro') ? 'gemini-1.5-pro' : 'gemini')),
  gemma,
  rule('ChatGPTAdapter', (p) => OPENAI_MODELS.has(p), chatgptTemplate),
  rule('AzureOpenAIAdapter', (p) => p === 'azure-gpt-35-turbo' || p === 'azure-gpt-4', fixed('chatgpt')),
  rule('ClaudeAdapter', (p) => ANTHROPIC_MODELS.has(p), claudeTemplate),
  rule('MPTAdapter', (p) => has('mpt')(p) && !has('airoboros')(p), mptTemplate),
  rule('BiLLaAdapter', has('billa'), fixed('billa')),
  rule('RedPajamaINCITEAdapter', has('redpajama-incite'), fixed('redpajama-incite')),
  rule('H2OGPTAdapter', has('h2ogpt'), fixed('h2ogpt')),
  rule('RobinAdapter', has('robin'), fixed('Robin')),
  rule('SnoozyAdapter', has('gpt4all', 'snoozy'), fixed('snoozy')),
  rule('WizardLMAdapter', has('wizardlm'), (p) => (hasAny('13b', '30b', '70b')(p) ? 'vicuna_v1.1' : 'one_shot')),
  rule('ManticoreAdapter', has('manticore'), fixed('manticore')),
  rule('GuanacoAdapter', has('guanaco'), fixed('zero_shot')),
  rule('CamelAdapter', has('camel'), fixed('vicuna_v1.1')),
  rule('ChangGPTAdapter', has('polyglot', 'chang'), fixed('polyglot_changgpt')),
  rule('TuluAdapter', has('tulu'), fixed('tulu')),
  rule('FalconChatAdapter', has('falcon', 'chat'), fixed('falcon-chat')),
  rule('FalconAdapter', (p) => has('falcon')(p) && !has('chat')(p), fixed('falcon')),
  rule('TigerBotAdapter', has('tigerbot'), fixed('tigerbot')),
  rule('BaichuanAdapter', has('baichuan'), baichuanTemplate),
  rule('XGenAdapter', has('xgen'), fixed('xgen')),
  rule('PythiaAdapter', has('pythia'), fixed('one_shot')),
  rule('InternLMChatAdapter', has('internlm'), fixed('internlm-chat')),
  rule('StarChatAdapter', has('starchat'), fixed('starchat')),
  rule('Llama2Adapter', has('llama-2'), fixed('llama-2')),
  rule('CuteGPTAdapter', has('cutegpt'), fixed('cutegpt')),
  rule('OpenOrcaAdapter', has('openorca'), (p) => (has('mistral-7b-openorca')(p) ? 'mistral-7b-openorca' : 'open-orca')),
  rule('DolphinAdapter', has('dolphin', 'mistral'), fixed('dolphin-2.2.1-mistral-7b')),
  rule('Hermes2Adapter', hasAny('openhermes-2.5-mistral-7b', 'openhermes-2-mistral-7b'), fixed('OpenHermes-2.5-Mistral-7B')),
  rule('NousHermes2MixtralAdapter', hasAny('nous-hermes-2-mixtral-8x7b-dpo', 'nous-hermes-2-mixtral-8x7b-sft'), fixed('Nous-Hermes-2-Mixtral-8x7B-DPO')),
  rule('NousHermesAdapter', has('nous-hermes'), fixed('alpaca')),
  rule('MistralAdapter', hasAny('mistral', 'mixtral'), fixed('mistral')),
  rule('WizardCoderAdapter', has('wizardcoder'), fixed('alpaca')),
  rule('QwenChatAdapter', has('qwen'), fixed('qwen-7b-chat')),
  rule('AquilaChatAdapter', has('aquila'), aquilaTemplate),
  rule('BGEAdapter', has('bge'), fixed('one_shot')),
  rule('E5Adapter', has('e5-'), fixed('one_shot')),
  rule('Lamma2ChineseAdapter', has('llama2-chinese'), fixed('llama2-chinese')),
  rule('Lamma2ChineseAlpacaAdapter', has('chinese-alpaca'), fixed('chinese-alpaca2')),
  rule('VigogneAdapter', (p) => /vigogne|vigostral/i.test(p), vigogneTemplate),
  rule('OpenLLaMaOpenInstructAdapter', has('open-llama', 'open-instruct'), fixed('alpaca')),
  rule('ReaLMAdapter', (p) => p.includes('ReaLM'), fixed('ReaLM-7b-v1')),
  rule('PhindCodeLlamaAdapter', has('phind-codellama-'), fixed('phind')),
  rule('CodeLlamaAdapter', has('codellama'), fixed('llama-2')),
  rule('Llama2ChangAdapter', has('llama2-ko-chang'), fixed('polyglot_changgpt')),
  rule('ZephyrAdapter', has('zephyr'), fixed('zephyr')),
  rule('NotusAdapter', has('notus'), fixed('zephyr')),
  rule('CatPPTAdapter', has('catppt'), fixed('catppt')),
  rule('TinyLlamaAdapter', has('tinyllama'), fixed('TinyLlama')),
  rule('XwinLMAdapter', has('xwin-lm'), fixed('vicuna_v1.1')),
  rule('LemurAdapter', has('lemur-70b-chat'), fixed('lemur-70b-chat')),
  rule('PygmalionAdapter', (p) => /pygmalion|mythalion|metharme/i.test(p), fixed('metharme')),
  rule('MicrosoftOrcaAdapter', has('orca-2'), fixed('orca-2')),
  rule('XdanAdapter', has('xdan', 'v1'), fixed('xdan-v1')),
  rule('YiAdapter', has('yi-', 'chat'), fixed('Yi-34b-chat')),
  rule('PplxAIAdapter', (p) => p === 'pplx-7b-online' || p === 'pplx-70b-online', fixed('pplxai')),
  rule('DeepseekCoderAdapter', has('deepseek-coder'), fixed('deepseek-coder')),
  rule('DeepseekChatAdapter', has('deepseek-llm', 'chat'), fixed('deepseek-chat')),
  rule('Yuan2Adapter', has('yuan2'), fixed('yuan2')),
  rule('MetaMathAdapter', has('metamath'), fixed('metamath')),
  rule('BagelAdapter', has('bagel'), fixed('airoboros_v3')),
  rule('SolarAdapter', has('solar-', 'instruct'), fixed('solar')),
  rule('SteerLMAdapter', has('steerlm-chat'), fixed('steerlm')),
  rule('LlavaAdapter', has('llava'), (p) => (has('34b')(p) ? 'llava-chatml' : 'vicuna_v1.1')),
  rule('YuanAdapter', has('yuan'), fixed('yuan')),
  rule('OlmoAdapter', has('olmo'), fixed('api_based_default')),
  rule('CohereAdapter', (p) => p === 'command-r', fixed('api_based_default')),
  rule('DBRXAdapter', (p) => p === 'dbrx-instruct', fixed('api_based_default')),
  gemma,
  rule('YandexGPTAdapter', has('yandexgpt'), fixed('yandexgpt')),
  rule('CllmAdapter', has('consistency-llm'), fixed('cllm')),
  rule('RekaAdapter', has('reka'), fixed('api_based_default')),
  rule('SmaugChatAdapter', has('smaug'), fixed('qwen-7b-chat')),
  rule('Llama3Adapter', has('llama-3-'), fixed('llama-3')),
  rule('Llama31Adapter', has('llama-3.1'), (p) => (LLAMA31_SP.has(lower(p)) ? 'meta-llama-3.1-sp' : 'meta-llama-3.1')),
  rule('GrokAdapter', has('grok'), (p) => (has('mini')(p) ? 'grok-2-mini' : 'grok-2')),
  rule('NoSystemAdapter', (p) => lower(p) === 'athene-70b' || lower(p) === 'p2l', fixed('api_based_default')),
];

/** FastChat's fallback when no adapter matches. */
export const BASE_ADAPTER: ModelAdapterRule = rule('BaseModelAdapter', () => true, fixed('one_shot'));

/** Python's `os.path.basename(os.path.normpath(path))` for POSIX paths. */
export function modelBasename(modelPath: string): string {
  const parts: string[] = [];
  for (const part of modelPath.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..' && parts.length > 0 && parts[parts.length - 1] !== '..') parts.pop();
    else parts.push(part);
  }
  if (parts.length === 0) return modelPath.startsWith('/') ? '' : '.';
  return parts[parts.length - 1];
}

export interface AdapterMatch {
  readonly adapter: string;
  readonly template: string;
}

/**
 * FastChat's `get_model_adapter` + `get_default_conv_template`: the basename is tried first, then the full path;
 * the template is chosen from the full path. `null` when only BaseModelAdapter would match.
 */
export function matchModelAdapter(modelPath: string): AdapterMatch | null {
  const basename = modelBasename(modelPath);
  const found = MODEL_ADAPTER_RULES.find((r) => r.match(basename)) ?? MODEL_ADAPTER_RULES.find((r) => r.match(modelPath));
  return found ? { adapter: found.adapter, template: found.template(modelPath) } : null;
}
