/**
 * A whole control plane for operator tests: envtest (API server, etcd, controller-manager, scheduler) with the
 * ModelWorker CRD, a GPU node run by the fake kubelet whose pods register simulated workers with a REAL fleetchat
 * controller, and the operator itself (in-process, leader election on).
 */
import { CustomObjectsApi, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { parseConfig } from '../../../src/common/config';
import { createLogger, silentLogger, type Logger } from '../../../src/common/log';
import { controllerOptions, startController, type RunningController } from '../../../src/controller/main';
import { GROUP, PLURAL, VERSION } from '../../../src/operator/api/v1alpha1/schema';
import type { ModelWorker } from '../../../src/operator/api/v1alpha1/types';
import { operatorOptions, startOperator, type OperatorOverrides, type RunningOperator } from '../../../src/operator/main';
import { startEnvtest, type Envtest } from '../envtest';
import { startFakeKubelet, type FakeKubelet } from './fake-kubelet';
import { createNamespace, installCrd } from './kube';
import { SimulatedWorkers } from './simulated-worker';

export interface OperatorEnv {
  env: Envtest;
  kc: KubeConfig;
  controller: RunningController;
  /** A tainted GPU node and a plain CPU node. */
  kubelets: FakeKubelet[];
  workers: SimulatedWorkers;
  /** Fast test settings for startOperator. */
  logger: Logger;
  operatorArgs(namespace: string, extra?: string[]): string[];
  startOperator(namespace: string, extra?: string[], overrides?: OperatorOverrides): Promise<RunningOperator>;
  newNamespace(prefix: string): Promise<string>;
  getModelWorker(namespace: string, name: string): Promise<ModelWorker>;
  stop(): Promise<void>;
}

/** FLEETCHAT_TEST_LOG=debug shows the operator's log while debugging a test. */
function testLogger(): Logger {
  const level = process.env.FLEETCHAT_TEST_LOG;
  return level ? createLogger({ level, format: 'json', stream: process.stderr }) : silentLogger();
}

export interface OperatorEnvOptions {
  logger?: Logger;
  /** Install the ModelWorker CRD before the controllers start (default true; the Helm test lets helm do it). */
  installCrd?: boolean;
}

export async function startOperatorEnv(options: OperatorEnvOptions = {}): Promise<OperatorEnv> {
  const logger = options.logger ?? testLogger();
  const env = await startEnvtest({ controllers: true, beforeControllers: options.installCrd === false ? undefined : (kc) => installCrd(kc) });
  const kc = env.kubeConfig;
  const operators: RunningOperator[] = [];
  let controller: RunningController | undefined;
  const kubelets: FakeKubelet[] = [];
  const workers = new SimulatedWorkers();
  let namespaces = 0;
  try {
    controller = await startController(parseConfig(controllerOptions, ['--listen', '127.0.0.1:0', '--metrics-listen', '127.0.0.1:0', '--heartbeat-expiry', '10m']), logger);
    const play = {
      // Only worker pods register (Job pods just run).
      onRunning: async (pod: V1Pod): Promise<void> => {
        if (pod.spec?.containers.some((c) => c.name === 'worker')) await workers.register(pod);
      },
      onTerminating: async (pod: V1Pod): Promise<void> => {
        if (pod.spec?.containers.some((c) => c.name === 'worker')) await workers.deregister(pod);
      },
    };
    kubelets.push(await startFakeKubelet({
      kc, nodeName: 'gpu-node-1', labels: { 'nvidia.com/gpu.present': 'true' }, capacity: { 'nvidia.com/gpu': '8' },
      taints: [{ key: 'nvidia.com/gpu', effect: 'NoSchedule' }], podSubnet: '10.244.1', ...play,
    }));
    kubelets.push(await startFakeKubelet({ kc, nodeName: 'cpu-node-1', podSubnet: '10.244.2', ...play }));
  } catch (err) {
    await env.stop();
    throw err;
  }
  const custom = kc.makeApiClient(CustomObjectsApi);
  const operatorArgs = (namespace: string, extra: string[] = []): string[] => [
    '--namespace', namespace, '--controller', controller.address, '--worker-image', 'registry.example/fleetchat:test',
    '--metrics-listen', '127.0.0.1:0', '--poll-interval', '300ms', '--retry-base-delay', '50ms', '--retry-max-delay', '2s',
    '--lease-duration', '3s', '--renew-deadline', '2s', '--retry-period', '250ms', '--finalizer-timeout', '5s', '--controller-timeout', '1s', ...extra,
  ];
  return {
    env, kc, controller, kubelets, workers, operatorArgs, logger,
    startOperator: async (namespace, extra, overrides) => {
      const op = await startOperator(parseConfig(operatorOptions, operatorArgs(namespace, extra)), logger, { kubeConfig: kc, ...overrides });
      operators.push(op);
      return op;
    },
    newNamespace: (prefix) => createNamespace(kc, `${prefix}-${++namespaces}`),
    getModelWorker: async (namespace, name) => (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace, name })) as ModelWorker,
    stop: async () => {
      for (const op of operators) await op.stop();
      for (const k of kubelets) await k.stop();
      workers.close();
      await controller?.stop(100);
      await env.stop();
    },
  };
}
