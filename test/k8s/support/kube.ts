/** Helpers for the real-API-server tests: apply YAML like `kubectl apply --server-side`, install the CRD, poll. */
import { readFileSync } from 'node:fs';
import {
  ApiException, ApiextensionsV1Api, CoreV1Api, KubernetesObjectApi, PatchStrategy, loadAllYaml,
  type KubeConfig, type KubernetesObject,
} from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { buildCrd, type CrdManifest } from '../../../src/operator/api/v1alpha1/crd';

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `probe` until it returns a value other than undefined/false; fails with the last value after `timeoutMs`. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      last = value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    await sleep(everyMs);
  }
}

/** The server's error text (`ModelWorker.fleetchat.dev "x" is invalid: ...`) of a failed call. */
export function apiMessage(err: unknown): string {
  if (err instanceof ApiException) {
    try {
      const body = typeof err.body === 'string' ? (JSON.parse(err.body) as { message?: string }) : (err.body as { message?: string });
      return body.message ?? String(err.body);
    } catch {
      return String(err.body);
    }
  }
  return err instanceof Error ? err.message : String(err);
}

export async function expectRejected(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (err) {
    return apiMessage(err);
  }
  throw new Error('the API server accepted a request it should have refused');
}

/** Server-side apply of every document of a YAML text (what `kubectl apply --server-side -f` does). */
export async function applyYaml(kc: KubeConfig, text: string, options: { namespace?: string; fieldManager?: string } = {}): Promise<KubernetesObject[]> {
  const api = KubernetesObjectApi.makeApiClient(kc);
  const out: KubernetesObject[] = [];
  for (const doc of loadAllYaml(text) as KubernetesObject[]) {
    if (!doc || !doc.kind) continue;
    if (options.namespace) doc.metadata = { ...doc.metadata, namespace: doc.metadata?.namespace ?? options.namespace };
    out.push(await api.patch(doc, undefined, undefined, options.fieldManager ?? 'kubectl', true, PatchStrategy.ServerSideApply));
  }
  return out;
}

export function applyFile(kc: KubeConfig, file: string, options: { namespace?: string; fieldManager?: string } = {}): Promise<KubernetesObject[]> {
  return applyYaml(kc, readFileSync(file, 'utf8'), options);
}

/** Installs (server-side applies) the ModelWorker CRD and waits until it is Established. */
export async function installCrd(kc: KubeConfig, crd: CrdManifest = buildCrd()): Promise<void> {
  // Through YAML so client-node maps the wire keys (x-kubernetes-*) onto its typed model.
  await applyYaml(kc, stringify(crd), { fieldManager: 'fleetchat-test' });
  await waitEstablished(kc, crd.metadata.name);
}

export async function waitEstablished(kc: KubeConfig, name: string): Promise<void> {
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  await eventually(`CRD ${name} Established`, async () => {
    const got = await ext.readCustomResourceDefinition({ name });
    return got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
  });
}

export async function createNamespace(kc: KubeConfig, name: string): Promise<string> {
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } });
  return name;
}
