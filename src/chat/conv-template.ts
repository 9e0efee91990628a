/**
 * FastChat conversation templates: the declared data (one record per registered template) and the registry
 * lookups. The rendering code for each separator style lives in separator-styles.ts.
 */
import { FleetError } from '../common/errors';
import { FASTCHAT_TEMPLATES } from './fastchat-templates';

/** FastChat's 23 separator styles (fastchat/conversation.py `SeparatorStyle`). */
export type SeparatorStyle =
  | 'ADD_COLON_SINGLE'
  | 'ADD_COLON_TWO'
  | 'ADD_COLON_SPACE_SINGLE'
  | 'NO_COLON_SINGLE'
  | 'NO_COLON_TWO'
  | 'ADD_NEW_LINE_SINGLE'
  | 'LLAMA2'
  | 'LLAMA3'
  | 'CHATGLM'
  | 'CHATML'
  | 'CHATINTERN'
  | 'DOLLY'
  | 'RWKV'
  | 'PHOENIX'
  | 'ROBIN'
  | 'FALCON_CHAT'
  | 'CHATGLM3'
  | 'DEEPSEEK_CHAT'
  | 'METAMATH'
  | 'YUAN2'
  | 'GEMMA'
  | 'CLLM'
  | 'DEFAULT';

/** One message as FastChat stores it: `[role, text]`; `null` (or an empty text) is an open slot to generate. */
export type ConvMessage = readonly [role: string, text: string | null];

/** A registered template, field for field as FastChat's `Conversation` dataclass. */
export interface ConvTemplate {
  readonly name: string;
  /** Python format string with `{system_message}`. */
  readonly systemTemplate: string;
  readonly systemMessage: string;
  readonly systemMessageVision: string;
  /** `[user role, assistant role, ...]` (llama2-chinese declares a third, unused `System` role). */
  readonly roles: readonly string[];
  /** Few-shot messages the template starts with (one_shot, baize, rwkv). */
  readonly messages: readonly ConvMessage[];
  readonly offset: number;
  /** `null` for templates FastChat registers without a style (`yandexgpt`): rendering them raises. */
  readonly sepStyle: SeparatorStyle | null;
  readonly sep: string | null;
  readonly sep2: string | null;
  readonly stopStr: string | readonly string[] | null;
  readonly stopTokenIds: readonly number[] | null;
  readonly maxImageSizeMb: number | null;
}

const BY_NAME: ReadonlyMap<string, ConvTemplate> = new Map(FASTCHAT_TEMPLATES.map((t) => [t.name, t]));

/** Every registered template in FastChat's registration order. */
export function listConvTemplates(): readonly ConvTemplate[] {
  return FASTCHAT_TEMPLATES;
}

export function findConvTemplate(name: string): ConvTemplate | undefined {
  return BY_NAME.get(name);
}

/** The template registered under `name`; an unknown name is a FleetError('not_found'). */
export function getConvTemplate(name: string): ConvTemplate {
  const template = BY_NAME.get(name);
  if (!template) {
    throw new FleetError('not_found', `unknown conversation template '${name}' (see \`fleetchat template list\`)`, {
      param: 'template',
      code: 'template_not_found',
    });
  }
  return template;
}

/** The template's stop strings as a list (FastChat allows a string, a list or nothing). */
export function stopStringsOf(template: ConvTemplate): string[] {
  if (template.stopStr === null) return [];
  return typeof template.stopStr === 'string' ? [template.stopStr] : [...template.stopStr];
}
