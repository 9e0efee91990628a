/** `fleetchat generate` and `fleetchat chat`: a model run in this process, for scripts and the terminal. */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { addOptions, optionalStringOption, boolOption, readConfig } from '../../common/config';
import { FleetError } from '../../common/errors';
import { runChatSession } from '../local/chat-session';
import { loadLocalModel, localModelOptions, samplingFromFlags } from '../local/options';
import { chatPrompt, generateOnce } from '../local/run-once';

const generateOptions = {
  ...localModelOptions,
  prompt: optionalStringOption({ flag: '--prompt', description: 'raw text prompt (no chat template)' }),
  messages: optionalStringOption({ flag: '--messages', description: 'JSON file with OpenAI-style messages (the chat template is applied)' }),
  json: boolOption({ flag: '--json', description: 'print text, token ids, finish reason and usage as JSON', default: false }),
};

const chatOptions = {
  ...localModelOptions,
  system: optionalStringOption({ flag: '--system', description: 'system message' }),
};

function readMessages(path: string): Array<{ role: string; content: string }> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new FleetError('invalid_request', `cannot read messages from ${path}: ${(err as Error).message}`);
  }
  const list = Array.isArray(parsed) ? parsed : (parsed as { messages?: unknown }).messages;
  if (!Array.isArray(list)) throw new FleetError('invalid_request', `${path} must hold a JSON array of messages or {"messages": [...]}`);
  return list as Array<{ role: string; content: string }>;
}

export function register(program: Command): void {
  const gen = program.command('generate').description('generate one completion with a local model and print it');
  addOptions(gen, generateOptions).action(async (opts: Record<string, unknown>) => {
    const config = readConfig(generateOptions, opts);
    if ((config.prompt === undefined) === (config.messages === undefined)) throw new FleetError('invalid_request', 'give exactly one of --prompt or --messages');
    const runtime = await loadLocalModel(config);
    try {
      const prompt = config.messages !== undefined ? chatPrompt(runtime, readMessages(config.messages)) : runtime.prompts.fromText(config.prompt ?? '');
      const result = await generateOnce(runtime, prompt, samplingFromFlags(config), (d) => {
        if (!config.json) process.stdout.write(d);
      });
      if (config.json) process.stdout.write(`${JSON.stringify({ model: runtime.info.modelNames[0], text: result.text, token_ids: result.tokenIds, finish_reason: result.finishReason, usage: result.usage })}\n`);
      else process.stdout.write('\n');
    } finally {
      await runtime.release();
    }
  });

  const chat = program.command('chat').description('chat with a local model in the terminal (like FastChat serve.cli)');
  addOptions(chat, chatOptions).action(async (opts: Record<string, unknown>) => {
    const config = readConfig(chatOptions, opts);
    const runtime = await loadLocalModel(config);
    try {
      await runChatSession({ runtime, sampling: samplingFromFlags(config), input: process.stdin, output: process.stdout, systemMessage: config.system });
    } finally {
      await runtime.release();
    }
  });
}
