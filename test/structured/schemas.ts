/**
 * Assorted JSON schemas for the structured-output suites: nested objects, arrays, enums, required fields, numbers
 * with bounds, optional fields, anyOf, $ref. Strings are bounded so that even a random-weight model ends them.
 */
export const SCHEMAS: Array<Record<string, unknown>> = [
  { type: 'object', properties: { name: { type: 'string', maxLength: 12 }, age: { type: 'integer', minimum: 0, maximum: 120 } }, required: ['name', 'age'] },
  { type: 'object', properties: { ok: { type: 'boolean' }, score: { type: 'number', minimum: -5, maximum: 5 } }, required: ['ok', 'score'] },
  { type: 'object', properties: { color: { enum: ['red', 'green', 'blue'] }, shade: { type: 'integer', minimum: 1, maximum: 9 } }, required: ['color'] },
  { type: 'array', items: { type: 'integer', minimum: 0, maximum: 99 }, minItems: 1, maxItems: 4 },
  {
    type: 'object',
    properties: {
      user: { type: 'object', properties: { id: { type: 'integer', minimum: 1, maximum: 1000 }, tags: { type: 'array', items: { enum: ['a', 'b', 'c'] }, maxItems: 3 } }, required: ['id', 'tags'] },
      active: { type: 'boolean' },
    },
    required: ['user', 'active'],
  },
  { type: 'object', properties: { kind: { const: 'point' }, x: { type: 'integer', minimum: -10, maximum: 10 }, y: { type: 'integer', minimum: -10, maximum: 10 } }, required: ['kind', 'x', 'y'] },
  { type: 'object', properties: { value: { anyOf: [{ type: 'integer', minimum: 0, maximum: 9 }, { type: 'boolean' }, { type: 'null' }] } }, required: ['value'] },
  { $defs: { item: { type: 'object', properties: { sku: { type: 'string', pattern: '^[A-Z]{3}-[0-9]{2}$' }, qty: { type: 'integer', minimum: 1, maximum: 5 } }, required: ['sku', 'qty'] } }, type: 'object', properties: { items: { type: 'array', items: { $ref: '#/$defs/item' }, minItems: 1, maxItems: 2 } }, required: ['items'] },
  { type: 'object', properties: { title: { type: 'string', minLength: 2, maxLength: 8 }, rating: { type: 'number', minimum: 0, maximum: 1 }, note: { type: ['string', 'null'], maxLength: 6 } }, required: ['title', 'rating', 'note'] },
  { type: 'object', properties: { matrix: { type: 'array', items: { type: 'array', items: { type: 'integer', minimum: 0, maximum: 3 }, minItems: 2, maxItems: 2 }, minItems: 2, maxItems: 2 } }, required: ['matrix'] },
];
