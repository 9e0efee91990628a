/**
 * String formats whose xgrammar 0.1.27 grammar is looser than the format: `date` admits days a month does not have
 * (2023-02-30, 2023-02-29) and `ipv4` admits leading zeros (01.2.3.4), both invalid for a JSON Schema validator.
 * Where a node has no pattern of its own, such a format is rewritten into an exact pattern (leap years included).
 */
const DAY_31 = '(0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])';
const DAY_30 = '(0[469]|11)-(0[1-9]|[12][0-9]|30)';
const FEB = '02-(0[1-9]|1[0-9]|2[0-8])';
const LEAP_YEAR = '([0-9][0-9](0[48]|[2468][048]|[13579][26])|(0[048]|[2468][048]|[13579][26])00)';
const OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';

export const EXACT_FORMAT_PATTERNS: Readonly<Record<string, string>> = {
  date: `^([0-9]{4}-(${DAY_31}|${DAY_30}|${FEB})|${LEAP_YEAR}-02-29)$`,
  ipv4: `^(${OCTET}\\.){3}${OCTET}$`,
};

/** Rewrites (in place) `format: date | ipv4` without a pattern into the exact pattern. */
export function exactFormats(node: unknown): void {
  if (Array.isArray(node)) {
    node.forEach(exactFormats);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const obj = node as Record<string, unknown>;
  const exact = typeof obj.format === 'string' ? EXACT_FORMAT_PATTERNS[obj.format] : undefined;
  if (exact !== undefined && obj.pattern === undefined) {
    delete obj.format;
    obj.pattern = exact;
  }
  for (const [key, child] of Object.entries(obj)) {
    if (key !== 'enum' && key !== 'const' && key !== 'default' && key !== 'examples') exactFormats(child);
  }
}
