/**
 * For scripts/compat/judge-show-result.sh: serves the test fake judge (test/fixtures/judge/judge-texts.json)
 * as model `gpt-4` on 127.0.0.1, prints its base URL on stdout, and runs until SIGTERM / SIGINT.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFakeOpenAI, type JudgeTexts } from '../../test/judge/fake-openai-server';

async function main(): Promise<void> {
  const texts = JSON.parse(readFileSync(join(__dirname, '../../test/fixtures/judge/judge-texts.json'), 'utf8')) as JudgeTexts;
  const server = await startFakeOpenAI({ judgeTexts: texts, judgeModel: 'gpt-4' });
  process.stdout.write(`${server.baseUrl}\n`);
  const stop = (): void => void server.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

void main();
