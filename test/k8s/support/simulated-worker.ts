/**
 * Plays the `fleetchat worker` container of a pod: expands the container's `$(VAR)` references from its env
 * (downward API fields) the way the kubelet does, parses the args with the REAL worker option schema (so a flag
 * the worker does not know fails the test), and registers a worker with the controller the args name.
 */
import { Metadata } from '@grpc/grpc-js';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { parseConfig } from '../../../src/common/config';
import { ControllerClient, WorkerInfo } from '../../../src/common/gen/controller';
import { ModelKind, WorkerStatus } from '../../../src/common/gen/worker';
import { createClient, unary } from '../../../src/common/grpc/client';
import { workerOptions, type WorkerConfig } from '../../../src/worker/main';

function fieldValue(pod: V1Pod, path: string): string {
  if (path === 'metadata.name') return pod.metadata?.name ?? '';
  if (path === 'metadata.namespace') return pod.metadata?.namespace ?? '';
  if (path === 'status.podIP') return pod.status?.podIP ?? '';
  throw new Error(`simulated kubelet: unsupported fieldRef ${path}`);
}

/** The container's args with `$(NAME)` replaced by literal and fieldRef env values, as the kubelet expands them. */
export function expandArgs(pod: V1Pod, container: V1Container): string[] {
  const vars = new Map<string, string>();
  for (const e of container.env ?? []) {
    if (e.value !== undefined) vars.set(e.name, e.value);
    else if (e.valueFrom?.fieldRef) vars.set(e.name, fieldValue(pod, e.valueFrom.fieldRef.fieldPath));
  }
  return (container.args ?? []).map((a) => a.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name: string) => vars.get(name) ?? m));
}

/** Every worker container of the pod (`worker`, and `worker-1`... when it runs one worker per GPU). */
export function workerConfigsOf(pod: V1Pod): WorkerConfig[] {
  const containers = (pod.spec?.containers ?? []).filter((c) => /^worker(-\d+)?$/.test(c.name));
  if (containers.length === 0) throw new Error(`pod ${pod.metadata?.name} has no worker container`);
  return containers.map((container) => {
    const args = expandArgs(pod, container);
    if (args[0] !== 'worker') throw new Error(`the container does not run 'fleetchat worker': ${args.join(' ')}`);
    return parseConfig(workerOptions, args.slice(1));
  });
}

export class SimulatedWorkers {
  private readonly clients = new Map<string, ControllerClient>();

  private client(address: string): ControllerClient {
    let c = this.clients.get(address);
    if (!c) this.clients.set(address, (c = createClient(ControllerClient, address)));
    return c;
  }

  async register(pod: V1Pod): Promise<WorkerConfig> {
    const configs = workerConfigsOf(pod);
    for (const config of configs) {
      const c = this.client(config.controller);
      const worker = WorkerInfo.fromPartial({
        workerId: config.workerId, address: config.advertiseAddress, modelNames: config.modelNames.length > 0 ? config.modelNames : ['model'],
        kind: ModelKind.MODEL_KIND_GENERATION, contextLength: 2048, status: { maxConcurrency: config.maxConcurrency },
      });
      await unary(c.registerWorker.bind(c), { worker }, new Metadata(), 5000);
    }
    return configs[0];
  }

  /** A heartbeat reporting this load (what the worker's scheduler would report). */
  async setLoad(controller: string, workerId: string, queueLength: number, running: number): Promise<void> {
    const c = this.client(controller);
    await unary(c.heartbeat.bind(c), { workerId, status: WorkerStatus.fromPartial({ queueLength, running, maxConcurrency: 16 }) }, new Metadata(), 5000);
  }

  /** What the worker does on SIGTERM. */
  async deregister(pod: V1Pod): Promise<void> {
    for (const config of workerConfigsOf(pod)) {
      const c = this.client(config.controller);
      await unary(c.deregisterWorker.bind(c), { workerId: config.workerId }, new Metadata(), 5000).catch(() => undefined);
    }
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
  }
}
