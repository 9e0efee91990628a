/** The few API calls the operator makes, as a thin executor over @kubernetes/client-node. */
import {
  AppsV1Api, CoreV1Api, CustomObjectsApi, KubernetesObjectApi, PatchStrategy, setHeaderOptions,
  type KubeConfig, type KubernetesObject,
} from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION } from '../api/v1alpha1/schema';
import type { ModelWorker, ModelWorkerStatus } from '../api/v1alpha1/types';

export interface KubeClient {
  /** Server-side apply with the operator's field manager (force: the operator owns these fields). */
  apply<T extends KubernetesObject>(object: T): Promise<T>;
  /** Merge-patches metadata.finalizers, guarded by resourceVersion (409 when the object changed meanwhile). */
  setFinalizers(mw: ModelWorker, finalizers: string[]): Promise<ModelWorker>;
  /** Writes spec.replicas through the scale subresource, guarded by resourceVersion. */
  scale(mw: ModelWorker, replicas: number): Promise<void>;
  /** Replaces the status (merge patch of the status subresource), guarded by resourceVersion. */
  writeStatus(mw: ModelWorker, status: ModelWorkerStatus): Promise<ModelWorker>;
  readModelWorker(namespace: string, name: string): Promise<ModelWorker>;
  listModelWorkers(namespace: string | undefined): Promise<{ items: ModelWorker[]; metadata?: { resourceVersion?: string } }>;
  core: CoreV1Api;
  apps: AppsV1Api;
}

const mergePatch = (): ReturnType<typeof setHeaderOptions> => setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export function kubeClient(kc: KubeConfig, fieldManager: string): KubeClient {
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const target = (mw: ModelWorker): { group: string; version: string; plural: string; namespace: string; name: string } => ({ group: GROUP, version: VERSION, plural: PLURAL, namespace: mw.metadata.namespace, name: mw.metadata.name });
  return {
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    apply: (object) => objects.patch(object, undefined, undefined, fieldManager, true, PatchStrategy.ServerSideApply),
    setFinalizers: async (mw, finalizers) => (await custom.patchNamespacedCustomObject(
      { ...target(mw), body: { metadata: { finalizers, resourceVersion: mw.metadata.resourceVersion } }, fieldManager }, mergePatch())) as ModelWorker,
    scale: async (mw, replicas) => {
      await custom.patchNamespacedCustomObjectScale({ ...target(mw), body: { metadata: { resourceVersion: mw.metadata.resourceVersion }, spec: { replicas } }, fieldManager }, mergePatch());
    },
    writeStatus: async (mw, status) => (await custom.patchNamespacedCustomObjectStatus(
      { ...target(mw), body: { metadata: { resourceVersion: mw.metadata.resourceVersion }, status }, fieldManager }, mergePatch())) as ModelWorker,
    readModelWorker: async (namespace, name) => (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace, name })) as ModelWorker,
    listModelWorkers: async (namespace) => (namespace
      ? await custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace })
      : await custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL })) as { items: ModelWorker[]; metadata?: { resourceVersion?: string } },
  };
}
