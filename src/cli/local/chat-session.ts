/**
 * The terminal chat loop of `fleetchat chat` (like FastChat's serve.cli): multi-turn, streaming, with
 * FastChat's commands `!!exit`, `!!reset`, `!!remove` (drop the last exchange) and `!!regen` (answer again).
 * Input and output are streams so the loop can be driven by a test or another program.
 */
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { asFleetError } from '../../common/errors';
import type { GenerationRuntime } from '../../worker/runtime';
import type { SamplingLayer } from '../../worker/sampling/params';
import { chatPrompt, generateOnce } from './run-once';

export interface ChatSessionOptions {
  runtime: GenerationRuntime;
  sampling: SamplingLayer;
  input: Readable;
  output: Writable;
  systemMessage?: string;
}

type Turn = { role: 'system' | 'user' | 'assistant'; content: string };

export async function runChatSession(options: ChatSessionOptions): Promise<void> {
  const { runtime, output } = options;
  const history: Turn[] = options.systemMessage ? [{ role: 'system', content: options.systemMessage }] : [];
  const rl = createInterface({ input: options.input, terminal: false });
  const write = (s: string): boolean => output.write(s);
  write(`chatting with ${runtime.info.modelNames[0]} (template: ${runtime.info.convTemplate}); commands: !!exit !!reset !!remove !!regen\n`);
  const answer = async (): Promise<void> => {
    write('assistant: ');
    try {
      const result = await generateOnce(runtime, chatPrompt(runtime, history), options.sampling, (d) => write(d));
      history.push({ role: 'assistant', content: result.text.trim() });
      write(result.finishReason === 'length' ? ' [max tokens reached]\n' : '\n');
    } catch (err) {
      history.pop();
      write(`\n[error: ${asFleetError(err).message}]\n`);
    }
  };
  write('user: ');
  for await (const raw of rl) {
    const line = raw.trim();
    if (line === '!!exit') break;
    if (line === '!!reset') {
      history.splice(options.systemMessage ? 1 : 0);
      write('[conversation reset]\n');
    } else if (line === '!!remove') {
      if (history.at(-1)?.role === 'assistant') history.splice(-2);
      write('[last exchange removed]\n');
    } else if (line === '!!regen') {
      if (history.at(-1)?.role === 'assistant') {
        history.pop();
        await answer();
      }
    } else if (line !== '') {
      history.push({ role: 'user', content: line });
      await answer();
    }
    write('user: ');
  }
  rl.close();
  write('\n');
}
