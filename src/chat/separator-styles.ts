/**
 * FastChat's 23 separator styles as code: each one reproduces a branch of `Conversation.get_prompt()`
 * (fastchat/conversation.py) piece by piece, emitting segments instead of concatenating a string, so the
 * same code gives the prompt (the segments' concatenation) and the training mask.
 * Python's `if message:` is `filled(message)`: `None` and `""` both render as an open slot.
 */
import type { ConvMessage, SeparatorStyle } from './conv-template';
import { pyStr, pyStrip } from './python-strings';
import type { SegmentBuilder } from './segments';

/** What a style reads from the conversation. */
export interface StyleInput {
  readonly name: string;
  /** `system_template.format(system_message=...)`. */
  readonly systemPrompt: string;
  readonly systemMessage: string;
  readonly roles: readonly string[];
  readonly messages: readonly ConvMessage[];
  readonly sep: string | null;
  readonly sep2: string | null;
}

type StyleRenderer = (c: StyleInput, b: SegmentBuilder) => void;

function filled(text: string | null): text is string {
  return text !== null && text !== '';
}

/** `seps[i % 2]` with `seps = [sep, sep2]`. */
function sepAt(c: StyleInput, i: number): string {
  return pyStr(i % 2 === 0 ? c.sep : c.sep2);
}

/** The common shape: optional system prefix, then per message `role + mid + text + end` or `role + open`. */
interface TurnShape {
  /** Before the role (gemma's `<start_of_turn>`). */
  before?: string;
  mid: string;
  open: string;
  end: (c: StyleInput, i: number) => string;
}

function renderTurns(c: StyleInput, b: SegmentBuilder, shape: TurnShape): void {
  const before = shape.before ?? '';
  c.messages.forEach(([role, text], i) => {
    if (filled(text)) {
      b.header(i, before + role + shape.mid);
      b.reply(i, text);
      b.reply(i, shape.end(c, i));
    } else {
      b.header(i, before + role + shape.open);
    }
  });
}

const singleSep = (c: StyleInput): string => pyStr(c.sep);

const addColonSingle: StyleRenderer = (c, b) => {
  b.system(c.systemPrompt + pyStr(c.sep));
  renderTurns(c, b, { mid: ': ', open: ':', end: singleSep });
};

const addColonTwo: StyleRenderer = (c, b) => {
  b.system(c.systemPrompt + pyStr(c.sep));
  renderTurns(c, b, { mid: ': ', open: ':', end: sepAt });
};

const addColonSpaceSingle: StyleRenderer = (c, b) => {
  b.system(c.systemPrompt + pyStr(c.sep));
  renderTurns(c, b, { mid: ': ', open: ': ', end: singleSep });
};

const addNewLineSingle: StyleRenderer = (c, b) => {
  b.system(c.systemPrompt === '' ? '' : c.systemPrompt + pyStr(c.sep));
  renderTurns(c, b, { mid: '\n', open: '\n', end: singleSep });
};

const noColonSingle: StyleRenderer = (c, b) => {
  b.system(c.systemPrompt);
  renderTurns(c, b, { mid: '', open: '', end: singleSep });
};

const noColonTwo: StyleRenderer = (c, b) => {
  b.system(c.systemPrompt);
  renderTurns(c, b, { mid: '', open: '', end: sepAt });
};

const rwkv: StyleRenderer = (c, b) => {
  b.system(c.systemPrompt);
  c.messages.forEach(([role, text], i) => {
    if (!filled(text)) return b.header(i, `${role}:`);
    b.header(i, `${role}: `);
    b.reply(i, text.replaceAll('\r\n', '\n').replaceAll('\n\n', '\n'));
    b.reply(i, '\n\n');
  });
};

const llama2: StyleRenderer = (c, b) => {
  b.system(c.systemMessage ? c.systemPrompt : '[INST] ');
  c.messages.forEach(([, text], i) => {
    const tag = c.roles[i % 2];
    if (!filled(text)) return b.header(i, tag);
    if (i === 0) {
      b.reply(i, text);
      b.reply(i, ' ');
      return;
    }
    b.header(i, `${tag} `);
    b.reply(i, text);
    b.reply(i, sepAt(c, i));
  });
};

const llama3: StyleRenderer = (c, b) => {
  b.system(`<|begin_of_text|>${c.systemMessage ? c.systemPrompt : ''}`);
  c.messages.forEach(([role, text], i) => {
    b.header(i, `<|start_header_id|>${role}<|end_header_id|>\n\n`);
    if (!filled(text)) return;
    b.reply(i, pyStrip(text));
    b.reply(i, '<|eot_id|>');
  });
};

const chatglm: StyleRenderer = (c, b) => {
  const roundAdd = c.name === 'chatglm2' ? 1 : 0;
  const sep = pyStr(c.sep);
  b.system(c.systemPrompt ? c.systemPrompt + sep : '');
  c.messages.forEach(([role, text], i) => {
    const round = i % 2 === 0 ? `[Round ${Math.floor(i / 2) + roundAdd}]${sep}` : '';
    b.header(i, `${round}${role}：`);
    if (!filled(text)) return;
    b.reply(i, text);
    b.reply(i, sep);
  });
};

