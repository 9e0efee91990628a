#!/usr/bin/env node
// Generates src/chat/fastchat-templates.ts (FastChat's registered conversation templates as TypeScript data)
// from FastChat's own dump test/fixtures/golden/conv_templates.json. Run once when that dump changes:
//   node scripts/gen-conv-templates.mjs
// The product never reads the fixture at runtime; it imports the generated file.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'test/fixtures/golden/conv_templates.json');
const target = join(root, 'src/chat/fastchat-templates.ts');
const dump = JSON.parse(readFileSync(source, 'utf8'));

function fail(message) {
  throw new Error(`${source}: ${message}`);
}

function convert(t) {
  if (typeof t.name !== 'string' || !Array.isArray(t.roles) || t.roles.length < 2) fail(`bad template ${JSON.stringify(t.name)}`);
  if (t.sep_style !== null && !dump.separator_styles.includes(t.sep_style)) fail(`${t.name}: unknown style ${t.sep_style}`);
  return {
    name: t.name,
    systemTemplate: t.system_template,
    systemMessage: t.system_message,
    systemMessageVision: t.system_message_vision ?? '',
    roles: t.roles,
    messages: t.messages.map(([role, text]) => [role, text]),
    offset: t.offset,
    sepStyle: t.sep_style,
    sep: t.sep,
    sep2: t.sep2,
    stopStr: t.stop_str,
    stopTokenIds: t.stop_token_ids,
    maxImageSizeMb: t.max_image_size_mb,
  };
}

const templates = dump.templates.map(convert);
const names = new Set();
for (const t of templates) {
  if (names.has(t.name)) fail(`duplicate template ${t.name}`);
  names.add(t.name);
}

const header = `/**
 * FastChat's registered conversation templates, as data (GENERATED — do not edit by hand).
 * Source: ${dump.source} at ${dump.commit} (fschat ${dump.fastchat_version}, Apache-2.0, see
 * test/fixtures/golden/LICENSE-FastChat). Regenerate with \`node scripts/gen-conv-templates.mjs\`.
 * This file is long because it is data: ${templates.length} templates in FastChat's registration order.
 */
import type { ConvTemplate, SeparatorStyle } from './conv-template';

/** FastChat's SeparatorStyle enum, in declaration order (the enum value is the index + 1). */
export const SEPARATOR_STYLE_NAMES: readonly SeparatorStyle[] = ${JSON.stringify(dump.separator_styles)};

export const FASTCHAT_TEMPLATES: readonly ConvTemplate[] = [
`;
const body = templates.map((t) => `  ${JSON.stringify(t)},\n`).join('');
writeFileSync(target, `${header}${body}];\n`);
process.stdout.write(`wrote ${templates.length} templates to ${target}\n`);
