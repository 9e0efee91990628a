/**
 * `fleetchat operator`: reconciles ModelWorker resources into worker Deployments and Services. Every replica serves
 * /healthz, /readyz and /metrics; only the holder of the leader Lease runs the controller loop.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { CoordinationV1Api, KubeConfig } from '@kubernetes/client-node';
import { addressOption, boolOption, durationOption, intOption, stringOption, type ConfigOf } from '../common/config';
import { clusterSecurityOptions } from '../common/grpc/credentials';
import type { Logger } from '../common/log';
import { createRegistry } from '../common/metrics';
import { startOpsServer, type RunningOpsServer } from '../common/ops-server';
import { startManager, type ManagerOptions, type RunningManager } from './manager';
import { createOperatorMetrics } from './metrics';
import type { ReconcileContext, ReconcileResult } from './modelworker/context';
import { FIELD_MANAGER } from './modelworker/labels';
import { gpuImageOf } from './modelworker/render-pod';
import { controllerDirectory } from './runtime/controller-directory';
import { eventRecorder } from './runtime/events';
import { kubeClient } from './runtime/kube-client';
import { startLeaderElection, type LeaderElector } from './runtime/lease';
import { startCertificates } from './tls/issuer';
import { certificateOptions } from './tls/options';

export const operatorOptions = {
  kubeconfig: stringOption({ flag: '--kubeconfig', description: 'kubeconfig file (default: in-cluster, then $KUBECONFIG / ~/.kube/config)', default: '' }),
  namespace: stringOption({ flag: '--namespace', description: 'namespace to watch (default: all namespaces)', default: '' }),
  controller: stringOption({ flag: '--controller', description: 'controller gRPC address given to workers and asked for their registrations', default: 'fleetchat-controller:21001' }),
  workerImage: stringOption({ flag: '--worker-image', description: 'worker image when a ModelWorker names none', default: 'ghcr.io/fleetchat/fleetchat:latest' }),
  workerGpuImage: stringOption({ flag: '--worker-gpu-image', description: 'image of workers that request nvidia.com/gpu (default: --worker-image with "-gpu" appended to its tag)', default: '' }),
  metricsListen: addressOption({ flag: '--metrics-listen', description: 'HTTP address for /metrics, /healthz, /readyz', default: '0.0.0.0:8080' }),
  concurrency: intOption({ flag: '--concurrency', description: 'ModelWorkers reconciled at once', default: 2, min: 1, max: 64 }),
  resyncPeriod: durationOption({ flag: '--resync-period', description: 'every ModelWorker is reconciled at least this often', default: 300_000, defaultLabel: '5m' }),
  pollInterval: durationOption({ flag: '--poll-interval', description: 'reconcile period of autoscaled or not-ready ModelWorkers (reads the controller)', default: 15_000, defaultLabel: '15s' }),
  retryBaseDelay: durationOption({ flag: '--retry-base-delay', description: 'first retry delay after a failed reconcile (doubles each failure)', default: 200, defaultLabel: '200ms' }),
  retryMaxDelay: durationOption({ flag: '--retry-max-delay', description: 'longest retry delay', default: 300_000, defaultLabel: '5m' }),
  finalizerTimeout: durationOption({ flag: '--finalizer-timeout', description: 'how long deletion waits for the controller to deregister workers', default: 120_000, defaultLabel: '2m' }),
  controllerTimeout: durationOption({ flag: '--controller-timeout', description: 'deadline of one call to the controller', default: 3000, defaultLabel: '3s' }),
  leaderElect: boolOption({ flag: '--leader-elect', description: 'elect a leader with a Lease (run more than one replica safely)', default: true }),
  leaderElectionNamespace: stringOption({ flag: '--leader-election-namespace', description: 'namespace of the Lease (default: --namespace, else the kubeconfig namespace)', default: '' }),
  leaderElectionId: stringOption({ flag: '--leader-election-id', description: 'name of the Lease', default: 'fleetchat-operator' }),
  leaseDuration: durationOption({ flag: '--lease-duration', description: 'how long a silent leader keeps the Lease', default: 15_000, defaultLabel: '15s' }),
  renewDeadline: durationOption({ flag: '--renew-deadline', description: 'a leader that cannot renew for this long steps down', default: 10_000, defaultLabel: '10s' }),
  retryPeriod: durationOption({ flag: '--retry-period', description: 'how often candidates try and leaders renew', default: 2000, defaultLabel: '2s' }),
  identity: stringOption({ flag: '--identity', description: 'this replica\'s identity in the Lease (default: hostname + random)', default: '' }),
  logLevel: stringOption({ flag: '--log-level', description: 'log level', default: 'info' }),
  ...clusterSecurityOptions,
  ...certificateOptions,
};

export type OperatorConfig = ConfigOf<typeof operatorOptions>;

export interface OperatorOverrides {
  kubeConfig?: KubeConfig;
  reconcile?: (ctx: ReconcileContext, key: string) => Promise<ReconcileResult>;
}

export interface RunningOperator {
  identity: string;
  ops: RunningOpsServer;
  isLeader(): boolean;
  /** The controller loop while this replica leads. */
  manager(): RunningManager | undefined;
  /**
   * Settles when this replica loses the Lease without being asked to stop (it could not renew within the renew
   * deadline). Its reconciles are already stopped; `fleetchat operator` then exits 1 so the Deployment restarts it,
   * as client-go's OnStoppedLeading does — a replica never goes on acting on what it saw as leader.
   */
  lostLeadership: Promise<void>;
  stop(): Promise<void>;
}

