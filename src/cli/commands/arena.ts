/** `fleetchat arena migrate --from FILE --to postgres://…`: moves a SQLite arena into PostgreSQL (several gateways). */
import type { Command } from 'commander';
import { addOptions, optionalStringOption, readConfig } from '../../common/config';
import { FleetError } from '../../common/errors';
import { copySqliteToPostgres } from '../../arena/postgres/copy-from-sqlite';
import { isPostgresUrl, redactUrl } from '../../arena/postgres/pg-errors';

export const ARENA_MIGRATE_OPTIONS = {
  from: optionalStringOption({ flag: '--from', placeholder: '<file>', description: 'the SQLite arena database to copy (its <file>.judge-secret comes along)' }),
  to: optionalStringOption({ flag: '--to', placeholder: '<url>', description: 'postgres://user@host:5432/db (password from PGPASSWORD or the URL); migrated first' }),
};

export function register(program: Command): void {
  const arena = program.command('arena').description('arena database tools');
  const migrate = arena
    .command('migrate')
    .description('copy a SQLite arena (conversations, battles, votes, feedback, judge secret) into PostgreSQL in one transaction; safe to run again');
  addOptions(migrate, ARENA_MIGRATE_OPTIONS).action(async (opts: Record<string, unknown>) => {
    const config = readConfig(ARENA_MIGRATE_OPTIONS, opts);
    if (config.from === undefined) throw new FleetError('invalid_request', 'give the SQLite database: --from FILE', { param: 'from' });
    if (config.to === undefined || !isPostgresUrl(config.to)) throw new FleetError('invalid_request', 'give the target: --to postgres://user@host/db', { param: 'to' });
    const report = await copySqliteToPostgres(config.from, config.to);
    const lines = Object.entries(report.tables).map(([table, t]) => `  ${table}: ${t.inserted} copied of ${t.read}${t.inserted < t.read ? ` (${t.read - t.inserted} already there)` : ''}`);
    process.stdout.write(`copied ${config.from} into ${redactUrl(config.to)}\n${lines.join('\n')}\n  judge secret: ${report.judgeSecret}\n`);
  });
}
