/** `fleetchat jobs submit`: runs a `fleetchat jobs ...` command as a Kubernetes Job and follows it. */
import { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { validJobSpec } from './job-spec';
import type { SubmitConfig } from './options';
import { renderJob } from './render';
import { submitJob, type JobOutcome } from './submit';

export interface SubmitRun {
  config: SubmitConfig;
  /** The jobs command and its arguments (after `jobs submit`). */
  command: string[];
  /** `fleetchat jobs` subcommands this binary knows. */
  known: readonly string[];
  out: (line: string) => void;
  kubeConfig?: KubeConfig;
  signal?: AbortSignal;
}

function loadKubeConfig(path: string): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  return kc;
}

function summary(o: JobOutcome): string {
  const seconds = Math.round(o.elapsedMs / 1000);
  if (o.phase === 'succeeded') return `job/${o.name} succeeded after ${seconds} s`;
  if (o.phase === 'timeout') return `job/${o.name} still running after ${seconds} s (stopped following; kubectl -n ${o.namespace} get job ${o.name})`;
  return `job/${o.name} failed after ${seconds} s: ${o.reason ?? 'unknown reason'}${o.exitCode !== undefined ? ` (last exit code ${o.exitCode})` : ''}`;
}

/** Returns the process exit code: 0 succeeded (or submitted without --follow), 1 failed, 124 timed out. */
export async function runSubmit(run: SubmitRun): Promise<number> {
  const kc = run.kubeConfig ?? loadKubeConfig(run.config.kubeconfig);
  const defaultNamespace = kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
  const spec = validJobSpec(run.config, run.command, run.known, defaultNamespace);
  if (run.config.dryRun) {
    run.out(stringify(renderJob(spec)).trimEnd());
    return 0;
  }
  const follow = run.config.follow ? { onStatus: run.out, timeoutMs: run.config.timeout, signal: run.signal } : undefined;
  const outcome = await submitJob(kc, spec, follow);
  if (!outcome) {
    run.out(`job/${spec.name} submitted to ${spec.namespace}; follow it with: kubectl -n ${spec.namespace} get job ${spec.name} -w`);
    return 0;
  }
  run.out(summary(outcome));
  if (outcome.phase === 'failed') run.out(`logs: kubectl -n ${spec.namespace} logs job/${spec.name}`);
  if (outcome.phase === 'failed') return 1;
  if (outcome.phase === 'timeout') return 124;
  return 0;
}
