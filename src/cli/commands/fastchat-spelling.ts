/**
 * FastChat's train.py spells its flags with underscores (`--fsdp_transformer_layer_cls_to_wrap`,
 * `--per_device_train_batch_size`, `--gradient_checkpointing True`). `jobs train` accepts those spellings too: each
 * dashed flag of the schema gets a hidden underscore twin with the same parser, folded back into the dashed option.
 */
import { Option, type Command } from 'commander';
import type { OptionSchema } from '../../common/config';

const twinName = (flag: string): string => `${flag.slice(0, 2)}${flag.slice(2).replace(/-/g, '_')}`;
const attribute = (flag: string): string => flag.replace(/^--/, '').replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

export function addUnderscoreSpellings(command: Command, schema: OptionSchema): void {
  for (const spec of Object.values(schema)) {
    if (!spec.flag.slice(2).includes('-')) continue;
    const isBool = spec.placeholder === undefined && typeof spec.default === 'boolean';
    const value = isBool || spec.preset !== undefined ? '[value]' : '<value>';
    const twin = new Option(`${twinName(spec.flag)} ${value}`).hideHelp().argParser((raw: string, previous: unknown) => spec.parse(raw, previous));
    if (isBool) twin.preset('true');
    else if (spec.preset !== undefined) twin.preset(spec.preset);
    command.addOption(twin);
  }
}

/** The options commander parsed, with each underscore twin's value moved onto its dashed option. */
export function foldUnderscoreSpellings(opts: Record<string, unknown>, schema: OptionSchema): Record<string, unknown> {
  const out = { ...opts };
  for (const spec of Object.values(schema)) {
    if (!spec.flag.slice(2).includes('-')) continue;
    const twin = twinName(spec.flag).slice(2);
    if (out[twin] !== undefined) {
      out[attribute(spec.flag)] = out[twin];
      delete out[twin];
    }
  }
  return out;
}
