/**
 * Reconcile one ModelWorker, level-triggered from its key: read it (cache) → finalize if deleting → make sure the
 * finalizer is on → observe the controller's registry → decide replicas (autoscaling) → server-side apply the
 * rendered Deployment and Service → write the status ONCE, and only when it changed. Errors are never swallowed: a
 * failed apply is reported in the status and an event, then thrown so the queue retries with backoff; a 409
 * Conflict (stale resourceVersion) is thrown as is and retried the same way.
 */
import type { V1Deployment } from '@kubernetes/client-node';
import { FleetError } from '../../common/errors';
import type { ModelWorker, ModelWorkerStatus } from '../api/v1alpha1/types';
import { kubeMessage } from '../runtime/kube-errors';
import { decideReplicas } from './autoscale';
import { splitKey, type ReconcileContext, type ReconcileResult } from './context';
import { finalize } from './finalize';
import { FINALIZER, selectorLabels, selectorString } from './labels';
import { renderDeployment, renderService } from './render';
import { canonicalJson } from './spec-hash';
import { workersPerPod } from './gpu-workers';
import { computeStatus, type WorkerObservation } from './status';
import { validSpec, type ValidModelWorkerSpec } from './valid-spec';
import { loadOf, workersOf } from './workers';
import { observeEngineContainers, type EngineObservation } from './engine-status';

interface Observed {
  workers?: WorkerObservation;
  controllerError?: string;
}

async function observeWorkers(ctx: ReconcileContext, mw: ModelWorker, address: string): Promise<Observed> {
  try {
    const mine = workersOf(await ctx.directory.listWorkers(address), mw.metadata.namespace, mw.metadata.name);
    return { workers: { registered: mine.length, queueLength: loadOf(mine) } };
  } catch (err) {
    return { controllerError: `controller at ${address}: ${kubeMessage(err)}` };
  }
}

/** engine vllm / sglang: the engine containers' states from the pods (undefined for other engines or on error). */
async function observeEngine(ctx: ReconcileContext, mw: ModelWorker, spec: ValidModelWorkerSpec): Promise<EngineObservation | undefined> {
  if (spec.engine.kind !== 'vllm' && spec.engine.kind !== 'sglang') return undefined;
  try {
    const pods = await ctx.kube.core.listNamespacedPod({ namespace: mw.metadata.namespace, labelSelector: selectorString(selectorLabels(mw.metadata.name)) });
    return observeEngineContainers(pods.items);
  } catch (err) {
    ctx.logger.warn({ modelWorker: `${mw.metadata.namespace}/${mw.metadata.name}`, err: kubeMessage(err) }, 'listing pods for the engine status failed');
    return undefined;
  }
}

/** Replicas for this reconcile; with autoscaling, writes a new spec.replicas through the scale subresource. */
async function decideAndScale(ctx: ReconcileContext, mw: ModelWorker, spec: ValidModelWorkerSpec, observed: Observed): Promise<{ mw: ModelWorker; replicas: number; scaledAt?: string }> {
  const a = spec.autoscaling;
  if (!a) return { mw, replicas: spec.replicas };
  const clamped = Math.min(a.maxReplicas, Math.max(a.minReplicas, spec.replicas));
  if (!observed.workers) return { mw, replicas: clamped };
  const key = `${mw.metadata.namespace}/${mw.metadata.name}`;
  const decision = decideReplicas({ current: spec.replicas, load: observed.workers.queueLength, autoscaling: a, history: ctx.scaleHistory.get(key) ?? [], nowMs: ctx.now() });
  ctx.scaleHistory.set(key, decision.history);
  if (decision.replicas === spec.replicas) return { mw, replicas: spec.replicas };
  await ctx.kube.scale(mw, decision.replicas);
  await ctx.events.record(mw, 'Normal', 'Scaled', `scaled from ${spec.replicas} to ${decision.replicas} replicas (load ${observed.workers.queueLength}, target ${a.targetQueueLength} per worker)`);
  const fresh = await ctx.kube.readModelWorker(mw.metadata.namespace, mw.metadata.name);
  return { mw: fresh, replicas: decision.replicas, scaledAt: new Date(ctx.now()).toISOString() };
}

