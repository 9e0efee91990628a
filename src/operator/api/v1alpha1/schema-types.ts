/**
 * The subset of Kubernetes' JSONSchemaProps that the ModelWorker schema uses, plus `tsType` (read by the type
 * generator to name a Kubernetes type for a field, stripped from the CRD). Reusable schema pieces live here too.
 */
export interface CelRule {
  rule: string;
  message: string;
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

export interface SchemaProps {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  title?: string;
  description?: string;
  format?: string;
  properties?: Record<string, SchemaProps>;
  required?: string[];
  additionalProperties?: SchemaProps | boolean;
  items?: SchemaProps;
  enum?: Array<string | number>;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  maxProperties?: number;
  pattern?: string;
  anyOf?: SchemaProps[];
  nullable?: boolean;
  tsType?: string;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-validations'?: CelRule[];
}

/** A Kubernetes resource quantity ("1", "500m", "16Gi"); checked by CEL's isQuantity for a readable message. */
export const QUANTITY: SchemaProps = {
  anyOf: [{ type: 'integer' }, { type: 'string' }],
  maxLength: 64,
  'x-kubernetes-int-or-string': true,
  'x-kubernetes-validations': [{ rule: 'type(self) == int || isQuantity(self)', message: 'must be a quantity such as 2, 500m or 16Gi' }],
  tsType: 'number | string',
};

export const DNS_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
export const DNS_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

export function stringMap(description: string, maxProperties: number): SchemaProps {
  return { type: 'object', description, additionalProperties: { type: 'string' }, maxProperties };
}

export const RESOURCES: SchemaProps = {
  type: 'object',
  title: 'ModelWorkerResources',
  description: 'Compute resources of each worker container (cpu, memory, nvidia.com/gpu, ...). A GPU request without a limit gets the same limit.',
  properties: {
    requests: { type: 'object', description: 'Minimum resources.', additionalProperties: QUANTITY, maxProperties: 16 },
    limits: { type: 'object', description: 'Maximum resources; extended resources such as nvidia.com/gpu must be whole numbers.', additionalProperties: QUANTITY, maxProperties: 16 },
  },
};

export const TOLERATIONS: SchemaProps = {
  type: 'array',
  description: 'Tolerations of the worker pods (e.g. for tainted GPU nodes).',
  maxItems: 32,
  'x-kubernetes-list-type': 'atomic',
  tsType: 'V1Toleration[]',
  items: {
    type: 'object',
    properties: {
      key: { type: 'string', maxLength: 316 },
      operator: { type: 'string', enum: ['Exists', 'Equal'] },
      value: { type: 'string', maxLength: 63 },
      effect: { type: 'string', enum: ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] },
      tolerationSeconds: { type: 'integer', format: 'int64' },
    },
  },
};

const KEY_REF: SchemaProps = {
  type: 'object',
  required: ['name', 'key'],
  properties: {
    name: { type: 'string', pattern: DNS_SUBDOMAIN, maxLength: 253 },
    key: { type: 'string', minLength: 1, maxLength: 253 },
    optional: { type: 'boolean' },
  },
};

export const ENV: SchemaProps = {
  type: 'array',
  description: 'Extra environment variables of the worker container.',
  maxItems: 64,
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': ['name'],
  tsType: 'V1EnvVar[]',
  items: {
    type: 'object',
    required: ['name'],
    properties: {
      name: { type: 'string', pattern: '^[-._a-zA-Z][-._a-zA-Z0-9]*$', maxLength: 256 },
      value: { type: 'string' },
      valueFrom: {
        type: 'object',
        properties: {
          secretKeyRef: KEY_REF,
          configMapKeyRef: KEY_REF,
          fieldRef: { type: 'object', required: ['fieldPath'], properties: { fieldPath: { type: 'string' }, apiVersion: { type: 'string' } } },
        },
        maxProperties: 1,
      },
    },
    'x-kubernetes-validations': [{ rule: '!(has(self.value) && has(self.valueFrom))', message: 'env: give value or valueFrom, not both' }],
  },
};
