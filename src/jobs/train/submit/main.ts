/** `fleetchat jobs train --submit`: validate locally, then run the same command as a multi-node training job on Kubernetes. */
import { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import type { OptionSchema } from '../../../common/config';
import { FleetError } from '../../../common/errors';
import { validJobSpec } from '../../submit/job-spec';
import type { SubmitConfig } from '../../submit/options';
import type { TrainConfig } from '../options';
import { TRAIN_OPTIONS, withGpus } from '../options';
import { renderIndexedJob, renderPyTorchJob } from './render';
import { createTrainJob, followTrainJob, servesPyTorchJobs, type TrainJobKind } from './submit';

export type JobKindChoice = 'auto' | TrainJobKind;

export interface TrainSubmitRun {
  train: TrainConfig;
  submit: SubmitConfig;
  kind: JobKindChoice;
  out: (line: string) => void;
  kubeConfig?: KubeConfig;
  signal?: AbortSignal;
}

/** The `fleetchat jobs train` flags that differ from their defaults (what each pod runs). */
export function trainCliArgs(config: TrainConfig, schema: OptionSchema = TRAIN_OPTIONS): string[] {
  const out: string[] = [];
  for (const [key, spec] of Object.entries(schema)) {
    const value = (config as Record<string, unknown>)[key];
    if (value === spec.default || key === 'python' || key === 'json') continue;
    out.push(spec.flag, Array.isArray(value) ? value.join(',') : String(value));
  }
  return out;
}

function loadKubeConfig(path: string): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  return kc;
}

/** Returns the exit code: 0 succeeded (or submitted without --follow), 1 failed, 124 timed out. */
export async function runTrainSubmit(run: TrainSubmitRun): Promise<number> {
  const t = withGpus(run.train, run.submit.gpus, false);
  for (const [flag, value] of [['--model-name-or-path', t.modelNameOrPath], ['--data-path', t.dataPath], ['--output-dir', t.outputDir]] as const) {
    if (value === '') throw new FleetError('invalid_request', `${flag} is required (a path inside the pods, e.g. on a --volume)`, { param: flag.slice(2) });
  }
  const kc = run.kubeConfig ?? loadKubeConfig(run.submit.kubeconfig);
  const defaultNamespace = kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
  const spec = validJobSpec(run.submit, ['train', ...trainCliArgs(t)], ['train'], defaultNamespace);
  const topo = { nnodes: t.nnodes, nprocPerNode: t.nprocPerNode };
  const kind: TrainJobKind = run.kind !== 'auto' ? run.kind : run.submit.dryRun ? 'pytorchjob' : (await servesPyTorchJobs(kc)) ? 'pytorchjob' : 'indexed-job';
  if (run.submit.dryRun) {
    const docs = kind === 'pytorchjob' ? [renderPyTorchJob(spec, topo)] : (({ service, job }) => [service, job])(renderIndexedJob(spec, topo));
    run.out(docs.map((d) => stringify(d).trimEnd()).join('\n---\n'));
    return 0;
  }
  await createTrainJob(kc, spec, topo, kind);
  const what = kind === 'pytorchjob' ? `pytorchjob/${spec.name}` : `job/${spec.name} (Indexed, with headless service/${spec.name})`;
  run.out(`${what} created in namespace ${spec.namespace}: ${t.nnodes} node(s) × ${t.nprocPerNode} process(es) (fleetchat ${spec.args.join(' ')})`);
  if (!run.submit.follow) return 0;
  const outcome = await followTrainJob(kc, spec, kind, { onStatus: run.out, timeoutMs: run.submit.timeout, signal: run.signal });
  const seconds = Math.round(outcome.elapsedMs / 1000);
  if (outcome.phase === 'succeeded') run.out(`${what} succeeded after ${seconds} s`);
  else if (outcome.phase === 'timeout') run.out(`${what} still running after ${seconds} s (stopped following)`);
  else run.out(`${what} failed after ${seconds} s: ${outcome.reason ?? 'unknown reason'}${outcome.exitCode !== undefined ? ` (last exit code ${outcome.exitCode})` : ''}`);
  return outcome.phase === 'succeeded' ? 0 : outcome.phase === 'timeout' ? 124 : 1;
}