async function applyChildren(ctx: ReconcileContext, mw: ModelWorker, spec: ValidModelWorkerSpec, replicas: number): Promise<V1Deployment> {
  // The certificate first: pods that mount a missing Secret wait for it.
  await ctx.certificates?.ensure(mw);
  const deployment = renderDeployment(mw, spec, { image: ctx.options.workerImage, gpuImage: ctx.options.workerGpuImage, controllerAddress: ctx.options.controllerAddress, replicas, credentials: ctx.certificates?.credentials });
  const applied = await ctx.kube.apply(deployment);
  await ctx.kube.apply(renderService(mw));
  return applied;
}

async function writeStatus(ctx: ReconcileContext, mw: ModelWorker, status: ModelWorkerStatus): Promise<void> {
  if (canonicalJson(status) === canonicalJson(mw.status ?? {})) return;
  await ctx.kube.writeStatus(mw, status);
}

async function ensureFinalizer(ctx: ReconcileContext, mw: ModelWorker): Promise<ModelWorker> {
  const finalizers = mw.metadata.finalizers ?? [];
  if (finalizers.includes(FINALIZER)) return mw;
  return ctx.kube.setFinalizers(mw, [...finalizers, FINALIZER]);
}

async function reportInvalid(ctx: ReconcileContext, mw: ModelWorker, err: FleetError): Promise<ReconcileResult> {
  await ctx.events.record(mw, 'Warning', 'InvalidSpec', err.message);
  const status = computeStatus({ mw, desiredReplicas: 0, deployment: ctx.getDeployment(mw.metadata.namespace, mw.metadata.name), workers: undefined, invalidSpec: err.message, selector: selectorString(selectorLabels(mw.metadata.name)), nowIso: new Date(ctx.now()).toISOString() });
  await writeStatus(ctx, mw, status);
  return {};
}

export async function reconcileModelWorker(ctx: ReconcileContext, key: string): Promise<ReconcileResult> {
  const { namespace, name } = splitKey(key);
  const cached = ctx.getModelWorker(namespace, name);
  if (!cached) {
    ctx.scaleHistory.delete(key);
    return {};
  }
  if (cached.metadata.deletionTimestamp) return finalize(ctx, cached);
  let mw = await ensureFinalizer(ctx, cached);
  let spec: ValidModelWorkerSpec;
  try {
    spec = validSpec(mw);
  } catch (err) {
    if (err instanceof FleetError && err.kind === 'invalid_request') return reportInvalid(ctx, mw, err);
    throw err;
  }
  const observed = await observeWorkers(ctx, mw, spec.controllerAddress ?? ctx.options.controllerAddress);
  const scaled = await decideAndScale(ctx, mw, spec, observed);
  mw = scaled.mw;
  let deployment: V1Deployment | undefined;
  let applyError: string | undefined;
  try {
    deployment = await applyChildren(ctx, mw, spec, scaled.replicas);
  } catch (err) {
    applyError = `applying the certificate/Deployment/Service failed: ${kubeMessage(err)}`;
    deployment = ctx.getDeployment(namespace, name);
    await ctx.events.record(mw, 'Warning', 'ApplyFailed', applyError);
  }
  const engine = await observeEngine(ctx, mw, spec);
  const status = computeStatus({
    mw, desiredReplicas: scaled.replicas, workersPerPod: workersPerPod(spec), deployment, workers: observed.workers, controllerError: observed.controllerError, engine,
    applyError, selector: selectorString(selectorLabels(name)), lastScaleTime: scaled.scaledAt, nowIso: new Date(ctx.now()).toISOString(),
  });
  await writeStatus(ctx, mw, status);
  if (applyError) throw new Error(applyError);
  const ready = status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
  return spec.autoscaling || !ready ? { requeueAfterMs: ctx.options.pollIntervalMs } : {};
}
