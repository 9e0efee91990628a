/**
 * Worker labels that mean something to fleetchat itself (they travel in RegisterWorker's `labels`): the controller
 * checks the ModelWorker one against the caller's identity, the gateway's arena reads the anonymous-only one.
 */

/** `<namespace>/<name>` of the ModelWorker that owns the worker (set by the operator). */
export const MODEL_WORKER_LABEL = 'fleetchat.dev/model-worker';

/**
 * `"true"`: the model takes part only in anonymous arena battles (FastChat's api_endpoint_file `anony_only`): the
 * arena never offers it for a direct chat or a battle with the names shown.
 */
export const ANONY_ONLY_LABEL = 'fleetchat.dev/anony-only';
