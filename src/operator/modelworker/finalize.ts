/**
 * The finalizer: before a ModelWorker goes, deregister its workers from the controller so gateways stop routing to
 * them at once (the garbage collector then deletes the Deployment and its pods). When the controller stays
 * unreachable past the finalizer timeout, the ModelWorker is released anyway (workers expire by heartbeat) and a
 * Warning event says so.
 */
import { kubeMessage } from '../runtime/kube-errors';
import type { ModelWorker } from '../api/v1alpha1/types';
import type { ReconcileContext, ReconcileResult } from './context';
import { FINALIZER } from './labels';
import { workersOf } from './workers';

async function deregisterWorkers(ctx: ReconcileContext, mw: ModelWorker, address: string): Promise<number> {
  const { namespace, name } = mw.metadata;
  const mine = workersOf(await ctx.directory.listWorkers(address), namespace, name);
  for (const w of mine) await ctx.directory.deregister(address, w.workerId);
  return mine.length;
}

export async function finalize(ctx: ReconcileContext, mw: ModelWorker): Promise<ReconcileResult> {
  const finalizers = mw.metadata.finalizers ?? [];
  if (!finalizers.includes(FINALIZER)) return {};
  const address = mw.spec?.controllerAddress || ctx.options.controllerAddress;
  try {
    const count = await deregisterWorkers(ctx, mw, address);
    await ctx.events.record(mw, 'Normal', 'WorkersDeregistered', `deregistered ${count} worker(s) from the controller at ${address}`);
  } catch (err) {
    const deletedAtMs = mw.metadata.deletionTimestamp ? new Date(mw.metadata.deletionTimestamp).getTime() : ctx.now();
    const waitedMs = ctx.now() - deletedAtMs;
    const message = `could not deregister workers from the controller at ${address}: ${kubeMessage(err)}`;
    if (waitedMs < ctx.options.finalizerTimeoutMs) {
      await ctx.events.record(mw, 'Warning', 'DeregisterFailed', `${message} (retrying)`);
      throw new Error(message, { cause: err });
    }
    await ctx.events.record(mw, 'Warning', 'DeregisterFailed', `${message}; giving up after ${Math.round(waitedMs / 1000)} s (the controller expires silent workers)`);
  }
  await ctx.kube.setFinalizers(mw, finalizers.filter((f) => f !== FINALIZER));
  ctx.scaleHistory.delete(`${mw.metadata.namespace}/${mw.metadata.name}`);
  ctx.logger.info({ modelWorker: `${mw.metadata.namespace}/${mw.metadata.name}` }, 'finalized');
  return {};
}
