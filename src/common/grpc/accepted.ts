/**
 * The `fleetchat-accepted` response header of `Worker/Generate` (proto/worker.proto): a worker sends it before the first
 * delta once its engine took the request, so the caller can open its own response while the engine works. Response
 * headers without it (grpc-js sends plain ones with the first message) say nothing.
 */
import { Metadata } from '@grpc/grpc-js';

const ACCEPTED_KEY = 'fleetchat-accepted';

/** The response headers a worker sends once its engine took the request. */
export function acceptedMetadata(): Metadata {
  const metadata = new Metadata();
  metadata.set(ACCEPTED_KEY, '1');
  return metadata;
}

/** Whether response headers say the worker's engine took the request. */
export function isAccepted(metadata: Metadata): boolean {
  return metadata.get(ACCEPTED_KEY)[0] === '1';
}
