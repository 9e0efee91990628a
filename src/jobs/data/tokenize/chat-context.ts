/**
 * The target model's tokenizer and prompt format for split-long, prepare-sft and get-stats: a model directory
 * (tokenizer.json, tokenizer_config.json …) and optionally a FastChat template name or `jinja`
 * (FastChat's `--conv-template`); without one the template is chosen as the worker chooses it.
 */
import { loadTokenizer, selectTemplate } from '../../../chat';
import type { ChatContext } from './sft-encode';

export interface ChatContextOptions {
  modelDir: string;
  /** FastChat template name or `jinja`; empty = select from the model. */
  convTemplate: string;
}

export async function loadChatContext(options: ChatContextOptions): Promise<ChatContext> {
  const tokenizer = await loadTokenizer(options.modelDir);
  const selection = selectTemplate({
    modelPath: options.modelDir,
    override: options.convTemplate,
    tokenizerConfig: tokenizer.chat,
    peftBaseModel: tokenizer.peftBaseModel,
  });
  return { tokenizer, selection };
}
