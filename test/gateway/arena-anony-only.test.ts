/**
 * FastChat's `anony_only`: a hosted model from an api_endpoint_file marked anonymous-only takes part in anonymous
 * battles but is never offered by name (arena model list, direct conversations, battles with names shown). The
 * "hosted API" here is a second fleetchat (`up` on a generated model) — a real OpenAI-compatible server.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnCli, waitForOutput } from '../support/cli';
import { tinyModel } from '../support/models';
import { ArenaClient } from '../ui/support/arena-stack';

jest.setTimeout(180_000);

async function up(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawnCli(['up', '--port', '0', '--grpc-port', '-1', ...args]);
  const url = (await waitForOutput(child, /fleetchat is up: (http:\/\/127\.0\.0\.1:\d+)/, 150_000))[1];
  return { child, url };
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

describe('anony_only hosted models in the arena', () => {
  let hosted: { child: ChildProcess; url: string };
  let arena: { child: ChildProcess; url: string };
  let dir: string;
  let local: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fleetchat-anony-'));
    const model = await tinyModel();
    hosted = await up(['--cache-dir', join(dir, 'hosted'), '--model', model]);
    local = ((await (await fetch(`${hosted.url}/v1/models`)).json()) as { data: Array<{ id: string }> }).data[0].id;
    const file = join(dir, 'api_endpoints.json');
    writeFileSync(file, JSON.stringify({
      'secret-model': { model_name: local, api_base: `${hosted.url}/v1`, api_type: 'openai', api_key: 'unused', anony_only: true },
      'open-model': { model_name: local, api_base: `${hosted.url}/v1`, api_type: 'openai', api_key: 'unused', anony_only: false },
    }));
    arena = await up(['--cache-dir', join(dir, 'arena'), '--model', model, '--api-endpoint-file', file]);
  });
  afterAll(async () => {
    await stop(arena?.child);
    await stop(hosted?.child);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('lists only the models that may be shown by name', async () => {
    const client = new ArenaClient(arena.url);
    const models = (await client.call<{ models: string[] }>('/arena/models', 'GET')).body.models;
    expect([...models].sort()).toEqual([local, 'open-model'].sort());
  });

  it('refuses the anonymous-only model by name, in a conversation and in a named battle', async () => {
    const client = new ArenaClient(arena.url);
    const conversation = await client.call<{ error: { code: string; param: string; message: string } }>('/arena/conversations', 'POST', { model: 'secret-model' });
    expect(conversation.status).toBe(400);
    expect(conversation.body.error).toMatchObject({ code: 'anony_only', param: 'model' });
    const named = await client.call<{ error: { code: string; param: string } }>('/arena/battles', 'POST', { anony: false, model_a: local, model_b: 'secret-model' });
    expect(named.status).toBe(400);
    expect(named.body.error).toMatchObject({ code: 'anony_only', param: 'model_b' });
    const allowed = await client.call('/arena/battles', 'POST', { anony: false, model_a: local, model_b: 'open-model' });
    expect(allowed.status).toBe(201);
  });

  it('pairs it in anonymous battles, answers through it and reveals it after the vote', async () => {
    const client = new ArenaClient(arena.url);
    const seen = new Set<string>();
    let withSecret: string | undefined;
    for (let i = 0; i < 24 && withSecret === undefined; i++) {
      const battle = await client.call<{ id: string }>('/arena/battles', 'POST', { anony: true });
      expect(battle.status).toBe(201);
      await client.call(`/arena/battles/${battle.body.id}/messages`, 'POST', { message: 'hello' });
      const sides = await Promise.all(['a', 'b'].map((side) => client.stream(`/arena/battles/${battle.body.id}/sides/${side}/chat/completions`, { max_tokens: 4 })));
      expect(sides.map((s) => s.status)).toEqual([200, 200]);
      const vote = await client.call<{ model_a: string; model_b: string }>(`/arena/battles/${battle.body.id}/votes`, 'POST', { winner: 'tie' });
      expect(vote.status).toBe(201);
      for (const m of [vote.body.model_a, vote.body.model_b]) seen.add(m);
      if (seen.has('secret-model')) withSecret = battle.body.id;
    }
    expect(withSecret).toBeDefined();
  });
});
