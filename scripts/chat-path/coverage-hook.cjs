/**
 * Preloaded (`node -r`) into every process of the stack scripts/chat-path-files.ts measures, and into their worker
 * threads (the worker's session thread): on SIGUSR2 the process writes its V8 coverage (NODE_V8_COVERAGE) and resets
 * the counters; the threads hear the same signal through a BroadcastChannel and do the same. Plain JavaScript, so
 * that threads started without a TypeScript loader can preload it too.
 */
'use strict';
const { takeCoverage } = require('node:v8');
const workerThreads = require('node:worker_threads');

if (process.env.NODE_V8_COVERAGE) {
  const channel = new workerThreads.BroadcastChannel('fleetchat-chat-path-coverage');
  channel.unref();
  if (workerThreads.isMainThread) {
    process.on('SIGUSR2', () => {
      channel.postMessage('take');
      takeCoverage();
    });
    // Threads started with their own execArgv (the compiled session thread passes []) preload this file too.
    const Worker = workerThreads.Worker;
    workerThreads.Worker = class extends Worker {
      constructor(file, options = {}) {
        const execArgv = options.execArgv === undefined ? undefined : [...options.execArgv, '--require', __filename];
        super(file, { ...options, execArgv });
      }
    };
  } else {
    channel.onmessage = () => takeCoverage();
  }
}
