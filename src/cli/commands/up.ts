/** `fleetchat up` (and `npm start`): controller + worker(s) + gateway on 127.0.0.1 in one command. */
import type { Command } from 'commander';
import { homedir, availableParallelism } from 'node:os';
import { join } from 'node:path';
import { addOptions, boolOption, enumOption, intOption, listOption, readConfig, stringOption, parseConfig } from '../../common/config';
import { createLogger } from '../../common/log';
import { onShutdown } from '../../common/shutdown';
import { controllerOptions, startController } from '../../controller/main';
import { gatewayOptions, startGateway } from '../../gateway/main';
import { startWorker, workerOptions, type RunningWorker } from '../../worker/main';
import { startEndpointWorkers } from '../../worker/endpoint-workers';
import { UPSTREAM_APIS } from '../../worker/adapter/dialects';
import { workerDefaultModel } from './worker';

const upOptions = {
  model: listOption({ flag: '--model', description: 'model to serve (directory or hf:ORG/NAME), repeatable; default: the embedded model', default: [] }),
  port: intOption({ flag: '--port', description: 'gateway HTTP port on 127.0.0.1', default: 8000, min: 0, max: 65535 }),
  grpcPort: intOption({ flag: '--grpc-port', description: 'gateway gRPC API port (fleetchat.v1.Inference) on the same host; -1 = off', default: 8001, min: -1, max: 65535 }),
  host: stringOption({ flag: '--host', description: 'gateway bind address', default: '127.0.0.1' }),
  maxConcurrency: intOption({ flag: '--max-concurrency', description: 'running sequences per worker', default: 16, min: 1 }),
  threads: intOption({ flag: '--threads', description: 'onnxruntime threads per worker', default: availableParallelism(), min: 1 }),
  cacheDir: stringOption({ flag: '--cache-dir', description: 'model cache', default: join(homedir(), '.cache', 'fleetchat') }),
  device: stringOption({ flag: '--device', placeholder: '<auto|cpu|cuda[:N]|webgpu>', description: 'where the workers run their models (see fleetchat worker --help)', default: 'cpu' }),
  allowTf32: boolOption({ flag: '--allow-tf32', description: 'let CUDA use TF32 matrix math', default: false }),
  apiKeys: listOption({ flag: '--api-keys', description: 'API keys the gateway accepts (empty = no auth)', default: [] }),
  logLevel: stringOption({ flag: '--log-level', description: 'log level', default: 'info' }),
  engine: enumOption({ flag: '--engine', description: 'onnx = serve --model with fleetchat\'s engine; openai = also serve the OpenAI-compatible server at --upstream', default: 'onnx', choices: ['onnx', 'openai'] as const }),
  upstream: stringOption({ flag: '--upstream', description: 'URL of an OpenAI-compatible server to serve as a worker (with --engine openai)', default: '' }),
  upstreamModel: stringOption({ flag: '--upstream-model', description: 'model name sent upstream (default: the upstream\'s first model)', default: '' }),
  upstreamApi: enumOption({ flag: '--upstream-api', description: 'the upstream\'s dialect (see fleetchat worker --help)', default: 'auto', choices: UPSTREAM_APIS }),
  apiKeyEnv: stringOption({ flag: '--api-key-env', description: 'environment variable holding the upstream API key', default: '' }),
  upstreamNames: listOption({ flag: '--upstream-names', description: 'names the upstream model is served under (default: its upstream name)', default: [] }),
  inProcess: boolOption({ flag: '--in-process', description: 'the gateway calls the workers of this process in-process, without gRPC (--no-in-process: over their gRPC ports, as separate processes do)', default: true }),
  apiEndpointFile: stringOption({ flag: '--api-endpoint-file', description: 'FastChat api_endpoint_file: serve its hosted models as workers too', default: '' }),
};

type UpConfig = ReturnType<typeof readConfig<typeof upOptions>>;

