/** `fleetchat template list` and `fleetchat template render` (conversation templates; see src/chat). */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import {
  formatTemplateTable,
  readModelChatDir,
  renderConversationInput,
  renderFastChatRecords,
  selectTemplate,
  type TemplateSelection,
  templateListRows,
} from '../../chat';
import { addOptions, boolOption, optionalStringOption, readConfig } from '../../common/config';
import { FleetError } from '../../common/errors';

export const listOptions = {
  json: boolOption({ flag: '--json', description: 'print JSON instead of a table', default: false }),
};

export const renderOptions = {
  template: optionalStringOption({ flag: '--template', placeholder: '<name>', description: "FastChat template name, or 'jinja' for the model's chat_template" }),
  model: optionalStringOption({ flag: '--model', placeholder: '<dir>', description: "model directory: select the template as the worker does (adapters, then the tokenizer's chat_template)" }),
  batch: optionalStringOption({ flag: '--batch', placeholder: '<file>', description: "JSON array of {template, system_message, messages: [[role, text|null], ...]} records ('-' = stdin)" }),
  text: boolOption({ flag: '--text', description: 'print only the prompt text (single conversation)', default: false }),
};

async function readInput(path: string): Promise<string> {
  if (path !== '-') return readFile(path, 'utf8');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new FleetError('invalid_request', `${source} is not valid JSON: ${(err as Error).message}`);
  }
}

/** The selection for `--template` / `--model`, exactly as the worker would choose it. */
export async function selectionFor(template: string | undefined, model: string | undefined): Promise<TemplateSelection> {
  if (model === undefined) {
    if (template === undefined) throw new FleetError('invalid_request', 'give --template NAME, --model DIR or --batch FILE');
    return selectTemplate({ override: template });
  }
  const dir = await readModelChatDir(model);
  return selectTemplate({ modelPath: model, override: template, tokenizerConfig: dir.info, peftBaseModel: dir.peftBaseModel });
}

export interface RenderConfig {
  template?: string;
  model?: string;
  batch?: string;
  text: boolean;
}

/** Runs `template render`; returns what to print and the exit code. `read` reads a file or ('-') stdin. */
export async function runRender(config: RenderConfig, read: (path: string) => Promise<string> = readInput): Promise<{ out: string; exitCode: number }> {
  if (config.batch !== undefined) {
    const results = renderFastChatRecords(parseJson(await read(config.batch), config.batch === '-' ? 'stdin' : config.batch));
    return { out: `${JSON.stringify(results, null, 2)}\n`, exitCode: 0 };
  }
  const selection = await selectionFor(config.template, config.model);
  const result = renderConversationInput(selection, parseJson(await read('-'), 'stdin'));
  const exitCode = result.error === null ? 0 : 1;
  if (config.text && result.prompt !== null) return { out: result.prompt, exitCode };
  return { out: `${JSON.stringify(result, null, 2)}\n`, exitCode };
}

export function register(program: Command): void {
  const cmd = program.command('template').description('FastChat conversation templates and model chat templates');
  addOptions(cmd.command('list').description('list the conversation templates (name, separator style, stop strings / ids)'), listOptions)
    .action((opts: Record<string, unknown>) => {
      const config = readConfig(listOptions, opts);
      const rows = templateListRows();
      process.stdout.write(config.json ? `${JSON.stringify(rows, null, 2)}\n` : formatTemplateTable(rows));
    });
  addOptions(cmd.command('render').description('render a conversation (JSON on stdin) or a --batch file of FastChat records'), renderOptions)
    .action(async (opts: Record<string, unknown>) => {
      const { out, exitCode } = await runRender(readConfig(renderOptions, opts));
      process.stdout.write(out);
      process.exitCode = exitCode;
    });
}
