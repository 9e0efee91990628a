/**
 * Python's `str.format(**values)` for the judge prompt templates: `{name}` is replaced by the value,
 * `{{` / `}}` are literal braces, substituted text is never re-scanned. Field forms other than a
 * plain name (`{0}`, `{a.b}`, `{a!r}`, `{a:>5}`) are rejected, as is a name with no value.
 */
import { FleetError } from '../../common/errors';

type TemplatePart = { literal: string } | { field: string };

export function formatPython(template: string, values: Readonly<Record<string, string>>): string {
  return parseTemplate(template)
    .map((part) => ('literal' in part ? part.literal : valueOf(part.field, values)))
    .join('');
}

/** The distinct field names a template uses, in order of first use. */
export function templateFields(template: string): string[] {
  const names = parseTemplate(template).flatMap((part) => ('field' in part ? [part.field] : []));
  return [...new Set(names)];
}

function parseTemplate(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let literal = '';
  let i = 0;
  while (i < template.length) {
    const ch = template[i];
    const doubled = (ch === '{' || ch === '}') && template[i + 1] === ch;
    if (doubled) {
      literal += ch;
      i += 2;
      continue;
    }
    if (ch === '}') throw templateError(`single '}' at offset ${i}`);
    if (ch !== '{') {
      literal += ch;
      i += 1;
      continue;
    }
    const end = template.indexOf('}', i + 1);
    if (end < 0) throw templateError(`unclosed '{' at offset ${i}`);
    const field = template.slice(i + 1, end);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(field)) throw templateError(`unsupported field '{${field}}' (only {name} is supported)`);
    parts.push({ literal }, { field });
    literal = '';
    i = end + 1;
  }
  parts.push({ literal });
  return parts;
}

function valueOf(field: string, values: Readonly<Record<string, string>>): string {
  if (!Object.prototype.hasOwnProperty.call(values, field)) throw templateError(`no value for field '{${field}}'`);
  return values[field];
}

function templateError(message: string): FleetError {
  return new FleetError('invalid_request', `judge prompt template: ${message}`);
}
