/**
 * One process of the measured stack (scripts/chat-path-files.ts): starts a component of the tree `root` from its
 * compiled build (`root/dist/src`) the way its `fleetchat` command does (`start<Name>(parseConfig(<name>Options,
 * args), logger)`), without loading the rest of the CLI, so the process loads only what that component imports.
 * SIGTERM stops it gracefully.
 *
 *   node -r scripts/chat-path/coverage-hook.cjs -r @swc-node/register scripts/chat-path/launch.ts ROOT worker --model ...
 */
import { join } from 'node:path';

interface Running {
  stop(): Promise<void>;
}

type Start = (config: unknown, logger: unknown) => Promise<Running>;

async function main(): Promise<void> {
  const [root, name, ...args] = process.argv.slice(2);
  const src = join(root, 'dist/src');
  const component = (await import(join(src, name, 'main.js'))) as Record<string, unknown>;
  const { parseConfig } = (await import(join(src, 'common/config.js'))) as { parseConfig: (schema: unknown, argv: string[]) => unknown };
  const { createLogger } = (await import(join(src, 'common/log.js'))) as { createLogger: (options: { level: string; name: string }) => unknown };
  const start = component[`start${name[0].toUpperCase()}${name.slice(1)}`] as Start;
  const running = await start(parseConfig(component[`${name}Options`], args), createLogger({ level: 'warn', name }));
  process.once('SIGTERM', () => {
    running.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
