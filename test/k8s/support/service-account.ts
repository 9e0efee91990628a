/** Clients that act as a ServiceAccount (a token from the TokenRequest API), to test RBAC as it really applies. */
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';

export async function serviceAccountKubeConfig(admin: KubeConfig, server: string, caFile: string, namespace: string, name: string): Promise<KubeConfig> {
  const request = await admin.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({ namespace, name, body: { spec: { audiences: [], expirationSeconds: 3600 } } });
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'envtest', server, caFile, skipTLSVerify: false }],
    users: [{ name, token: request.status!.token }],
    contexts: [{ name: 'sa', cluster: 'envtest', user: name, namespace }],
    currentContext: 'sa',
  });
  return kc;
}
