/** The ModelWorker resource as the operator reads it (spec and status types are generated from schema.ts). */
import type { KubernetesObject, V1ObjectMeta } from '@kubernetes/client-node';
import type { ModelWorkerCondition, ModelWorkerSpec, ModelWorkerStatus } from './types.gen';

export type { ModelWorkerAutoscaling, ModelWorkerCondition, ModelWorkerModel, ModelWorkerSpec, ModelWorkerStatus } from './types.gen';

export interface ModelWorker extends KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: V1ObjectMeta & { name: string; namespace: string };
  spec: ModelWorkerSpec;
  status?: ModelWorkerStatus;
}

export type ConditionType = ModelWorkerCondition['type'];
export type ConditionStatus = ModelWorkerCondition['status'];
