/**
 * Byte-level BPE pre-tokenisation per `tokenizer.ggml.pre`, as llama.cpp does it (llama-vocab.cpp): a list of regular
 * expressions applied one after the other, each splitting every piece of the previous step into matches and the text
 * between them. In tokenizer.json that is a Sequence of `Split` (behavior Isolated) followed by a ByteLevel
 * pre-tokenizer that only maps bytes to GPT-2's printable characters. Patterns are in the Oniguruma syntax of
 * tokenizer.json; case-insensitive contractions are spelt out ('[sS]) as llama.cpp does.
 */
import { FleetError } from '../../common/errors';

const GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
const CONTRACTIONS = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";
const LLAMA3 = `${CONTRACTIONS}|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+`;
const QWEN2 = `${CONTRACTIONS}|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+`;
const UPPER = '[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]';
const LOWER = '[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]';
const TEKKEN = `[^\\r\\n\\p{L}\\p{N}]?${UPPER}*${LOWER}+|[^\\r\\n\\p{L}\\p{N}]?${UPPER}+${LOWER}*|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+`;
const GPT4O =
  `[^\\r\\n\\p{L}\\p{N}]?${UPPER}*${LOWER}+${CONTRACTIONS}?|[^\\r\\n\\p{L}\\p{N}]?${UPPER}+${LOWER}*${CONTRACTIONS}?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+`;
const BLOOM = ' ?[^(\\s|.,!?…。，、।۔،)]+';

interface PreTokenizerSpec {
  names: string[];
  patterns: string[];
  /** BPE ignore_merges: a whole piece that is a token is taken as is (llama.cpp sets it for these). */
  ignoreMerges?: boolean;
}

const SPECS: PreTokenizerSpec[] = [
  { names: ['default', ''], patterns: ['[\\p{P}\\$\\+<=>\\^~\\|]+', GPT2, '\\p{N}+', '[0-9][0-9][0-9]'] },
  { names: ['llama3', 'llama-v3', 'llama-bpe', 'falcon3', 'falcon-h1', 'pixtral', 'midm-2.0', 'lfm2'], patterns: [LLAMA3], ignoreMerges: true },
  { names: ['dbrx', 'smaug-bpe', 'chatglm-bpe', 'glm4'], patterns: [LLAMA3] },
  { names: ['qwen2', 'deepseek-r1-qwen', 'stablelm2', 'megrez', 'hunyuan'], patterns: [QWEN2] },
  { names: ['gpt-2', 'phi-2', 'mpt', 'olmo', 'jais', 'exaone4', 'gigachat', 'mellum', 'a.x-4.0', 'trillion', 'granite-docling'], patterns: [GPT2] },
  { names: ['smollm', 'starcoder', 'refact', 'command-r', 'codeshell', 'exaone', 'minerva-7b'], patterns: ['\\p{N}', GPT2] },
  { names: ['falcon'], patterns: ['[\\p{P}\\$\\+<=>\\^~\\|`]+', GPT2, '[0-9][0-9][0-9]'] },
  { names: ['deepseek-coder'], patterns: ['[\\r\\n]', '\\s?\\p{L}+', '\\s?\\p{P}+', '[一-龥ࠀ-一가-퟿]+', '\\p{N}'] },
  { names: ['tekken'], patterns: [TEKKEN], ignoreMerges: true },
  { names: ['gpt-4o', 'llama4'], patterns: [GPT4O] },
  { names: ['poro-chat', 'bloom', 'gpt3-finnish'], patterns: [BLOOM] },
  { names: ['viking'], patterns: [BLOOM, '\\p{N}'] },
];

export interface ByteLevelPreTokenizer {
  preTokenizer: Record<string, unknown>;
  ignoreMerges: boolean;
}

export function supportedPreTokenizers(): string[] {
  return SPECS.flatMap((s) => s.names).filter((n) => n !== '');
}

/** tokenizer.json `pre_tokenizer` for a GGUF `tokenizer.ggml.pre` (absent = llama.cpp's 'default'). */
export function byteLevelPreTokenizer(pre: string | undefined): ByteLevelPreTokenizer {
  const name = pre ?? 'default';
  const spec = SPECS.find((s) => s.names.includes(name));
  if (spec === undefined) {
    throw new FleetError('invalid_request', `BPE pre-tokenizer '${name}' (tokenizer.ggml.pre) is not supported (supported: ${supportedPreTokenizers().join(', ')})`, { code: 'unsupported_tokenizer' });
  }
  const splits = spec.patterns.map((p) => ({ type: 'Split', pattern: { Regex: p }, behavior: 'Isolated', invert: false }));
  return {
    preTokenizer: { type: 'Sequence', pretokenizers: [...splits, { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false }] },
    ignoreMerges: spec.ignoreMerges ?? false,
  };
}
