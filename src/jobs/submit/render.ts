/** The batch/v1 Job of a ValidJobSpec (pure). */
import type { V1EnvVar, V1Job } from '@kubernetes/client-node';
import type { ValidJobSpec } from './job-spec';

export const JOB_CONTAINER = 'job';
export const SUBMITTED_BY = 'fleetchat-jobs-submit';

function env(spec: ValidJobSpec): V1EnvVar[] {
  return spec.env.map((e) => (e.secret ? { name: e.name, valueFrom: { secretKeyRef: { name: e.secret.name, key: e.secret.key } } } : { name: e.name, value: e.value ?? '' }));
}

export function renderJob(spec: ValidJobSpec): V1Job {
  const labels = { 'app.kubernetes.io/name': 'fleetchat-job', 'app.kubernetes.io/component': spec.command, 'app.kubernetes.io/part-of': 'fleetchat', 'app.kubernetes.io/managed-by': SUBMITTED_BY };
  const resources: { requests?: Record<string, string>; limits?: Record<string, string> } = {};
  if (Object.keys(spec.requests).length > 0) resources.requests = spec.requests;
  if (Object.keys(spec.limits).length > 0) resources.limits = spec.limits;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: spec.name, namespace: spec.namespace, labels },
    spec: {
      backoffLimit: spec.backoffLimit,
      activeDeadlineSeconds: spec.activeDeadlineSeconds,
      ttlSecondsAfterFinished: spec.ttlSecondsAfterFinished,
      template: {
        metadata: { labels: { ...labels } },
        spec: {
          restartPolicy: 'Never',
          serviceAccountName: spec.serviceAccount,
          automountServiceAccountToken: spec.serviceAccount ? undefined : false,
          nodeSelector: Object.keys(spec.nodeSelector).length > 0 ? spec.nodeSelector : undefined,
          securityContext: { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [{
            name: JOB_CONTAINER,
            image: spec.image,
            imagePullPolicy: spec.imagePullPolicy,
            args: spec.args,
            env: spec.env.length > 0 ? env(spec) : undefined,
            envFrom: spec.envFromSecrets.length > 0 ? spec.envFromSecrets.map((name) => ({ secretRef: { name } })) : undefined,
            resources,
            volumeMounts: spec.volumes.length > 0 ? spec.volumes.map((v, i) => ({ name: `volume-${i}`, mountPath: v.mountPath, readOnly: v.readOnly || undefined })) : undefined,
            securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
          }],
          volumes: spec.volumes.length > 0 ? spec.volumes.map((v, i) => ({ name: `volume-${i}`, persistentVolumeClaim: { claimName: v.claim, readOnly: v.readOnly || undefined } })) : undefined,
        },
      },
    },
  };
}
