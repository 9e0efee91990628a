import { CoreV1Api } from '@kubernetes/client-node';
import { k8sDescribe, startEnvtest, type Envtest } from './envtest';

k8sDescribe()('envtest harness', () => {
  let env: Envtest;
  beforeAll(async () => {
    env = await startEnvtest();
  });
  afterAll(() => env?.stop());

  it('serves the API with the admin token', async () => {
    const core = env.kubeConfig.makeApiClient(CoreV1Api);
    const list = await core.listNamespace();
    expect(list.items.map((n) => n.metadata?.name)).toEqual(expect.arrayContaining(['default', 'kube-system']));
  });
});
