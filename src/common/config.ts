/**
 * Typed configuration: each process declares an option schema once; the same schema gives the CLI flags,
 * the matching environment variables (`--max-queue` <-> `FLEETCHAT_MAX_QUEUE`), the documented defaults
 * and the validation. Precedence: flag > environment variable > default.
 */
import { Command, InvalidArgumentError, Option } from 'commander';

export interface OptionSpec<T> {
  /** Long flag without value placeholder, e.g. `--max-queue`. */
  flag: string;
  /** Value placeholder shown in help, e.g. `<n>`; omit for boolean switches. */
  placeholder?: string;
  description: string;
  default: T;
  /** Parses and validates a raw string; throws InvalidArgumentError with a clear message. */
  parse(raw: string, previous: T): T;
  /** Shown in help instead of the default value. */
  defaultLabel?: string;
  /** Optional short alias, e.g. `-m`. */
  short?: string;
  /** The value of the bare flag (the value becomes optional: `--fsdp` = `--fsdp "full_shard auto_wrap"`). */
  preset?: T;
}

export type OptionSchema = Record<string, OptionSpec<unknown>>;
export type ConfigOf<S> = { [K in keyof S]: S[K] extends OptionSpec<infer T> ? T : never };

/** `--max-queue` -> `FLEETCHAT_MAX_QUEUE`. */
export function envName(flag: string): string {
  return `FLEETCHAT_${flag.replace(/^--/, '').replace(/-/g, '_').toUpperCase()}`;
}

function fail(message: string): never {
  throw new InvalidArgumentError(message);
}

export function intOption(spec: Omit<OptionSpec<number>, 'parse'> & { min?: number; max?: number }): OptionSpec<number> {
  return {
    placeholder: '<n>',
    ...spec,
    parse: (raw) => {
      const value = Number(raw);
      if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(value)) fail(`expected an integer, got '${raw}'`);
      if (spec.min !== undefined && value < spec.min) fail(`must be >= ${spec.min}, got ${value}`);
      if (spec.max !== undefined && value > spec.max) fail(`must be <= ${spec.max}, got ${value}`);
      return value;
    },
  };
}

export function floatOption(spec: Omit<OptionSpec<number>, 'parse'> & { min?: number; max?: number }): OptionSpec<number> {
  return {
    placeholder: '<x>',
    ...spec,
    parse: (raw) => {
      const value = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(value)) fail(`expected a number, got '${raw}'`);
      if (spec.min !== undefined && value < spec.min) fail(`must be >= ${spec.min}, got ${value}`);
      if (spec.max !== undefined && value > spec.max) fail(`must be <= ${spec.max}, got ${value}`);
      return value;
    },
  };
}

export function stringOption(spec: Omit<OptionSpec<string>, 'parse'> & { pattern?: RegExp; patternHint?: string }): OptionSpec<string> {
  return {
    placeholder: '<value>',
    ...spec,
    parse: (raw) => {
      if (spec.pattern && !spec.pattern.test(raw)) fail(`expected ${spec.patternHint ?? spec.pattern.source}, got '${raw}'`);
      return raw;
    },
  };
}

export function optionalStringOption(spec: Omit<OptionSpec<string | undefined>, 'parse' | 'default'>): OptionSpec<string | undefined> {
  return { placeholder: '<value>', ...spec, default: undefined, parse: (raw) => raw };
}

/** An integer flag with no default (undefined when not given). */
export function optionalIntOption(spec: { flag: string; description: string; min?: number }): OptionSpec<number | undefined> {
  return {
    ...spec,
    placeholder: '<n>',
    default: undefined,
    parse: (raw) => {
      if (!/^-?\d+$/.test(raw.trim())) throw new InvalidArgumentError(`expected an integer, got '${raw}'`);
      const value = Number(raw);
      if (spec.min !== undefined && value < spec.min) throw new InvalidArgumentError(`must be >= ${spec.min}, got ${value}`);
      return value;
    },
  };
}

/** A number flag with no default (undefined when not given). */
export function optionalFloatOption(spec: { flag: string; description: string; min?: number }): OptionSpec<number | undefined> {
  return {
    ...spec,
    placeholder: '<x>',
    default: undefined,
    parse: (raw) => {
      const value = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(value)) throw new InvalidArgumentError(`expected a number, got '${raw}'`);
      if (spec.min !== undefined && value < spec.min) throw new InvalidArgumentError(`must be >= ${spec.min}, got ${value}`);
      return value;
    },
  };
}

export function enumOption<T extends string>(spec: Omit<OptionSpec<T>, 'parse'> & { choices: readonly T[] }): OptionSpec<T> {
  return {
    placeholder: `<${spec.choices.join('|')}>`,
    ...spec,
    parse: (raw) => {
      if (!(spec.choices as readonly string[]).includes(raw)) fail(`expected one of ${spec.choices.join(', ')}, got '${raw}'`);
      return raw as T;
    },
  };
}

