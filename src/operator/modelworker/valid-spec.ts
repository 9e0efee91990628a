/**
 * A ModelWorker read from the API server, checked and completed with the schema's defaults (the API server applies
 * them too; filling them here keeps the operator correct against objects stored before a default existed).
 */
import type { V1Affinity, V1EnvVar, V1Toleration } from '@kubernetes/client-node';
import { FleetError } from '../../common/errors';
import { DEFAULTS } from '../api/v1alpha1/schema';
import { validEngine } from './valid-engine';
import type { ModelWorker, ModelWorkerSpec } from '../api/v1alpha1/types';
import { parseModelSource, type ModelSource } from './model-source';

export type Quantities = Record<string, string>;

export interface ValidAutoscaling {
  minReplicas: number;
  maxReplicas: number;
  targetQueueLength: number;
  scaleUpStabilizationMs: number;
  scaleDownStabilizationMs: number;
}

export type EngineKind = 'onnx' | 'vllm' | 'sglang' | 'openai';

export interface ValidEngine {
  kind: EngineKind;
  /** vllm / sglang: the engine container. */
  image?: string;
  args: string[];
  shmSize: string;
  tensorParallelSize?: number;
  /** openai: the external server. */
  upstream?: { url: string; model?: string; api?: string; apiKeySecretRef?: { name: string; key: string } };
}

export interface ValidModelWorkerSpec {
  /** `default` for engine openai (no model files: the upstream has the model). */
  source: ModelSource;
  engine: ValidEngine;
  names: string[];
  convTemplate?: string;
  toolParser?: string;
  weights: string;
  hfTokenSecretRef?: { name: string; key: string };
  replicas: number;
  autoscaling?: ValidAutoscaling;
  maxConcurrency: number;
  resources: { requests: Quantities; limits: Quantities };
  nodeSelector: Record<string, string>;
  tolerations: V1Toleration[];
  affinity?: V1Affinity;
  image?: string;
  imagePullPolicy?: string;
  env: V1EnvVar[];
  controllerAddress?: string;
  cache: { claimName?: string; sizeLimit?: string };
  extraArgs: string[];
  gpu: { allowTF32: boolean };
}

function quantities(map: Record<string, number | string | undefined> | undefined): Quantities {
  const out: Quantities = {};
  for (const [k, v] of Object.entries(map ?? {})) if (v !== undefined) out[k] = String(v);
  return out;
}

function definedStrings(map: Record<string, string | undefined> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(map ?? {})) if (v !== undefined) out[k] = v;
  return out;
}

function validAutoscaling(spec: ModelWorkerSpec): ValidAutoscaling | undefined {
  const a = spec.autoscaling;
  if (!a) return undefined;
  const minReplicas = a.minReplicas ?? DEFAULTS.minReplicas;
  if (minReplicas > a.maxReplicas) throw new FleetError('invalid_request', 'autoscaling.minReplicas must not exceed autoscaling.maxReplicas', { param: 'spec.autoscaling' });
  return {
    minReplicas,
    maxReplicas: a.maxReplicas,
    targetQueueLength: a.targetQueueLength ?? DEFAULTS.targetQueueLength,
    scaleUpStabilizationMs: 1000 * (a.scaleUpStabilizationSeconds ?? DEFAULTS.scaleUpStabilizationSeconds),
    scaleDownStabilizationMs: 1000 * (a.scaleDownStabilizationSeconds ?? DEFAULTS.scaleDownStabilizationSeconds),
  };
}

/** Throws FleetError('invalid_request') for a spec the operator cannot run. */
export function validSpec(mw: ModelWorker): ValidModelWorkerSpec {
  const spec = mw.spec as ModelWorkerSpec | undefined;
  if (!spec?.model) throw new FleetError('invalid_request', 'spec.model is required', { param: 'spec.model' });
  const engine = validEngine(spec);
  if (!spec.model.source && engine.kind !== 'openai') throw new FleetError('invalid_request', 'spec.model.source is required', { param: 'spec.model.source' });
  const source = parseModelSource(spec.model.source || 'default');
  // The worker sends the token to the mirror with every download: never in clear.
  if (source.kind === 'mirror' && spec.model.hfTokenSecretRef && source.endpoint.startsWith('http:')) {
    throw new FleetError('invalid_request', 'a hub mirror that receives model.hfTokenSecretRef must be https://', { param: 'spec.model.source' });
  }
  if ((engine.kind === 'vllm' || engine.kind === 'sglang') && source.kind === 'default') {
    throw new FleetError('invalid_request', `engine ${engine.kind} needs model.source hf:, pvc:// or a hub mirror URL`, { param: 'spec.model.source' });
  }
  return {
    source,
    engine,
    names: spec.model.names ?? [],
    convTemplate: spec.model.convTemplate || undefined,
    toolParser: spec.model.toolParser || undefined,
    weights: spec.model.weights ?? DEFAULTS.weights,
    hfTokenSecretRef: spec.model.hfTokenSecretRef,
    replicas: spec.replicas ?? DEFAULTS.replicas,
    autoscaling: validAutoscaling(spec),
    maxConcurrency: spec.maxConcurrency ?? DEFAULTS.maxConcurrency,
    resources: { requests: quantities(spec.resources?.requests), limits: quantities(spec.resources?.limits) },
    nodeSelector: definedStrings(spec.nodeSelector),
    tolerations: spec.tolerations ?? [],
    affinity: spec.affinity,
    image: spec.image || undefined,
    imagePullPolicy: spec.imagePullPolicy,
    env: spec.env ?? [],
    controllerAddress: spec.controllerAddress || undefined,
    cache: { claimName: spec.cache?.claimName, sizeLimit: spec.cache?.sizeLimit === undefined ? undefined : String(spec.cache.sizeLimit) },
    extraArgs: spec.extraArgs ?? [],
    gpu: { allowTF32: spec.gpu?.allowTF32 ?? false },
  };
}