const chatml: StyleRenderer = (c, b) => {
  b.system(c.systemPrompt === '' ? '' : `${c.systemPrompt}${pyStr(c.sep)}\n`);
  renderTurns(c, b, { mid: '\n', open: '\n', end: (s) => `${pyStr(s.sep)}\n` });
};

const chatglm3: StyleRenderer = (c, b) => {
  b.system(c.systemMessage ? c.systemPrompt : '');
  renderTurns(c, b, { mid: '\n', open: '', end: () => '' });
};

const chatintern: StyleRenderer = (c, b) => {
  b.system(c.systemPrompt);
  c.messages.forEach(([role, text], i) => {
    const start = i % 2 === 0 ? '<s>' : '';
    b.header(i, `${start}${role}:`);
    if (!filled(text)) return;
    b.reply(i, text);
    b.reply(i, `${sepAt(c, i)}\n`);
  });
};

const dolly: StyleRenderer = (c, b) => {
  b.system(c.systemPrompt);
  renderTurns(c, b, { mid: ':\n', open: ':\n', end: (s, i) => sepAt(s, i) + (i % 2 === 1 ? '\n\n' : '') });
};

const phoenix: StyleRenderer = (c, b) => {
  b.system(c.systemPrompt);
  renderTurns(c, b, { mid: ': <s>', open: ': <s>', end: () => '</s>' });
};

const robin: StyleRenderer = (c, b) => {
  b.system(c.systemPrompt + pyStr(c.sep));
  renderTurns(c, b, { mid: ':\n', open: ':\n', end: singleSep });
};

const falconChat: StyleRenderer = (c, b) => {
  b.system(c.systemMessage ? c.systemPrompt + pyStr(c.sep) : '');
  renderTurns(c, b, { mid: ': ', open: ':', end: singleSep });
};

const metamath: StyleRenderer = (c, b) => {
  b.system(c.systemPrompt === '' ? '' : c.systemPrompt + pyStr(c.sep));
  c.messages.forEach(([role, text], i) => {
    // sep2 prefixes the assistant's reply; only the user's text is followed by sep.
    const start = i % 2 === 0 ? ':\n' : `: ${pyStr(c.sep2)}`;
    b.header(i, role + start);
    if (!filled(text)) return;
    b.reply(i, text);
    b.reply(i, i % 2 === 0 ? pyStr(c.sep) : '');
  });
};

const deepseekChat: StyleRenderer = (c, b) => {
  b.system(c.systemPrompt);
  renderTurns(c, b, { mid: ': ', open: ':', end: sepAt });
};

const yuan2: StyleRenderer = (c, b) => {
  b.system(c.systemMessage ? c.systemPrompt + pyStr(c.sep2) : '');
  c.messages.forEach(([, text], i) => {
    if (!filled(text)) return;
    b.reply(i, text);
    b.reply(i, '<n>');
  });
  // Python's rstrip("<n>") strips any trailing '<', 'n' or '>' — also from the message text itself.
  b.rstripChars('<n>');
  const last = c.messages.length - 1;
  if (last >= 0) b.header(last, pyStr(c.sep));
  else b.system(pyStr(c.sep));
};

const gemma: StyleRenderer = (c, b) => {
  b.system('<bos>');
  renderTurns(c, b, { before: '<start_of_turn>', mid: '\n', open: '\n', end: singleSep });
};

const cllm: StyleRenderer = (c, b) => {
  b.system(c.systemPrompt + pyStr(c.sep));
  const start = Math.max(0, c.messages.length - 2);
  c.messages.slice(start).forEach(([role, text], j) => {
    const i = start + j;
    if (!filled(text)) return b.header(i, `${role}:`);
    b.header(i, `${role}: `);
    b.reply(i, text);
    b.reply(i, j % 2 === 0 ? pyStr(c.sep) : pyStr(c.sep2));
  });
};

const defaultStyle: StyleRenderer = (c, b) => {
  b.system(`${c.systemPrompt}\n`);
  renderTurns(c, b, { mid: ': ', open: ':', end: () => '\n' });
};

export const STYLE_RENDERERS: Readonly<Record<SeparatorStyle, StyleRenderer>> = {
  ADD_COLON_SINGLE: addColonSingle,
  ADD_COLON_TWO: addColonTwo,
  ADD_COLON_SPACE_SINGLE: addColonSpaceSingle,
  NO_COLON_SINGLE: noColonSingle,
  NO_COLON_TWO: noColonTwo,
  ADD_NEW_LINE_SINGLE: addNewLineSingle,
  LLAMA2: llama2,
  LLAMA3: llama3,
  CHATGLM: chatglm,
  CHATML: chatml,
  CHATINTERN: chatintern,
  DOLLY: dolly,
  RWKV: rwkv,
  PHOENIX: phoenix,
  ROBIN: robin,
  FALCON_CHAT: falconChat,
  CHATGLM3: chatglm3,
  DEEPSEEK_CHAT: deepseekChat,
  METAMATH: metamath,
  YUAN2: yuan2,
  GEMMA: gemma,
  CLLM: cllm,
  DEFAULT: defaultStyle,
};