export function boolOption(spec: Omit<OptionSpec<boolean>, 'parse' | 'placeholder'>): OptionSpec<boolean> {
  return {
    ...spec,
    parse: (raw) => {
      const v = raw.trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(v)) return true;
      if (['0', 'false', 'no', 'off'].includes(v)) return false;
      return fail(`expected true or false, got '${raw}'`);
    },
  };
}

/** Comma-separated list; repeating the flag appends. */
export function listOption(spec: Omit<OptionSpec<string[]>, 'parse'>): OptionSpec<string[]> {
  return {
    placeholder: '<a,b,...>',
    ...spec,
    parse: (raw, previous) => {
      const items = raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
      const base = previous === spec.default ? [] : previous;
      return [...base, ...items];
    },
  };
}

/** Durations like `500ms`, `45s`, `2m`, `1h` or a plain number of milliseconds. */
export function durationOption(spec: Omit<OptionSpec<number>, 'parse'>): OptionSpec<number> {
  return { placeholder: '<duration>', ...spec, parse: (raw) => parseDurationMs(raw) };
}

export function parseDurationMs(raw: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(raw.trim());
  if (!m) return fail(`expected a duration such as 500ms, 45s, 2m, got '${raw}'`);
  const n = Number(m[1]);
  const unit = m[2] ?? 'ms';
  const factor = unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000;
  return Math.round(n * factor);
}

/** host:port (host may be empty for all interfaces, or a bracketed IPv6 address). */
export function addressOption(spec: Omit<OptionSpec<string>, 'parse'>): OptionSpec<string> {
  return {
    placeholder: '<host:port>',
    ...spec,
    parse: (raw) => {
      if (!/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9._-]*):\d{1,5}$/.test(raw)) fail(`expected host:port, got '${raw}'`);
      return raw;
    },
  };
}

function describeDefault(spec: OptionSpec<unknown>): string | undefined {
  if (spec.defaultLabel !== undefined) return spec.defaultLabel;
  if (spec.default === undefined) return undefined;
  if (Array.isArray(spec.default)) return spec.default.length === 0 ? undefined : spec.default.join(',');
  const value = spec.default;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** Adds every option of the schema to a commander command (flag, env var, default, parser). */
export function addOptions(command: Command, schema: OptionSchema): Command {
  for (const spec of Object.values(schema)) {
    const isBool = spec.placeholder === undefined && typeof spec.default === 'boolean';
    // Booleans take an optional value so that `--x`, `--x false` and FLEETCHAT_X=false all work.
    const placeholder = spec.placeholder ?? '<value>';
    const value = isBool ? '[bool]' : spec.preset !== undefined ? `[${placeholder.replace(/^<|>$/g, '')}]` : placeholder;
    const flags = `${spec.short ? `${spec.short}, ` : ''}${spec.flag} ${value}`;
    const option = new Option(flags, spec.description).env(envName(spec.flag));
    if (spec.preset !== undefined) option.preset(spec.preset);
    const label = describeDefault(spec);
    option.default(spec.default, label);
    if (isBool) {
      option.argParser((raw: string) => spec.parse(raw, spec.default));
      command.addOption(option);
      command.addOption(new Option(`--no-${spec.flag.replace(/^--/, '')}`).hideHelp());
    } else {
      option.argParser((raw: string, previous: unknown) => spec.parse(raw, previous));
      command.addOption(option);
    }
  }
  return command;
}

function camel(flag: string): string {
  return flag.replace(/^--/, '').replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Reads the parsed commander options back into the typed config of the schema. */
export function readConfig<S extends OptionSchema>(schema: S, opts: Record<string, unknown>): ConfigOf<S> {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(schema)) {
    const value = opts[camel(spec.flag)];
    out[key] = value === undefined ? spec.default : value;
  }
  return out as ConfigOf<S>;
}

/** Parses a schema from an argv-like list and an environment (tests and embedded use). */
export function parseConfig<S extends OptionSchema>(schema: S, argv: string[] = [], env: NodeJS.ProcessEnv = {}): ConfigOf<S> {
  const command = new Command('config').exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  addOptions(command, schema);
  const saved: Record<string, string | undefined> = {};
  for (const spec of Object.values(schema)) {
    const name = envName(spec.flag);
    saved[name] = process.env[name];
    if (env[name] === undefined) delete process.env[name];
    else process.env[name] = env[name];
  }
  try {
    command.parse(argv, { from: 'user' });
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
  return readConfig(schema, command.opts());
}
