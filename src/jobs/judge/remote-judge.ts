/** A JudgeApi that calls a remote `fleetchat judge serve` through the generated JudgeClient. */
import { Metadata, type CallOptions, type ClientUnaryCall, type ServiceError } from '@grpc/grpc-js';
import { fromGrpcError } from '../../common/errors';
import { JudgeClient, type PairwiseRequest, type PairwiseResponse, type SingleGradeRequest, type SingleGradeResponse } from '../../common/gen/judge';
import { createClient, deadlineIn } from '../../common/grpc/client';
import type { ClientSecurity } from '../../common/grpc/credentials';
import type { JudgeApi } from './judge-api';

export interface RemoteJudge extends JudgeApi {
  close(): void;
}

type Unary<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => ClientUnaryCall;

/** One unary call with a deadline; aborting the signal cancels the call. */
function callUnary<Req, Res>(method: Unary<Req, Res>, request: Req, timeoutMs: number, signal?: AbortSignal): Promise<Res> {
  return new Promise<Res>((resolve, reject) => {
    const onAbort = (): void => call.cancel();
    const call = method(request, new Metadata(), { deadline: deadlineIn(timeoutMs) }, (error, response) => {
      signal?.removeEventListener('abort', onAbort);
      if (error) reject(fromGrpcError(error));
      else resolve(response);
    });
    if (signal?.aborted) call.cancel();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** `timeoutMs` bounds each RPC (a pairwise RPC includes both games and their retries). */
export function connectJudge(address: string, timeoutMs: number, security?: ClientSecurity): RemoteJudge {
  const client = createClient(JudgeClient, address, {}, security);
  return {
    gradeSingle: (request: SingleGradeRequest, signal?: AbortSignal): Promise<SingleGradeResponse> =>
      callUnary<SingleGradeRequest, SingleGradeResponse>(client.gradeSingle.bind(client), request, timeoutMs, signal),
    comparePair: (request: PairwiseRequest, signal?: AbortSignal): Promise<PairwiseResponse> =>
      callUnary<PairwiseRequest, PairwiseResponse>(client.comparePair.bind(client), request, timeoutMs, signal),
    close: () => client.close(),
  };
}
