/**
 * `date` and `ipv4` are enforced exactly: xgrammar 0.1.27's own grammars admit 2023-02-30 and 01.2.3.4, which a JSON
 * Schema validator (ajv-formats) rejects — found by the SmolLM2 suite. Every date of several years (leap and not,
 * centuries included) and octets around every boundary must be accepted by the compiled grammar exactly when ajv
 * accepts them.
 */
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { checkJsonSchema } from '../../src/worker/grammar/schema-check';
import { jsonSchemaEbnf } from '../../src/worker/grammar/schema-ebnf';
import { xgrammar } from '../../src/worker/grammar/xgrammar';

const ajv = addFormats(new Ajv({ strict: false }));

async function disagreements(format: string, values: string[]): Promise<string[]> {
  const schema = { type: 'string', format };
  const grammar = await xgrammar().Grammar.fromEBNF(await jsonSchemaEbnf(checkJsonSchema(JSON.stringify(schema), 'response_format')));
  const out: string[] = [];
  for (const v of values) {
    const accepted = await xgrammar().Testings.isGrammarAcceptString(grammar, JSON.stringify(v));
    if (accepted !== ajv.validate(schema, v)) out.push(`${v}: grammar ${accepted}`);
  }
  grammar.dispose();
  return out;
}

describe('exact date and ipv4 formats', () => {
  it('date: every month and day 00–32 of leap and common years, centuries included', async () => {
    const values: string[] = [];
    for (const year of ['2023', '2024', '1900', '2000', '0000', '2100', '1996', '0400']) {
      for (let m = 0; m <= 13; m++) for (let d = 0; d <= 32; d++) values.push(`${year}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`);
    }
    expect(await disagreements('date', values)).toEqual([]);
  }, 60_000);

  it('ipv4: octets around every boundary, with and without leading zeros, in every position', async () => {
    const values: string[] = [];
    for (const o of ['0', '00', '1', '01', '9', '10', '099', '99', '100', '199', '200', '249', '250', '255', '256', '300', '001', '1000']) {
      values.push(`${o}.1.2.3`, `1.${o}.2.3`, `1.2.${o}.3`, `1.2.3.${o}`);
    }
    values.push('1.2.3', '1.2.3.4.5', '');
    expect(await disagreements('ipv4', values)).toEqual([]);
  }, 60_000);
});
