/**
 * One table of limits for request fields, shared by every process that accepts a generation request: the gateway
 * reads it to reject bad input early (OpenAI's 400 with `param`), the worker to defend itself against any other
 * gRPC caller. Both sides call `checkLimit`, so a value refused on one side is refused on the other with the
 * same message. Field names are the wire (snake_case) names, which are also the error's `param`.
 */
import { intOption } from './config';
import { FleetError } from './errors';

export interface NumberLimit {
  readonly min: number;
  readonly max: number;
  /** The minimum itself is not allowed (top_p = 0 would keep no token). */
  readonly minExclusive?: boolean;
  readonly integer?: boolean;
}

export const SAMPLING_LIMITS = {
  temperature: { min: 0, max: 2 },
  top_p: { min: 0, max: 1, minExclusive: true },
  /** -1 and 0 disable top-k; a value above the vocabulary size keeps every token. */
  top_k: { min: -1, max: 1 << 24, integer: true },
  min_p: { min: 0, max: 1 },
  repetition_penalty: { min: 0, max: 10, minExclusive: true },
  presence_penalty: { min: -2, max: 2 },
  frequency_penalty: { min: -2, max: 2 },
  seed: { min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER, integer: true },
  max_tokens: { min: 1, max: 1 << 30, integer: true },
  top_logprobs: { min: 0, max: 20, integer: true },
  logit_bias: { min: -100, max: 100 },
  n: { min: 1, max: 16, integer: true },
} as const satisfies Record<string, NumberLimit>;

export type LimitedField = keyof typeof SAMPLING_LIMITS;

/** Counts and sizes of list fields. */
export const LIST_LIMITS = {
  /** Stop strings per request. */
  maxStopStrings: 16,
  /** Entries in logit_bias. */
  maxLogitBiasEntries: 1024,
  /** Stop token ids per request. */
  maxStopTokenIds: 1024,
  /** Characters of a `conv_template` name (FastChat's longest is 29). */
  maxConvTemplateChars: 64,
} as const;

/**
 * Limits on what one request may make a process do, with defaults and a flag each (gateway and worker take the same
 * flags, so an operator can tighten both). A request over a limit is refused (400 / INVALID_ARGUMENT) with a message
 * naming the limit and its flag, before any rendering, tokenization or prefill.
 */
export interface RequestLimits {
  /** UTF-8 bytes of a prompt: a completion's `prompt`, or the sum of a chat's message contents. */
  readonly maxPromptBytes: number;
  /** Messages in one chat request. */
  readonly maxMessages: number;
  /** Stop strings per request. */
  readonly maxStopStrings: number;
  /** Characters of one stop string. */
  readonly maxStopChars: number;
  /** `n × max_tokens`: tokens one request may ask to generate over all its choices. */
  readonly maxChoiceTokens: number;
  /** Entries in logit_bias. */
  readonly maxLogitBiasEntries: number;
}

export const DEFAULT_REQUEST_LIMITS: RequestLimits = {
  maxPromptBytes: 1 << 20,
  maxMessages: 2048,
  maxStopStrings: LIST_LIMITS.maxStopStrings,
  maxStopChars: 256,
  maxChoiceTokens: 1 << 18,
  maxLogitBiasEntries: LIST_LIMITS.maxLogitBiasEntries,
};

/** The flag of each request limit (README "Security model" lists them). */
export const REQUEST_LIMIT_FLAGS: Record<keyof RequestLimits, string> = {
  maxPromptBytes: '--max-prompt-bytes',
  maxMessages: '--max-messages',
  maxStopStrings: '--max-stop-strings',
  maxStopChars: '--max-stop-chars',
  maxChoiceTokens: '--max-choice-tokens',
  maxLogitBiasEntries: '--max-logit-bias',
};

/** CLI options for the request limits (spread into the gateway's and the worker's option schemas). */
export const requestLimitOptions = {
  maxPromptBytes: intOption({ flag: REQUEST_LIMIT_FLAGS.maxPromptBytes, description: 'largest prompt in UTF-8 bytes (a completion prompt, or the sum of chat message contents); refused before rendering or tokenizing', default: DEFAULT_REQUEST_LIMITS.maxPromptBytes, min: 1 }),
  maxMessages: intOption({ flag: REQUEST_LIMIT_FLAGS.maxMessages, description: 'most messages in one chat request', default: DEFAULT_REQUEST_LIMITS.maxMessages, min: 1 }),
  maxStopStrings: intOption({ flag: REQUEST_LIMIT_FLAGS.maxStopStrings, description: 'most stop strings per request', default: DEFAULT_REQUEST_LIMITS.maxStopStrings, min: 0, max: LIST_LIMITS.maxStopStrings * 4 }),
  maxStopChars: intOption({ flag: REQUEST_LIMIT_FLAGS.maxStopChars, description: 'longest stop string, in characters', default: DEFAULT_REQUEST_LIMITS.maxStopChars, min: 1 }),
  maxChoiceTokens: intOption({ flag: REQUEST_LIMIT_FLAGS.maxChoiceTokens, description: 'most tokens one request may ask for over its choices (n × max_tokens)', default: DEFAULT_REQUEST_LIMITS.maxChoiceTokens, min: 1 }),
  maxLogitBiasEntries: intOption({ flag: REQUEST_LIMIT_FLAGS.maxLogitBiasEntries, description: 'most logit_bias entries per request', default: DEFAULT_REQUEST_LIMITS.maxLogitBiasEntries, min: 0 }),
};