function loadKubeConfig(config: OperatorConfig): KubeConfig {
  const kc = new KubeConfig();
  if (config.kubeconfig) kc.loadFromFile(config.kubeconfig);
  else kc.loadFromDefault();
  return kc;
}

function leaseNamespace(config: OperatorConfig, kc: KubeConfig): string {
  return config.leaderElectionNamespace || config.namespace || kc.getContextObject(kc.getCurrentContext())?.namespace || 'default';
}

export async function startOperator(config: OperatorConfig, logger: Logger, overrides: OperatorOverrides = {}): Promise<RunningOperator> {
  const kc = overrides.kubeConfig ?? loadKubeConfig(config);
  const identity = config.identity || `${hostname()}-${randomBytes(4).toString('hex')}`;
  const registry = createRegistry();
  let manager: RunningManager | undefined;
  const metrics = createOperatorMetrics(registry, () => manager?.queue.length ?? 0);
  const kube = kubeClient(kc, FIELD_MANAGER);
  const certificates = await startCertificates(config, kube, leaseNamespace(config, kc), logger);
  const directory = controllerDirectory(config.controllerTimeout, certificates.security.client('controller'));
  const context: ManagerOptions['context'] = {
    kube, directory, scaleHistory: new Map(), logger, now: () => Date.now(), certificates: certificates.workers,
    events: eventRecorder(kube.core, { component: FIELD_MANAGER, instance: identity, logger }),
    options: { workerImage: config.workerImage, workerGpuImage: config.workerGpuImage || gpuImageOf(config.workerImage), controllerAddress: config.controller, finalizerTimeoutMs: config.finalizerTimeout, pollIntervalMs: config.pollInterval },
  };
  let synced = false;
  const lead = (): void => {
    metrics.leader.set(1);
    manager = startManager({
      kc, namespace: config.namespace || undefined, workers: config.concurrency, resyncPeriodMs: config.resyncPeriod,
      retryBaseDelayMs: config.retryBaseDelay, retryMaxDelayMs: config.retryMaxDelay, context, metrics, logger, reconcile: overrides.reconcile,
    });
    void manager.synced.then(() => (synced = true));
  };
  const standDown = async (): Promise<void> => {
    metrics.leader.set(0);
    synced = false;
    const m = manager;
    manager = undefined;
    context.scaleHistory.clear();
    await m?.stop();
  };
  let elector: LeaderElector | undefined;
  let stopping = false;
  let markLost: () => void = () => undefined;
  const lostLeadership = new Promise<void>((resolve) => (markLost = resolve));
  if (config.leaderElect) {
    elector = startLeaderElection({
      api: kc.makeApiClient(CoordinationV1Api), namespace: leaseNamespace(config, kc), name: config.leaderElectionId, identity,
      leaseDurationMs: config.leaseDuration, renewDeadlineMs: config.renewDeadline, retryPeriodMs: config.retryPeriod, logger,
      onStartedLeading: lead,
      onStoppedLeading: () => {
        if (!stopping) {
          logger.error({ identity, renewDeadlineMs: config.renewDeadline }, 'lost leadership: stopped reconciling');
          markLost();
        }
        void standDown();
      },
    });
  } else {
    lead();
  }
  const ops = await startOpsServer({ address: config.metricsListen, registry, ready: () => synced || manager === undefined });
  logger.info({ identity, namespace: config.namespace || '(all)', controller: config.controller, leaderElect: config.leaderElect }, 'operator started');
  return {
    identity, ops, lostLeadership,
    isLeader: () => manager !== undefined,
    manager: () => manager,
    stop: async () => {
      stopping = true;
      await standDown();
      await elector?.stop();
      directory.close();
      certificates.stop();
      await ops.close();
    },
  };
}
