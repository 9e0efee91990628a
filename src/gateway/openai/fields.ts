/** Typed readers for request-body fields: each names the field and the reason when it is invalid. */
import { FleetError } from '../../common/errors';
import { checkLimit, checkRequestLimit, type LimitedField, type RequestLimits } from '../../common/request-limits';

export type Body = Record<string, unknown>;

export function invalid(param: string, message: string): FleetError {
  return new FleetError('invalid_request', `${param}: ${message}`, { param });
}

export function asBody(value: unknown): Body {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new FleetError('invalid_request', 'the request body must be a JSON object', { code: 'invalid_body' });
  }
  return value as Body;
}

/** Rejects fields outside `allowed`, naming them (nothing is silently dropped). */
export function rejectUnknown(body: Body, allowed: ReadonlySet<string>, endpoint: string): void {
  const unknown = Object.keys(body).filter((k) => !allowed.has(k));
  if (unknown.length > 0) {
    throw new FleetError('invalid_request', `${unknown.map((k) => `'${k}'`).join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not supported by ${endpoint} (see the README's list of supported fields)`, { param: unknown[0], code: 'unsupported_parameter' });
  }
}

/** Whether the body sets any of `keys` (null counts as unset). */
export function given(body: Body, keys: readonly string[]): boolean {
  return keys.some((k) => body[k] !== undefined && body[k] !== null);
}

export function optNumber(body: Body, key: string, min: number, max: number): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(key, `must be a number, got ${JSON.stringify(v)}`);
  if (v < min || v > max) throw invalid(key, `must be between ${min} and ${max}, got ${v}`);
  return v;
}

/** A numeric field checked against the shared request-limits table (the worker checks the same numbers). */
export function optLimited(body: Body, key: LimitedField): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number') throw invalid(key, `must be a number, got ${JSON.stringify(v)}`);
  return checkLimit(key, v);
}

export function optInt(body: Body, key: string, min: number, max: number): number | undefined {
  const v = optNumber(body, key, min, max);
  if (v !== undefined && !Number.isInteger(v)) throw invalid(key, `must be an integer, got ${v}`);
  return v;
}

export function optBool(body: Body, key: string): boolean | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw invalid(key, `must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

export function optString(body: Body, key: string): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalid(key, `must be a string, got ${JSON.stringify(v)}`);
  return v;
}

export function reqString(body: Body, key: string): string {
  const v = optString(body, key);
  if (v === undefined || v === '') throw invalid(key, 'is required');
  return v;
}

export function optObject(body: Body, key: string): Body | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw invalid(key, 'must be an object');
  return v as Body;
}

/** `stop`: a string or an array of non-empty strings, within the count and length limits. */
export function optStop(body: Body, limits: RequestLimits): string[] {
  const v = body.stop;
  if (v === undefined || v === null) return [];
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || list.some((s) => typeof s !== 'string')) throw invalid('stop', 'must be a string or an array of strings');
  checkRequestLimit(limits, 'maxStopStrings', list.length, 'stop', 'stop strings');
  (list as string[]).forEach((s, i) => {
    if (s.length === 0) throw invalid('stop', 'stop sequences must not be empty');
    checkRequestLimit(limits, 'maxStopChars', s.length, typeof v === 'string' ? 'stop' : `stop[${i}]`, 'characters');
  });
  return list as string[];
}

/** `logit_bias`: {"token id": bias in [-100, 100]}. */
export function optLogitBias(body: Body, limits: RequestLimits): Record<number, number> {
  const v = optObject(body, 'logit_bias');
  const out: Record<number, number> = {};
  if (!v) return out;
  const entries = Object.entries(v);
  checkRequestLimit(limits, 'maxLogitBiasEntries', entries.length, 'logit_bias', 'entries');
  for (const [key, bias] of entries) {
    if (!/^\d+$/.test(key)) throw invalid('logit_bias', `keys must be token ids, got '${key}'`);
    if (typeof bias !== 'number') throw invalid('logit_bias', `bias for token ${key} must be a number`);
    out[Number(key)] = checkLimit('logit_bias', bias);
  }
  return out;
}
