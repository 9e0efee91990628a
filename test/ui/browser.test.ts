/**
 * The web UI in headless Chromium (Debian's /usr/bin/chromium driven by playwright-core) against a real stack with
 * two generated models: chat (streaming, regenerate, stop, clear, upvote), an anonymous battle voted with the
 * keyboard, the leaderboard with the vote and its chart, a named side-by-side battle, a phone-sized screen, and a
 * gateway that needs an API key. Screenshots go to test-results/ui/. No console error is allowed.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv from 'ajv';
import { chromium, type BrowserContext, type Locator, type Page, type Request } from 'playwright-core';
import { parseConfig } from '../../src/common/config';
import { SqliteArenaStore } from '../../src/arena/sqlite/sqlite-store';
import { gatewayOptions, startGateway } from '../../src/gateway/main';
import { buildUi } from '../../src/gateway/ui/build';
import { stop as stopEsbuild } from 'esbuild';
import { call, startArenaStack, type ArenaStack } from './support/arena-stack';
import { containsText, hasCount, hasText, isDisabled, isFocused } from './support/ui-expect';

const ARTIFACTS = join(__dirname, '../../test-results/ui');
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Browser globals used inside `evaluate` callbacks (the tests are compiled without the DOM library). */
declare const document: { documentElement: { scrollWidth: number; clientWidth: number } };
declare const localStorage: { getItem(key: string): string | null };

interface Completion { choices: Array<{ message: { content: string | null; tool_calls?: unknown[] }; finish_reason: string }> }

/** A function whose arguments the random-weight model can only get right through the forced call's grammar. */
const WEATHER_PARAMETERS = {
  type: 'object',
  properties: { city: { type: 'string', pattern: '^[A-Za-z ]{1,12}$' }, unit: { enum: ['celsius', 'fahrenheit'] }, days: { type: 'integer', minimum: 1, maximum: 7 } },
  required: ['city', 'unit', 'days'],
  additionalProperties: false,
};
const WEATHER_TOOLS = [{ type: 'function', function: { name: 'get_weather', description: 'Weather in a city', parameters: WEATHER_PARAMETERS } }];

/** Records, in the page, each text the streaming tool-call card's arguments show (to see them grow). */
const WATCH_ARGUMENTS = `(() => {
  const seen = [];
  window.fleetchatArgs = seen;
  new MutationObserver(() => {
    const el = document.querySelector('.tool-call.streaming .tool-args');
    if (el && seen[seen.length - 1] !== el.textContent) seen.push(el.textContent);
  }).observe(document.querySelector('.chat-page .log'), { subtree: true, childList: true, characterData: true });
})()`;

