/**
 * Which prompt format a model uses. Priority, highest first:
 *  1. an explicit override (`--conv-template NAME`): a FastChat template name, or `jinja` for the tokenizer's own
 *     chat template;
 *  2. a specific FastChat model adapter matching the model path (then each served model name), in FastChat's
 *     order — FastChat users get FastChat's prompts for the models FastChat knows;
 *  3. the tokenizer's Jinja `chat_template`, when the model has one — every other modern model works without
 *     anyone writing a template;
 *  4. FastChat's BaseModelAdapter default, `one_shot`.
 * A PEFT adapter is matched by its base model first (FastChat's PeftModelAdapter does the same).
 */
import { FleetError } from '../common/errors';
import { type ConvTemplate, getConvTemplate } from './conv-template';
import { compileChatTemplate } from './jinja';
import { matchModelAdapter } from './model-adapters';
import { type ChatTokenizerInfo, NO_TOKENIZER_INFO } from './tokenizer-info';

export const JINJA_TEMPLATE_NAME = 'jinja';

export interface TemplateSelectionInput {
  /** Model directory or Hugging Face repo id (FastChat's `--model-path`). */
  readonly modelPath?: string;
  /** Served model names, tried after the path. */
  readonly modelNames?: readonly string[];
  /** FastChat template name or `jinja`; empty means none. */
  readonly override?: string;
  /** The model's tokenizer facts (see parseChatTokenizerInfo / loadTokenizer). */
  readonly tokenizerConfig?: ChatTokenizerInfo;
  /** `base_model_name_or_path` of a PEFT adapter (adapter_config.json). */
  readonly peftBaseModel?: string;
}

export type SelectionSource = 'override' | 'adapter' | 'chat_template' | 'default';

interface SelectionBase {
  /** The FastChat template name, or `jinja`. */
  readonly templateName: string;
  readonly source: SelectionSource;
  /** Why this format was chosen, for logs and `GetModelInfo`. */
  readonly reason: string;
  readonly tokenizer: ChatTokenizerInfo;
}

export interface FastChatSelection extends SelectionBase {
  readonly kind: 'fastchat';
  readonly template: ConvTemplate;
}

export interface JinjaSelection extends SelectionBase {
  readonly kind: 'jinja';
  /** The default chat template. */
  readonly chatTemplate: string;
  /** Named alternatives (`tool_use` is used when a request carries tools). */
  readonly namedChatTemplates: Readonly<Record<string, string>>;
}

export type TemplateSelection = FastChatSelection | JinjaSelection;

function fastchat(template: ConvTemplate, source: SelectionSource, reason: string, tokenizer: ChatTokenizerInfo): FastChatSelection {
  if (template.sepStyle === null) {
    throw new FleetError(
      'invalid_request',
      `conversation template '${template.name}' cannot render prompts: FastChat registers it without a separator style ` +
        '(its get_prompt() raises ValueError: Invalid style: None)',
      { param: 'template' },
    );
  }
  return { kind: 'fastchat', template, templateName: template.name, source, reason, tokenizer };
}

function jinja(source: SelectionSource, reason: string, tokenizer: ChatTokenizerInfo): JinjaSelection {
  const chatTemplate = tokenizer.chatTemplate;
  if (chatTemplate === null) {
    throw new FleetError('invalid_request', "template 'jinja' needs the tokenizer's chat_template, and this model has none", {
      param: 'template',
    });
  }
  compileChatTemplate(chatTemplate);
  Object.values(tokenizer.namedChatTemplates).forEach((t) => compileChatTemplate(t));
  return { kind: 'jinja', templateName: JINJA_TEMPLATE_NAME, chatTemplate, namedChatTemplates: tokenizer.namedChatTemplates, source, reason, tokenizer };
}

function candidates(input: TemplateSelectionInput): string[] {
  const names = [input.peftBaseModel, input.modelPath, ...(input.modelNames ?? [])];
  return names.filter((n): n is string => typeof n === 'string' && n !== '');
}

/** Chooses the prompt format for a model (see the priority above). Pure apart from compiling Jinja templates. */
export function selectTemplate(input: TemplateSelectionInput): TemplateSelection {
  const tokenizer = input.tokenizerConfig ?? NO_TOKENIZER_INFO;
  const override = input.override?.trim();
  if (override) {
    if (override === JINJA_TEMPLATE_NAME) return jinja('override', 'explicit override: jinja', tokenizer);
    return fastchat(getConvTemplate(override), 'override', `explicit override: ${override}`, tokenizer);
  }
  for (const name of candidates(input)) {
    const match = matchModelAdapter(name);
    if (match) return fastchat(getConvTemplate(match.template), 'adapter', `FastChat ${match.adapter} matched '${name}'`, tokenizer);
  }
  if (tokenizer.chatTemplate !== null) return jinja('chat_template', "no FastChat adapter matched; the tokenizer's chat_template", tokenizer);
  return fastchat(getConvTemplate('one_shot'), 'default', 'no FastChat adapter matched and no chat_template: FastChat default', tokenizer);
}
