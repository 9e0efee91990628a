/**
 * ModelWorker v1alpha1 — the ONE source of truth of the API. `npm run gen:crd` turns these schemas into the CRD
 * (charts/fleetchat/templates/crd-modelworkers.yaml) and the TypeScript types (types.gen.ts); CI checks both are
 * up to date. Defaults are named constants so the operator's parser fills exactly what the API server would.
 */
import { DNS_LABEL, ENV, QUANTITY, RESOURCES, TOLERATIONS, stringMap, type SchemaProps } from './schema-types';

export const GROUP = 'fleetchat.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'ModelWorker';
export const PLURAL = 'modelworkers';
export const SINGULAR = 'modelworker';
export const SHORT_NAMES = ['mw'];

export const DEFAULTS = {
  replicas: 1,
  maxConcurrency: 16,
  weights: 'auto',
  minReplicas: 1,
  targetQueueLength: 4,
  scaleUpStabilizationSeconds: 0,
  scaleDownStabilizationSeconds: 300,
  engine: 'onnx',
  shmSize: '8Gi',
} as const;

/** Who runs the model: fleetchat's ONNX engine, vLLM or SGLang in a second container, or an external OpenAI-compatible URL. */
export const ENGINES = ['onnx', 'vllm', 'sglang', 'openai'] as const;

/** Engine images used when spec.engineContainer.image is empty (pinned; override per ModelWorker). */
export const ENGINE_IMAGES = { vllm: 'vllm/vllm-openai:v0.11.0', sglang: 'lmsysorg/sglang:v0.5.3' } as const;

export const WEIGHTS = ['auto', 'fp32', 'fp16', 'q8', 'int8', 'q4', 'q4f16'] as const;

/** Model sources, as RE2 patterns for CEL (no backslash classes, so no escaping questions). */
const HF_REPO = '[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9_.-]+(@[A-Za-z0-9_./-]+)?';
export const SOURCE_PATTERNS = {
  hf: `^hf:${HF_REPO}$`,
  pvc: '^pvc://[a-z0-9]([-a-z0-9]*[a-z0-9])?(/[^ ]*)?$',
  url: `^https?://[A-Za-z0-9.-]+(:[0-9]+)?/${HF_REPO}$`,
} as const;

const MODEL: SchemaProps = {
  type: 'object',
  title: 'ModelWorkerModel',
  description: 'What the workers serve.',
  'x-kubernetes-validations': [{
    rule: "!has(self.hfTokenSecretRef) || !has(self.source) || !self.source.startsWith('http://')",
    message: 'a hub mirror that receives model.hfTokenSecretRef must be https://',
  }],
  properties: {
    source: {
      type: 'string',
      maxLength: 512,
      description: 'hf:ORG/NAME[@REV] (Hugging Face hub), pvc://CLAIM/PATH (a directory in a PersistentVolumeClaim, mounted read-only), ' +
        'https://HOST/ORG/NAME[@REV] (a Hugging-Face-compatible hub mirror) or "default" (the embedded tiny model). ' +
        'Required unless engine is openai; vllm and sglang need hf:, pvc:// or a mirror.',
      'x-kubernetes-validations': [{
        rule: `self == 'default' || self.matches('${SOURCE_PATTERNS.hf}') || self.matches('${SOURCE_PATTERNS.pvc}') || self.matches('${SOURCE_PATTERNS.url}')`,
        message: 'model.source must be hf:ORG/NAME[@REV], pvc://CLAIM/PATH, https://HOST/ORG/NAME[@REV] or default',
      }],
    },
    names: {
      type: 'array',
      description: 'Names the model is served under (the OpenAI "model" field). Default: the model directory name.',
      maxItems: 16,
      'x-kubernetes-list-type': 'set',
      items: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9._:/-]*$' },
    },
    convTemplate: { type: 'string', maxLength: 128, description: 'FastChat conversation template name, or "jinja" for the tokenizer\'s chat_template. Default: chosen from the model.' },
    toolParser: { type: 'string', enum: ['hermes', 'llama3_json', 'mistral', 'smollm2'], description: 'Tool-call format the model writes (the worker\'s --tool-parser). Default: chosen from the chat template and model name.' },
    weights: { type: 'string', enum: [...WEIGHTS], default: DEFAULTS.weights, description: 'Which ONNX weights to load.' },
    hfTokenSecretRef: {
      type: 'object',
      title: 'SecretKeyRef',
      description: 'Secret key holding a Hugging Face token for gated or private models.',
      required: ['name', 'key'],
      properties: { name: { type: 'string', maxLength: 253 }, key: { type: 'string', maxLength: 253 } },
    },
  },
};