/** The limits of a parsed configuration that spread `requestLimitOptions`. */
export function requestLimitsOf(config: RequestLimits): RequestLimits {
  const { maxPromptBytes, maxMessages, maxStopStrings, maxStopChars, maxChoiceTokens, maxLogitBiasEntries } = config;
  return { maxPromptBytes, maxMessages, maxStopStrings, maxStopChars, maxChoiceTokens, maxLogitBiasEntries };
}

const LIMIT_NAMES: Record<keyof RequestLimits, string> = {
  maxPromptBytes: 'max_prompt_bytes',
  maxMessages: 'max_messages',
  maxStopStrings: 'max_stop_strings',
  maxStopChars: 'max_stop_chars',
  maxChoiceTokens: 'max_choice_tokens',
  maxLogitBiasEntries: 'max_logit_bias',
};

/**
 * `value` if it is within `limits[limit]`; else FleetError('invalid_request') whose message names the limit, its value
 * and its flag, e.g. "prompt: 2097152 bytes is over the limit max_prompt_bytes = 1048576 (--max-prompt-bytes)".
 */
export function checkRequestLimit(limits: RequestLimits, limit: keyof RequestLimits, value: number, param: string, unit: string): number {
  const max = limits[limit];
  if (value > max) {
    throw new FleetError('invalid_request', `${param}: ${value} ${unit} is over the limit ${LIMIT_NAMES[limit]} = ${max} (${REQUEST_LIMIT_FLAGS[limit]})`, { param, code: 'limit_exceeded' });
  }
  return value;
}

/** UTF-8 bytes of `text`, without encoding it (a 64 MiB string costs one pass, no copy). */
export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** Sizes of grammar constraints (structured outputs, guided decoding, tools); each costs a compile in the worker. */
export const CONSTRAINT_LIMITS = {
  /** JSON text of a response_format / guided_json schema, or of a request's tools array. */
  maxSchemaBytes: 64 * 1024,
  /** Nesting depth of a JSON Schema. */
  maxSchemaDepth: 32,
  /** Characters of a guided_regex pattern. */
  maxRegexLength: 4096,
  /** Strings in guided_choice, and characters of each. */
  maxChoices: 256,
  maxChoiceLength: 1024,
  /** Functions in a request's tools. */
  maxTools: 128,
} as const;

/** Tool (function) definitions of a chat request; the whole tools array also obeys CONSTRAINT_LIMITS.maxSchemaBytes. */
export const TOOL_LIMITS = {
  /** OpenAI's rule for function names: letters, digits, underscores and dashes, 1 to 64 characters. */
  namePattern: /^[A-Za-z0-9_-]{1,64}$/,
  /** Characters of a function's description. */
  maxDescriptionChars: 8192,
  /** Tool calls in one assistant message of the conversation. */
  maxCallsPerMessage: 128,
} as const;

const CONV_TEMPLATE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * A request's `conv_template`, trimmed: a template name (letters, digits, `.`, `_`, `-`; at most
 * `maxConvTemplateChars`) or '' for the model's default. Whether the name is known is the chat library's answer;
 * this bound keeps every per-name cache as small as the list of names.
 */
export function checkConvTemplateName(raw: string): string {
  if (raw.length > LIST_LIMITS.maxConvTemplateChars * 4) throw new FleetError('invalid_request', `conv_template: at most ${LIST_LIMITS.maxConvTemplateChars} characters`, { param: 'conv_template' });
  const name = raw.trim();
  if (name === '') return '';
  if (name.length > LIST_LIMITS.maxConvTemplateChars || !CONV_TEMPLATE_NAME.test(name)) {
    throw new FleetError('invalid_request', `conv_template: a template name of at most ${LIST_LIMITS.maxConvTemplateChars} letters, digits, '.', '_' or '-'`, { param: 'conv_template' });
  }
  return name;
}

function describe(limit: NumberLimit): string {
  const range = limit.minExclusive ? `> ${limit.min} and <= ${limit.max}` : `between ${limit.min} and ${limit.max}`;
  return `${limit.integer ? 'an integer ' : ''}${range}`;
}

/** The value if it is within the field's limit; else FleetError('invalid_request') naming the field and the limit. */
export function checkLimit(field: LimitedField, value: number): number {
  const limit: NumberLimit = SAMPLING_LIMITS[field];
  const ok = Number.isFinite(value)
    && value <= limit.max
    && (limit.minExclusive ? value > limit.min : value >= limit.min)
    && (!limit.integer || Number.isInteger(value));
  if (!ok) throw new FleetError('invalid_request', `${field}: must be ${describe(limit)}, got ${value}`, { param: field });
  return value;
}
