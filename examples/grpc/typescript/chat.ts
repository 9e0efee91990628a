/**
 * Streams a chat completion from fleetchat's public gRPC API with @grpc/grpc-js and the stubs ts-proto generates
 * from proto/inference.proto (in this repository: src/common/gen/inference.ts; elsewhere generate your own with
 * ts-proto, grpc-tools or buf from the same proto files, or load them at run time with @grpc/proto-loader).
 *
 *   node -r @swc-node/register examples/grpc/typescript/chat.ts --address 127.0.0.1:8001 --model tiny "Hello!"
 *   FLEETCHAT_API_KEY=sk-... node -r @swc-node/register examples/grpc/typescript/chat.ts --model M --cancel-after 3 "Hi"
 *
 * Prints the text as it streams, then one JSON line {"finish_reason", "usage"} or {"cancelled": true}; on an error,
 * one JSON line {"code", "details", "error_info", "retry_delay_s"} decoded from the status details, and exits 1.
 */
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { parseArgs } from 'node:util';
import { ErrorInfo, RetryInfo } from '../../../src/common/gen/google/rpc/error_details';
import { Status } from '../../../src/common/gen/google/rpc/status';
import { InferenceClient, type GenerationChunk } from '../../../src/common/gen/inference';
import { FinishReason } from '../../../src/common/gen/worker';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    address: { type: 'string', default: '127.0.0.1:8001' },
    model: { type: 'string' },
    'max-tokens': { type: 'string' },
    'cancel-after': { type: 'string' }, // cancel the call after this many chunks (the worker stops generating)
    'timeout-ms': { type: 'string', default: '60000' },
  },
});

/** Rich error details (google.rpc.Status in the grpc-status-details-bin trailer). */
function describeError(err: ServiceError): Record<string, unknown> {
  const out: Record<string, unknown> = { code: status[err.code], details: err.details };
  const raw = err.metadata?.get('grpc-status-details-bin')[0];
  if (Buffer.isBuffer(raw)) {
    for (const any of Status.decode(raw).details) {
      if (any.typeUrl.endsWith('google.rpc.ErrorInfo')) out.error_info = ErrorInfo.decode(any.value);
      if (any.typeUrl.endsWith('google.rpc.RetryInfo')) {
        const d = RetryInfo.decode(any.value).retryDelay;
        out.retry_delay_s = (d?.seconds ?? 0) + (d?.nanos ?? 0) / 1e9;
      }
    }
  }
  return out;
}

function main(): void {
  const client = new InferenceClient(values.address, credentials.createInsecure(), {
    'grpc.keepalive_time_ms': 30_000, // ping an idle connection so proxies keep it open
    'grpc.keepalive_timeout_ms': 10_000,
  });
  const metadata = new Metadata();
  if (process.env.FLEETCHAT_API_KEY) metadata.set('authorization', `Bearer ${process.env.FLEETCHAT_API_KEY}`);
  const maxTokens = values['max-tokens'] ? Number(values['max-tokens']) : undefined;
  const call = client.chat(
    {
      model: values.model ?? '',
      messages: [{ role: 'user', content: positionals.join(' ') || 'Hello!', name: '', toolCallId: '', toolCallsJson: '' }],
      params: { maxTokens, ignoreEos: maxTokens !== undefined, stop: [], stopTokenIds: [], logitBias: {}, echo: false, includeStopStrInOutput: false },
      n: 1,
      convTemplate: '',
      requestId: '',
      toolsJson: '',
      toolOptions: undefined,
    },
    metadata,
    { deadline: new Date(Date.now() + Number(values['timeout-ms'])) },
  );
  const cancelAfter = values['cancel-after'] ? Number(values['cancel-after']) : Infinity;
  let chunks = 0;
  call.on('data', (chunk: GenerationChunk) => {
    process.stdout.write(chunk.text);
    chunks += 1;
    if (chunk.finishReason !== FinishReason.FINISH_REASON_UNSPECIFIED) {
      process.stdout.write(`\n${JSON.stringify({ finish_reason: FinishReason[chunk.finishReason], usage: chunk.usage })}\n`);
    }
    if (chunks === cancelAfter) call.cancel();
  });
  call.on('error', (err: ServiceError) => {
    client.close();
    if (err.code === status.CANCELLED && chunks >= cancelAfter) {
      process.stdout.write(`\n${JSON.stringify({ cancelled: true, chunks })}\n`);
      return;
    }
    process.stdout.write(`${JSON.stringify(describeError(err))}\n`);
    process.exitCode = 1;
  });
  call.on('end', () => client.close());
}

main();
