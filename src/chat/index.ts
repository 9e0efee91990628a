/**
 * Conversation templates and chat rendering, shared by the worker engine, the data pipelines and the judge.
 *
 *   const tok = await loadTokenizer(modelDir);
 *   const selection = selectTemplate({ modelPath, modelNames, override, tokenizerConfig: tok.chat, peftBaseModel: tok.peftBaseModel });
 *   const rendered = renderChat(selection, { messages, tools });         // text, stop, stopTokenIds, addBosToken
 *   const ids = encodePrompt(tok, rendered);                              // never a double BOS
 *   const segments = renderSegments(selection, { messages });            // SFT masking by character offsets
 */
export type { ConvMessage, ConvTemplate, SeparatorStyle } from './conv-template';
export { findConvTemplate, getConvTemplate, listConvTemplates, stopStringsOf } from './conv-template';
export type { Conversation, ConversationInit } from './conversation';
export { getPrompt, getPromptSegments, newConversation } from './conversation';
export type { FastChatRecordResult } from './fastchat-records';
export { renderFastChatRecord, renderFastChatRecords } from './fastchat-records';
export type { ChatRole, ValidChatMessage, ValidToolCall } from './messages';
export { parseChatMessages } from './messages';
export type { ModelChatDir } from './model-files';
export { readModelChatDir } from './model-files';
export type { AdapterMatch } from './model-adapters';
export { matchModelAdapter } from './model-adapters';
export { PythonError } from './python-strings';
export type { ChatRenderRequest, RenderedChat } from './render';
export { renderChat, renderSegments } from './render';
export type { PromptSegment, SegmentRole } from './segments';
export type { FastChatSelection, JinjaSelection, SelectionSource, TemplateSelection, TemplateSelectionInput } from './select';
export { JINJA_TEMPLATE_NAME, selectTemplate } from './select';
export type { TemplateListRow } from './template-commands';
export { formatTemplateTable, renderConversationInput, templateListRows } from './template-commands';
export type { ConversationRequest } from './to-conversation';
export { toConversation } from './to-conversation';
export type { ToolChoice, ToolFunction } from './tools';
export { checkToolName, parseToolChoice, parseToolDefinitions, toolsForTemplate } from './tools';
export type { ChatTokenizerInfo, ModelChatFiles } from './tokenizer-info';
export { NO_TOKENIZER_INFO, parseChatTokenizerInfo } from './tokenizer-info';
export type { DecodeOptions, EncodeOptions, LoadedTokenizer } from './tokenizer';
export { encodePrompt, loadTokenizer } from './tokenizer';
