/**
 * FastChat's golden vectors (test/fixtures/golden/conv_golden.json, produced by FastChat's own get_prompt()):
 * all 306 records go through `fleetchat template render --batch` (its command function, reading the file) and
 * every prompt, stop_str and stop_token_ids must be FastChat's, byte for byte; yandexgpt errors as FastChat does.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runRender } from '../../src/cli/commands/template';

interface GoldenRecord {
  template: string;
  case: string;
  system_message: string;
  messages: [string, string | null][];
  prompt: string | null;
  stop_str: string | string[] | null;
  stop_token_ids: number[] | null;
  error?: string | null;
}

const goldenPath = join(__dirname, '../fixtures/golden/conv_golden.json');
const golden: GoldenRecord[] = JSON.parse(readFileSync(goldenPath, 'utf8'));

describe('fleetchat template render --batch on FastChat golden vectors', () => {
  let results: Array<{ template: string; prompt: string | null; stop_str: unknown; stop_token_ids: unknown; error: string | null }>;

  beforeAll(async () => {
    // The batch input carries only what FastChat's records hold as input: template, system_message, messages.
    const input = JSON.stringify(golden.map(({ template, system_message, messages }) => ({ template, system_message, messages })));
    const { out, exitCode } = await runRender({ batch: 'golden.json', text: false }, async () => input);
    expect(exitCode).toBe(0);
    results = JSON.parse(out);
  });

  it('answers every record of all 102 templates, in order', () => {
    expect(golden).toHaveLength(306);
    expect(new Set(golden.map((r) => r.template)).size).toBe(102);
    expect(results.map((r) => r.template)).toEqual(golden.map((r) => r.template));
  });

  it.each(golden.map((r, i) => [`${r.template} / ${r.case}`, i] as const))('%s', (_label, i) => {
    const want = golden[i];
    const got = results[i];
    expect(got.error).toBe(want.error ?? null);
    expect(got.prompt).toBe(want.prompt);
    expect(got.stop_str).toEqual(want.stop_str);
    expect(got.stop_token_ids).toEqual(want.stop_token_ids);
  });

  it('reports yandexgpt the way FastChat raises', () => {
    const yandex = results.filter((r) => r.template === 'yandexgpt');
    expect(yandex).toHaveLength(3);
    for (const r of yandex) expect(r).toMatchObject({ prompt: null, error: 'ValueError: Invalid style: None' });
  });
});
