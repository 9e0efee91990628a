/** `fleetchat client chat|models`: talk to a gateway over its public gRPC API (see README "gRPC API"). */
import type { Command } from 'commander';
import {
  addOptions, boolOption, durationOption, optionalFloatOption, optionalIntOption, optionalStringOption, readConfig, stringOption,
} from '../../common/config';
import { FleetError } from '../../common/errors';
import { FinishReason, ModelKind } from '../../common/gen/worker';
import { unary } from '../../common/grpc/client';
import { authMetadata, connect, streamChat } from '../client/inference-client';

const connectionOptions = {
  address: stringOption({ flag: '--address', placeholder: '<host:port>', description: 'the gateway\'s gRPC address (--grpc-listen)', default: '127.0.0.1:8001' }),
  apiKey: optionalStringOption({ flag: '--api-key', description: 'API key, sent as metadata "authorization: Bearer <key>"' }),
  tls: boolOption({ flag: '--tls', description: 'connect with TLS (the system\'s CA roots unless --ca-cert)', default: false }),
  caCert: stringOption({ flag: '--ca-cert', placeholder: '<file>', description: 'PEM CA certificate of the gateway (implies --tls)', default: '' }),
  timeout: durationOption({ flag: '--timeout', description: 'deadline of the call', default: 600_000, defaultLabel: '10m' }),
};

const chatOptions = {
  ...connectionOptions,
  model: stringOption({ flag: '--model', description: 'model name (fleetchat client models lists them)', default: '' }),
  system: optionalStringOption({ flag: '--system', description: 'system message' }),
  maxTokens: optionalIntOption({ flag: '--max-tokens', description: 'most tokens to generate', min: 1 }),
  temperature: optionalFloatOption({ flag: '--temperature', description: 'sampling temperature (0 = greedy)', min: 0 }),
  seed: optionalIntOption({ flag: '--seed', description: 'sampling seed' }),
};

async function readStdin(): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of process.stdin) parts.push(chunk as Buffer);
  return Buffer.concat(parts).toString('utf8').trim();
}

export function register(program: Command): void {
  const client = program.command('client').description('a client of a gateway\'s public gRPC API (fleetchat.v1.Inference)');

  const chat = client.command('chat').argument('[message...]', 'the user message (default: read from stdin)').description('stream one chat completion to stdout (Ctrl-C cancels it on the worker)');
  addOptions(chat, chatOptions).action(async (words: string[], opts: Record<string, unknown>) => {
    const config = readConfig(chatOptions, opts);
    if (config.model === '') throw new FleetError('invalid_request', '--model is required (fleetchat client models lists the served models)');
    const text = words.length > 0 ? words.join(' ') : await readStdin();
    if (text === '') throw new FleetError('invalid_request', 'give the message as arguments or on stdin');
    const stub = connect(config);
    const messages = [...(config.system ? [{ role: 'system', content: config.system }] : []), { role: 'user', content: text }]
      .map((m) => ({ ...m, name: '', toolCallId: '', toolCallsJson: '' }));
    const params = { maxTokens: config.maxTokens, temperature: config.temperature, seed: config.seed, stop: [], stopTokenIds: [], logitBias: {}, ignoreEos: false, echo: false, includeStopStrInOutput: false };
    const run = streamChat(stub, { model: config.model, messages, params, n: 0, convTemplate: '', requestId: '', toolsJson: '', toolOptions: undefined }, config.apiKey, config.timeout, (t) => process.stdout.write(t));
    const onInterrupt = (): void => run.cancel();
    process.once('SIGINT', onInterrupt);
    try {
      const last = await run.done;
      process.stdout.write('\n');
      if (last.finishReason === FinishReason.FINISH_REASON_LENGTH) process.stderr.write('[stopped at --max-tokens or the context length]\n');
    } catch (err) {
      if (err instanceof FleetError && err.kind === 'cancelled') {
        process.stdout.write('\n');
        process.stderr.write('[cancelled]\n');
        process.exitCode = 130;
        return;
      }
      throw err;
    } finally {
      process.off('SIGINT', onInterrupt);
      stub.close();
    }
  });

  const models = client.command('models').description('list the models the gateway serves');
  addOptions(models, connectionOptions).action(async (opts: Record<string, unknown>) => {
    const config = readConfig(connectionOptions, opts);
    const stub = connect(config);
    try {
      const res = await unary(stub.listModels.bind(stub), {}, authMetadata(config.apiKey), config.timeout);
      for (const m of res.models) process.stdout.write(`${m.name}\t${m.kind === ModelKind.MODEL_KIND_EMBEDDING ? 'embedding' : 'generation'}\tcontext ${m.contextLength}\tworkers ${m.workers}\n`);
    } finally {
      stub.close();
    }
  });
}