const ENGINE_CONTAINER: SchemaProps = {
  type: 'object',
  title: 'ModelWorkerEngineContainer',
  description: 'The engine container of engine vllm / sglang.',
  properties: {
    image: { type: 'string', maxLength: 512, description: `Engine image. Default: ${ENGINE_IMAGES.vllm} (vllm) or ${ENGINE_IMAGES.sglang} (sglang).` },
    args: { type: 'array', maxItems: 64, items: { type: 'string', maxLength: 1024 }, description: 'Extra engine flags, e.g. ["--max-model-len", "8192", "--gpu-memory-utilization", "0.9"].' },
    shmSize: { ...QUANTITY, description: `Size of the shared-memory volume at /dev/shm (NCCL and tensor parallelism need more than the 64 MB default). Default ${DEFAULTS.shmSize}.` },
    tensorParallelSize: { type: 'integer', format: 'int32', minimum: 1, maximum: 64, description: 'Default: the nvidia.com/gpu limit (else request), else 1.' },
  },
};

const UPSTREAM: SchemaProps = {
  type: 'object',
  title: 'ModelWorkerUpstream',
  description: 'The OpenAI-compatible server of engine openai.',
  required: ['url'],
  properties: {
    url: { type: 'string', maxLength: 512, pattern: '^https?://[^ ]+$', description: 'e.g. https://api.openai.com/v1 or http://vllm.ml.svc:8000' },
    model: { type: 'string', maxLength: 256, description: 'Model name sent upstream. Default: the first of the upstream\'s /v1/models.' },
    api: { type: 'string', enum: ['auto', 'openai', 'vllm', 'sglang', 'llamacpp', 'tgi'], description: 'The upstream\'s dialect (extra sampling fields, metrics, tokenize). Default auto.' },
    apiKeySecretRef: {
      type: 'object',
      title: 'SecretKeyRef',
      description: 'Secret key holding the upstream API key (given to the adapter as an environment variable; never logged).',
      required: ['name', 'key'],
      properties: { name: { type: 'string', maxLength: 253 }, key: { type: 'string', maxLength: 253 } },
    },
  },
};

const AUTOSCALING: SchemaProps = {
  type: 'object',
  title: 'ModelWorkerAutoscaling',
  description: 'Scale replicas on the controller\'s queue lengths. When set, the operator owns spec.replicas (through the scale subresource).',
  required: ['maxReplicas'],
  properties: {
    minReplicas: { type: 'integer', format: 'int32', minimum: 1, default: DEFAULTS.minReplicas },
    maxReplicas: { type: 'integer', format: 'int32', minimum: 1, maximum: 1000 },
    targetQueueLength: {
      type: 'integer', format: 'int32', minimum: 1, default: DEFAULTS.targetQueueLength,
      description: 'Target requests per worker, waiting or running: replicas = ceil(total / target), within [min, max].',
    },
    scaleUpStabilizationSeconds: { type: 'integer', format: 'int32', minimum: 0, maximum: 3600, default: DEFAULTS.scaleUpStabilizationSeconds, description: 'Scale up to the lowest recommendation of this window.' },
    scaleDownStabilizationSeconds: { type: 'integer', format: 'int32', minimum: 0, maximum: 3600, default: DEFAULTS.scaleDownStabilizationSeconds, description: 'Scale down to the highest recommendation of this window.' },
  },
  'x-kubernetes-validations': [{ rule: 'self.minReplicas <= self.maxReplicas', message: 'autoscaling.minReplicas must not exceed autoscaling.maxReplicas' }],
};