/** Adapter workers of `up`: the --upstream server and the endpoint file's entries. */
async function startExternalWorkers(config: UpConfig, controllerAddress: string, logger: ReturnType<typeof createLogger>): Promise<RunningWorker[]> {
  const base = ['--controller', controllerAddress, '--listen', '127.0.0.1:0', '--metrics-listen', '127.0.0.1:0', '--heartbeat-interval', '5s', '--drain-timeout', '5s', '--max-concurrency', String(config.maxConcurrency)];
  const out: RunningWorker[] = [];
  if (config.engine === 'openai' || config.upstream) {
    const args = [...base, '--engine', 'openai', '--upstream', config.upstream, '--upstream-api', config.upstreamApi];
    if (config.upstreamModel) args.push('--upstream-model', config.upstreamModel);
    if (config.apiKeyEnv) args.push('--api-key-env', config.apiKeyEnv);
    if (config.upstreamNames.length > 0) args.push('--model-names', config.upstreamNames.join(','));
    const worker = await startWorker(parseConfig(workerOptions, args), logger.child({ component: 'worker', upstream: 'external' }), { inProcess: config.inProcess });
    out.push(worker);
  }
  if (config.apiEndpointFile) out.push(...await startEndpointWorkers(parseConfig(workerOptions, [...base, '--api-endpoint-file', config.apiEndpointFile]), logger.child({ component: 'worker' }), { inProcess: config.inProcess }));
  return out;
}

export function register(program: Command): void {
  const cmd = program.command('up').description('start the whole stack locally: controller, worker(s) and gateway (Ctrl-C stops everything)');
  addOptions(cmd, upOptions).action(async (opts: Record<string, unknown>) => {
    const config = readConfig(upOptions, opts);
    const logger = createLogger({ level: config.logLevel, name: 'fleetchat' });
    const shutdown = onShutdown(logger);
    const controller = await startController(parseConfig(controllerOptions, ['--listen', '127.0.0.1:0', '--metrics-listen', '127.0.0.1:0', '--heartbeat-interval', '5s', '--heartbeat-expiry', '15s']), logger.child({ component: 'controller' }));
    shutdown.add(() => controller.stop());
    const external = await startExternalWorkers(config, controller.address, logger);
    for (const worker of external) {
      shutdown.add(() => worker.stop());
      await worker.registration?.registered;
    }
    // With an external engine, ONNX models run only when named (--model); else the embedded default too.
    const models = config.model.length > 0 ? config.model : external.length > 0 ? [] : ['default'];
    for (const model of models) {
      const workerConfig = parseConfig(workerOptions, [
          '--model', model, '--controller', controller.address, '--listen', '127.0.0.1:0', '--metrics-listen', '127.0.0.1:0',
          '--max-concurrency', String(config.maxConcurrency), '--threads', String(config.threads), '--cache-dir', config.cacheDir,
          '--heartbeat-interval', '5s', '--drain-timeout', '5s', '--device', config.device, ...(config.allowTf32 ? ['--allow-tf32'] : []),
        ]);
      const workerLogger = logger.child({ component: 'worker', model });
      const worker = await startWorker(workerConfig, workerLogger, { defaultModel: workerDefaultModel(workerConfig, workerLogger), inProcess: config.inProcess });
      shutdown.add(() => worker.stop());
      await worker.registration?.registered;
    }
    const gateway = await startGateway(
      parseConfig(gatewayOptions, ['--controller', controller.address, '--listen', `${config.host}:${config.port}`, '--db', join(config.cacheDir, 'arena.db'), ...(config.apiKeys.length ? ['--api-keys', config.apiKeys.join(',')] : []), ...(config.grpcPort >= 0 ? ['--grpc-listen', `${config.host}:${config.grpcPort}`] : [])]),
      logger.child({ component: 'gateway' }),
      undefined,
      { inProcess: config.inProcess },
    );
    shutdown.add(() => gateway.stop());
    const names = gateway.ctx.view.models().map((m) => m.name);
    const auth = config.apiKeys.length ? ` -H "Authorization: Bearer ${config.apiKeys[0]}"` : '';
    process.stdout.write(
      `\nfleetchat is up: ${gateway.url}  (models: ${names.join(', ')})\n` +
        `  web UI:   ${gateway.url}/\n` +
        (gateway.grpcAddress ? `  gRPC:     ${gateway.grpcAddress}  (fleetchat client chat --model ${names[0] ?? 'MODEL'} --address ${gateway.grpcAddress}${config.apiKeys.length ? ' --api-key KEY' : ''})\n` : '') +
        `  try:      curl ${gateway.url}/v1/chat/completions -H "Content-Type: application/json"${auth} -d '{"model": "${names[0] ?? 'MODEL'}", "messages": [{"role": "user", "content": "Hello!"}]}'\n` +
        `  stop:     Ctrl-C\n\n`,
    );
    await shutdown.done;
  });
}
