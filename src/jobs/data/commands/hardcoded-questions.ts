/** `fleetchat jobs hardcoded-questions` (fastchat/data/hardcoded_questions.py) for any model name and organisation. */
import { stringOption, type ConfigOf } from '../../../common/config';
import { serializeRecord, resolveOutputFormat } from '../../io/record-format';
import { RecordWriter } from '../../io/record-writer';
import { identityRecords } from '../hardcoded/identity';
import { OUTPUT_OPTIONS } from '../options';

export const HARDCODED_QUESTIONS_OPTIONS = {
  outFile: stringOption({ flag: '--out-file', description: 'output file (alias --out)', default: 'hardcoded.json', placeholder: '<path>' }),
  name: stringOption({ flag: '--name', description: "the model's name in the answers", default: 'Vicuna', placeholder: '<name>' }),
  org: stringOption({ flag: '--org', description: 'the organisation that trained it', default: 'Large Model Systems Organization (LMSYS)', placeholder: '<org>' }),
  outFormat: OUTPUT_OPTIONS.outFormat,
};

export async function runHardcodedQuestions(config: ConfigOf<typeof HARDCODED_QUESTIONS_OPTIONS>): Promise<number> {
  const format = resolveOutputFormat(config.outFile, config.outFormat);
  const writer = await RecordWriter.open(config.outFile, format);
  for (const record of identityRecords(config.name, config.org)) await writer.write(serializeRecord(record, format));
  await writer.close();
  return writer.written;
}
