/** The ModelWorker CustomResourceDefinition, built from schema.ts (pure; `npm run gen:crd` writes it as YAML). */
import { GROUP, KIND, PLURAL, SHORT_NAMES, SINGULAR, SPEC_SCHEMA, STATUS_SCHEMA, VERSION } from './schema';
import type { SchemaProps } from './schema-types';

/** Longest ModelWorker name: it names the Deployment and Service, and pod names add two hashes. */
export const MAX_NAME_LENGTH = 50;

/** Drops the generator-only keys (tsType) recursively. */
export function toOpenApi(schema: SchemaProps): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'tsType') continue;
    if (key === 'properties' && value && typeof value === 'object') {
      out[key] = Object.fromEntries(Object.entries(value as Record<string, SchemaProps>).map(([k, v]) => [k, toOpenApi(v)]));
    } else if ((key === 'items' || key === 'additionalProperties') && value && typeof value === 'object') {
      out[key] = toOpenApi(value as SchemaProps);
    } else if (key === 'anyOf' && Array.isArray(value)) {
      out[key] = (value as SchemaProps[]).map(toOpenApi);
    } else {
      out[key] = value;
    }
  }
  return out;
}

export const ROOT_SCHEMA: SchemaProps = {
  type: 'object',
  description: 'A pool of fleetchat workers serving one model: the operator runs it as a Deployment and a Service.',
  required: ['spec'],
  properties: {
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    metadata: { type: 'object' },
    spec: SPEC_SCHEMA,
    status: STATUS_SCHEMA,
  },
  'x-kubernetes-validations': [{
    rule: `size(self.metadata.name) <= ${MAX_NAME_LENGTH} && self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')`,
    message: `metadata.name must start with a letter, hold only lowercase letters, digits and '-', and have at most ${MAX_NAME_LENGTH} characters (it names the worker Deployment and Service)`,
  }],
};

const PRINTER_COLUMNS = [
  { name: 'Model', type: 'string', jsonPath: '.spec.model.source' },
  { name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas' },
  { name: 'Ready', type: 'integer', jsonPath: '.status.readyReplicas' },
  { name: 'Workers', type: 'integer', jsonPath: '.status.registeredWorkers', description: 'workers registered with the controller' },
  { name: 'Status', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].reason' },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
];

/** The CRD in its wire (JSON) form: keys as the API server spells them, e.g. `x-kubernetes-int-or-string`. */
export interface CrdManifest {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  spec: Record<string, unknown>;
}

export function buildCrd(): CrdManifest {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${PLURAL}.${GROUP}` },
    spec: {
      group: GROUP,
      scope: 'Namespaced',
      names: { kind: KIND, listKind: `${KIND}List`, plural: PLURAL, singular: SINGULAR, shortNames: [...SHORT_NAMES], categories: ['fleetchat'] },
      versions: [{
        name: VERSION,
        served: true,
        storage: true,
        schema: { openAPIV3Schema: toOpenApi(ROOT_SCHEMA) },
        subresources: { status: {}, scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' } },
        additionalPrinterColumns: PRINTER_COLUMNS,
      }],
    },
  };
}