export const SPEC_SCHEMA: SchemaProps = {
  type: 'object',
  title: 'ModelWorkerSpec',
  description: 'Desired state of a pool of fleetchat workers serving one model.',
  required: ['model'],
  properties: {
    model: MODEL,
    replicas: { type: 'integer', format: 'int32', minimum: 0, maximum: 1000, default: DEFAULTS.replicas, description: 'Number of workers (set by the operator when autoscaling is on).' },
    autoscaling: AUTOSCALING,
    maxConcurrency: { type: 'integer', format: 'int32', minimum: 1, maximum: 1024, default: DEFAULTS.maxConcurrency, description: 'Sequences each worker runs at once (its batch size).' },
    resources: RESOURCES,
    nodeSelector: stringMap('Node labels the worker pods must match.', 32),
    tolerations: TOLERATIONS,
    affinity: { type: 'object', description: 'Pod affinity rules (core/v1 Affinity).', 'x-kubernetes-preserve-unknown-fields': true, tsType: 'V1Affinity' },
    image: { type: 'string', maxLength: 512, description: 'Worker image. Default: the operator\'s --worker-image, or --worker-gpu-image for workers that request nvidia.com/gpu.' },
    imagePullPolicy: { type: 'string', enum: ['Always', 'IfNotPresent', 'Never'] },
    env: ENV,
    controllerAddress: { type: 'string', maxLength: 260, pattern: '^[A-Za-z0-9.-]+:[0-9]{1,5}$', description: 'host:port of the fleetchat controller. Default: the operator\'s --controller.' },
    cache: {
      type: 'object',
      title: 'ModelWorkerCache',
      description: 'Model cache of each pod: an emptyDir (optionally size-limited) or a shared PersistentVolumeClaim.',
      properties: { claimName: { type: 'string', pattern: DNS_LABEL, maxLength: 253 }, sizeLimit: QUANTITY },
    },
    extraArgs: { type: 'array', maxItems: 32, items: { type: 'string', maxLength: 1024 }, description: 'Extra `fleetchat worker` flags, e.g. ["--threads", "8"].' },
    gpu: {
      type: 'object',
      title: 'ModelWorkerGpu',
      description: 'Workers that request nvidia.com/gpu run the GPU image with --device cuda, one GPU each.',
      properties: { allowTF32: { type: 'boolean', default: false, description: 'Let CUDA use TF32 matrix math (faster fp32; greedy tokens may differ from the CPU). Default: off (NVIDIA_TF32_OVERRIDE=0).' } },
    },
    engine: {
      type: 'string', enum: [...ENGINES], default: DEFAULTS.engine,
      description: 'onnx: fleetchat\'s own engine. vllm / sglang: the engine runs in its own container (engineContainer) with the fleetchat adapter ' +
        'beside it in the pod; resources (GPUs) go to the engine. openai: the adapter relays to an OpenAI-compatible server outside the cluster (upstream).',
    },
    engineContainer: ENGINE_CONTAINER,
    upstream: UPSTREAM,
  },
  'x-kubernetes-validations': [
    { rule: "has(self.model.source) || (has(self.engine) && self.engine == 'openai')", message: 'model.source is required unless engine is openai' },
    { rule: "!has(self.engine) || self.engine != 'openai' || has(self.upstream)", message: 'engine openai needs upstream.url' },
    { rule: "!has(self.engine) || !(self.engine in ['vllm', 'sglang']) || (has(self.model.source) && self.model.source != 'default')", message: 'engines vllm and sglang need model.source hf:, pvc:// or a hub mirror URL' },
  ],
};

const CONDITION: SchemaProps = {
  type: 'object',
  title: 'ModelWorkerCondition',
  required: ['type', 'status', 'reason', 'lastTransitionTime'],
  properties: {
    type: { type: 'string', enum: ['Ready', 'Progressing', 'Degraded'] },
    status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
    reason: { type: 'string', maxLength: 1024 },
    message: { type: 'string', maxLength: 32768 },
    lastTransitionTime: { type: 'string', format: 'date-time' },
    observedGeneration: { type: 'integer', format: 'int64', minimum: 0 },
  },
};

export const STATUS_SCHEMA: SchemaProps = {
  type: 'object',
  title: 'ModelWorkerStatus',
  description: 'Observed state, written by the operator once per reconcile.',
  properties: {
    observedGeneration: { type: 'integer', format: 'int64', description: 'The metadata.generation this status describes.' },
    replicas: { type: 'integer', format: 'int32', description: 'Pods of the Deployment.' },
    readyReplicas: { type: 'integer', format: 'int32', description: 'Ready pods of the Deployment.' },
    updatedReplicas: { type: 'integer', format: 'int32', description: 'Pods already running the current spec.' },
    registeredWorkers: { type: 'integer', format: 'int32', description: 'Workers of this ModelWorker registered with the controller.' },
    queueLength: { type: 'integer', format: 'int32', description: 'Requests waiting or running on those workers (last autoscaling input).' },
    selector: { type: 'string', description: 'Label selector of the pods (for the scale subresource).' },
    lastScaleTime: { type: 'string', format: 'date-time' },
    conditions: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'], maxItems: 8, items: CONDITION },
  },
};