describe('web UI in headless Chromium', () => {
  let arena: ArenaStack;
  let work: string;
  let uiDir: string;
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];

  const shot = (name: string): Promise<Buffer> => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

  function watch(p: Page): void {
    p.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()} (${m.location().url})`);
    });
    p.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  }

  /** Chromium with a fresh profile directory of its own. */
  async function launch(profileDir: string): Promise<BrowserContext> {
    const launched = await chromium.launchPersistentContext(profileDir, {
      executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 900 },
    });
    launched.setDefaultTimeout(20_000);
    return launched;
  }

  async function setParams(root: Locator, values: { temperature?: string; maxTokens?: string }): Promise<void> {
    const details = root.locator('details.params');
    if ((await details.getAttribute('open')) === null) await details.locator('summary').click();
    if (values.temperature !== undefined) await details.getByLabel('Temperature').fill(values.temperature);
    if (values.maxTokens !== undefined) await details.getByLabel('Max output tokens').fill(values.maxTokens);
  }

  async function greedyAnswer(model: string, content: string, maxTokens: number): Promise<string> {
    const res = await call<Completion>(`${arena.url}/v1/chat/completions`, 'POST', { model, messages: [{ role: 'user', content }], temperature: 0, top_p: 1, max_tokens: maxTokens });
    return res.body.choices[0].message.content ?? '';
  }

  async function withStore<T>(read: (store: SqliteArenaStore) => Promise<T>): Promise<T> {
    const store = await SqliteArenaStore.open({ path: arena.dbPath });
    try {
      return await read(store);
    } finally {
      await store.close();
    }
  }

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    work = mkdtempSync(join(tmpdir(), 'fleetchat-ui-'));
    uiDir = join(work, 'ui');
    await buildUi({ outDir: uiDir });
    await stopEsbuild(); // its service process would keep jest alive
    arena = await startArenaStack(['--ui-dir', uiDir]);
    context = await launch(join(work, 'profile'));
    page = context.pages()[0] ?? (await context.newPage());
    watch(page);
  }, 180_000);

  afterAll(async () => {
    await context?.close();
    await arena?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  afterEach(() => {
    expect(problems.splice(0)).toEqual([]);
  });

  it('chats with a model: streams, upvotes, regenerates, stops and clears', async () => {
    await page.goto(`${arena.url}/#/chat`);
    const root = page.locator('.chat-page');
    await hasText(page.getByRole('heading', { level: 1 }), 'Chat with a model');
    expect(await page.getByRole('link', { name: 'Chat' }).getAttribute('aria-current')).toBe('page');
    await root.getByLabel('Model', { exact: true }).selectOption('b');
    await setParams(root, { temperature: '0', maxTokens: '16' });
    const question = 'Hello, who are you?';
    await root.getByRole('textbox', { name: 'Message' }).fill(question);
    await root.getByRole('textbox', { name: 'Message' }).press('Enter');
    const answers = root.locator('.msg-assistant:not(.streaming) .text');
    await answers.first().waitFor();
    const expected = await greedyAnswer('b', question, 16);
    expect(expected.length).toBeGreaterThan(0);
    await hasText(answers, [expected]);
    await hasText(root.locator('.msg-user .text'), [question]);
    await shot('chat');

    await root.getByRole('button', { name: 'Upvote' }).click();
    await hasText(root.getByRole('status'), 'Thanks for your upvote.');
    await isDisabled(root.getByRole('button', { name: 'Upvote' }));

    await root.getByRole('button', { name: 'Regenerate' }).click();
    await isDisabled(root.getByRole('button', { name: 'Regenerate' }), false);
    await hasText(answers, [expected]);

    await setParams(root, { maxTokens: '1500' });
    await root.getByRole('textbox', { name: 'Message' }).fill('Tell me a very long story');
    await root.getByRole('textbox', { name: 'Message' }).press('Enter');
    await root.locator('.msg-assistant.streaming .text').filter({ hasText: /\S/ }).waitFor();
    await root.getByRole('textbox', { name: 'Message' }).press('Escape');
    await hasText(root.getByRole('status'), 'Stopped.');
    await hasCount(answers, 2);
    const conversations = await withStore(async (store) => ({ counts: await store.counts() }));
    expect(conversations.counts.feedback).toBe(1);

    await root.getByRole('button', { name: 'Clear' }).click();
    await hasCount(root.locator('.msg'), 0);
    await root.locator('.placeholder').waitFor({ state: 'visible' });
  }, 60_000);

  it('calls a tool: the card streams in, the user sends the result as a tool message, the model continues', async () => {
    await page.goto(`${arena.url}/#/chat`);
    const root = page.locator('.chat-page');
    const send = root.getByRole('button', { name: 'Send', exact: true });
    await root.getByLabel('Model', { exact: true }).selectOption('a');
    await setParams(root, { temperature: '0', maxTokens: '120' });
    const panel = root.locator('details.tools');
    await panel.locator('summary').click();
    await panel.getByRole('button', { name: 'Insert example' }).click();
    await hasText(panel.locator('.tools-check'), '1 function: get_weather');
    expect(await panel.getByLabel('Offer these tools to the model').isChecked()).toBe(true);
    // Mistakes are named while typing, and nothing can be sent meanwhile.
    const box = panel.getByLabel('Function definitions (OpenAI tools JSON)');
    await box.fill('[{"type": "function",');
    await containsText(panel.locator('.tools-check'), 'Not valid JSON');
    expect(await box.getAttribute('aria-invalid')).toBe('true');
    await root.getByRole('textbox', { name: 'Message' }).fill('What is the weather like in Paris?');
    await isDisabled(send);
    await box.fill(JSON.stringify([{ type: 'function', function: { name: 'get weather' } }]));
    await containsText(panel.locator('.tools-check'), 'tools[0].function.name: must be 1 to 64 letters, digits, underscores or dashes');
    await box.fill(JSON.stringify(WEATHER_TOOLS, null, 2));
    await hasText(panel.locator('.tools-check'), '1 function: get_weather');
    await panel.getByLabel('Tool choice').selectOption({ label: 'call get_weather' });
    await isDisabled(send, false);

    const requests: Request[] = [];
    const onRequest = (r: Request): void => {
      if (r.url().endsWith('/v1/chat/completions')) requests.push(r);
    };
    page.on('request', onRequest);
    await page.evaluate(WATCH_ARGUMENTS);
    await root.getByRole('textbox', { name: 'Message' }).press('Enter');
    const resultBox = root.getByLabel('Result of get_weather');
    await resultBox.waitFor();
    const card = root.locator('.msg-assistant .tool-call');
    await hasCount(card, 1);
    await hasText(card.locator('.tool-name'), 'get_weather');
    const id = (await card.locator('.tool-head .tool-id').textContent()) ?? '';
    expect(id).toMatch(/^call_/);
    const shown = (await card.locator('.tool-args').textContent()) ?? '';
    const args: unknown = JSON.parse(shown);
    const ajv = new Ajv({ strict: false });
    if (!ajv.validate(WEATHER_PARAMETERS, args)) throw new Error(`get_weather(${shown}): ${ajv.errorsText()}`);
    expect(shown).toBe(JSON.stringify(args, null, 2));
    // The arguments grew in place as the deltas came: several partial texts, each a prefix of the last.
    const seen = await page.evaluate<string[]>('window.fleetchatArgs');
    expect(seen.length).toBeGreaterThan(2);
    for (const partial of seen) expect(seen[seen.length - 1].startsWith(partial)).toBe(true);
    expect(JSON.parse(seen[seen.length - 1])).toEqual(args);
    await hasText(root.getByRole('status'), 'The model called get_weather. Type the result to continue.');
    await isFocused(resultBox);
    await isDisabled(send);
    await isDisabled(root.getByRole('button', { name: 'Upvote' }));
    await shot('tool-call');

    const first = JSON.parse(requests[0].postData() ?? '{}') as Record<string, unknown>;
    expect(first).toMatchObject({ model: 'a', stream: true, tools: WEATHER_TOOLS, tool_choice: { type: 'function', function: { name: 'get_weather' } }, messages: [{ role: 'user', content: 'What is the weather like in Paris?' }] });
    const result = '{"temperature": 21, "unit": "celsius"}';
    await resultBox.fill(result);
    await resultBox.press('Enter');
    await hasText(root.locator('.msg-tool .text'), result);
    await hasText(root.locator('.msg-tool .tool-id'), id);
    await hasCount(root.locator('.msg-assistant:not(.streaming)'), 2);
    page.off('request', onRequest);
    // The page sent the call and its result back (a forced choice becomes auto after tool results) ...
    const second = JSON.parse(requests[1].postData() ?? '{}') as { messages: unknown[]; tool_choice: unknown; stream: boolean };
    expect(second.tool_choice).toBe('auto');
    expect(second.messages).toEqual([
      { role: 'user', content: 'What is the weather like in Paris?' },
      { role: 'assistant', content: null, tool_calls: [{ id, type: 'function', function: { name: 'get_weather', arguments: seen[seen.length - 1] } }] },
      { role: 'tool', content: result, tool_call_id: id },
    ]);
    // ... and shows the model's greedy continuation: what the same request answers without streaming.
    const expected = await call<Completion>(`${arena.url}/v1/chat/completions`, 'POST', { ...second, stream: false });
    const text = expected.body.choices[0].message.content ?? '';
    expect(text.length).toBeGreaterThan(0);
    await hasText(root.locator('.msg-assistant:not(.streaming)').last().locator('.text'), text);
    await isDisabled(send, false);
    await hasText(root.getByRole('status'), expected.body.choices[0].finish_reason === 'length' ? 'The answer reached the token limit.' : '');
    await shot('tool-answered');

    await root.getByRole('button', { name: 'Clear' }).click();
    await hasCount(root.locator('.msg'), 0);
    await panel.getByLabel('Offer these tools to the model').uncheck();
  }, 60_000);

  it('runs an anonymous battle: both sides answer, names stay hidden until a keyboard vote reveals them', async () => {
    await page.getByRole('link', { name: 'Arena' }).click();
    const root = page.locator('.battle-anony');
    await hasText(page.getByRole('heading', { level: 1 }), 'Arena: which anonymous model is better?');
    await setParams(root, { maxTokens: '24' });
    await root.getByRole('textbox', { name: 'Message' }).fill('What is the capital of France?');
    await root.getByRole('textbox', { name: 'Message' }).press('Enter');
    for (const pane of ['.pane-a', '.pane-b']) await root.locator(`${pane} .msg-assistant:not(.streaming)`).waitFor();
    await hasText(root.locator('.pane-title'), ['Model A', 'Model B']);
    await shot('battle-answered');

    const voteA = root.getByRole('button', { name: 'A is better' });
    await voteA.focus();
    await page.keyboard.press('Enter');
    await hasText(root.getByRole('status'), /^Vote recorded \(A is better\)/);
    const titles = await root.locator('.pane-title').allTextContents();
    const names = titles.map((t) => t.replace(/^Model [AB]: /, ''));
    expect(names.sort()).toEqual(['a', 'b']);
    await isFocused(root.getByRole('button', { name: 'New round' }));
    await isDisabled(voteA);
    await isDisabled(root.getByRole('button', { name: 'Send' }));
    await shot('battle-voted');

    const records = await withStore(async (store) => {
      const out = [];
      for await (const r of store.exportBattleLog()) out.push(r);
      return out;
    });
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ winner: 'model_a', anony: true, model_a: titles[0].replace('Model A: ', ''), turn: 1, language: 'English' });
    expect(records[0].conversation_a).toHaveLength(2);
  }, 60_000);

  it('shows the vote on the leaderboard, with the chart of ratings and intervals', async () => {
    const winner = (await page.locator('.pane-a .pane-title').textContent())!.replace('Model A: ', '');
    await page.getByRole('link', { name: 'Leaderboard' }).click();
    const table = page.getByRole('table');
    await table.waitFor();
    const rows = table.locator('tbody tr');
    await hasCount(rows, 2);
    // The winner of the one vote ranks first; each model has one battle.
    await hasText(rows.first().getByRole('rowheader'), winner);
    for (const row of await rows.all()) await hasText(row.locator('td').nth(3), '1');
    await containsText(page.locator('.summary'), '1 rated battles');
    const chart = page.getByRole('img', { name: /rating of each model/ });
    await chart.waitFor({ state: 'visible' });
    expect(await chart.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)).toBeGreaterThan(0);
    await shot('leaderboard');
    // The style-control toggle: the same models on their style-controlled ratings, and the chart follows.
    await page.getByLabel('Control for style (answer length and markdown)').check();
    await containsText(page.locator('.summary'), 'Style-controlled');
    await hasCount(rows, 2);
    await shot('leaderboard-style-control');
    await page.getByLabel('Control for style (answer length and markdown)').uncheck();
    await hasCount(rows, 2);
  }, 60_000);

  it('compares two named models side by side; named votes stay off the leaderboard', async () => {
    await page.getByRole('link', { name: 'Side by side' }).click();
    const root = page.locator('.battle-named');
    await root.getByLabel('Choose model A').selectOption('a');
    await root.getByLabel('Choose model B').selectOption('b');
    await hasText(root.locator('.pane-title'), ['Model A: a', 'Model B: b']);
    await setParams(root, { temperature: '0', maxTokens: '12' });
    const question = 'Name three colours';
    await root.getByRole('textbox', { name: 'Message' }).fill(question);
    await root.getByRole('button', { name: 'Send' }).click();
    for (const pane of ['.pane-a', '.pane-b']) await root.locator(`${pane} .msg-assistant:not(.streaming)`).waitFor();
    await hasText(root.locator('.pane-a .msg-assistant .text'), await greedyAnswer('a', question, 12));
    await hasText(root.locator('.pane-b .msg-assistant .text'), await greedyAnswer('b', question, 12));
    await root.getByRole('button', { name: 'Tie' }).click();
    await hasText(root.getByRole('status'), /^Vote recorded \(a tie\)/);
    await shot('side-by-side');
    await page.getByRole('link', { name: 'Leaderboard' }).click();
    await containsText(page.locator('.summary'), '1 rated battles');
    expect(await withStore(async (store) => (await store.counts()).battleVotes)).toBe(2);
  }, 60_000);

  it('is readable on a phone: one column, nothing wider than the screen', async () => {
    await page.setViewportSize({ width: 375, height: 740 });
    for (const route of ['battle', 'chat', 'leaderboard']) {
      await page.goto(`${arena.url}/#/${route}`);
      await page.locator('h1').waitFor();
      await page.waitForLoadState('networkidle');
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      if (route === 'battle') {
        const a = (await page.locator('.pane-a').boundingBox())!;
        const b = (await page.locator('.pane-b').boundingBox())!;
        expect(b.y).toBeGreaterThanOrEqual(a.y + a.height);
      }
      await shot(`phone-${route}`);
    }
    await page.setViewportSize({ width: 1280, height: 900 });
  }, 60_000);

  it('asks for the API key when the gateway needs one and then works with it', async () => {
    const secured = await startGateway(parseConfig(gatewayOptions, [
      '--controller', arena.stack.controller.address, '--listen', '127.0.0.1:0', '--db', ':memory:', '--ui-dir', uiDir, '--api-keys', 'sk-ui-test',
    ]), arena.stack.logger);
    // A browser of its own, closed before the gateway stops (so no idle keep-alive socket holds the server open).
    const keyBrowser = await launch(join(work, 'profile-key'));
    const other = keyBrowser.pages()[0] ?? (await keyBrowser.newPage());
    watch(other);
    try {
      expect((await call(`${secured.url}/arena/models`, 'GET')).status).toBe(401);
      await other.goto(`${secured.url}/#/chat`);
      const dialog = other.getByRole('dialog', { name: 'API key' });
      await dialog.waitFor({ state: 'visible' });
      await containsText(dialog, 'This gateway needs an API key.');
      await dialog.getByLabel('Key for this gateway').fill('sk-ui-test');
      await other.screenshot({ path: join(ARTIFACTS, 'api-key.png') });
      await dialog.getByRole('button', { name: 'Save' }).click();
      await dialog.waitFor({ state: 'hidden' });
      const root = other.locator('.chat-page');
      await hasText(root.getByLabel('Model', { exact: true }).locator('option'), ['a', 'b']);
      await setParamsOn(root);
      await root.getByRole('textbox', { name: 'Message' }).fill('Hi');
      await root.getByRole('textbox', { name: 'Message' }).press('Enter');
      await root.locator('.msg-assistant:not(.streaming)').waitFor();
      await hasCount(root.locator('.msg-error'), 0);
      expect(await other.evaluate(() => localStorage.getItem('fleetchat.apiKey'))).toBe('sk-ui-test');
    } finally {
      await keyBrowser.close();
      await secured.stop();
    }

    async function setParamsOn(root: Locator): Promise<void> {
      await root.locator('details.params summary').click();
      await root.getByLabel('Max output tokens').fill('8');
    }
  }, 60_000);
});

