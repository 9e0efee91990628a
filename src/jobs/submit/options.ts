/** Flags of `fleetchat jobs submit` (each also a FLEETCHAT_* environment variable). */
import { boolOption, durationOption, intOption, listOption, stringOption, type ConfigOf } from '../../common/config';

export const SUBMIT_OPTIONS = {
  kubeconfig: stringOption({ flag: '--kubeconfig', description: 'kubeconfig file (default: in-cluster, then $KUBECONFIG / ~/.kube/config)', default: '' }),
  namespace: stringOption({ flag: '--namespace', description: 'namespace of the Job (default: the kubeconfig context\'s)', default: '' }),
  name: stringOption({ flag: '--name', description: 'Job name (default: fleetchat-<command>-<random>)', default: '' }),
  image: stringOption({ flag: '--image', description: 'fleetchat image that runs the command', default: 'ghcr.io/fleetchat/fleetchat:latest' }),
  imagePullPolicy: stringOption({ flag: '--image-pull-policy', description: 'Always, IfNotPresent or Never (default: the cluster\'s)', default: '' }),
  volume: listOption({ flag: '--volume', description: 'mount a PersistentVolumeClaim: CLAIM:/path[:ro] (repeatable)', default: [] }),
  env: listOption({ flag: '--env', description: 'environment variable NAME=VALUE (repeatable)', default: [] }),
  secretEnv: listOption({ flag: '--secret-env', description: 'environment variable from a Secret: NAME=SECRET:KEY (repeatable)', default: [] }),
  envFromSecret: listOption({ flag: '--env-from-secret', description: 'every key of a Secret as environment variables (repeatable)', default: [] }),
  cpu: stringOption({ flag: '--cpu', description: 'CPU request, e.g. 2 or 500m', default: '' }),
  memory: stringOption({ flag: '--memory', description: 'memory request and limit, e.g. 8Gi', default: '' }),
  gpus: intOption({ flag: '--gpus', description: 'nvidia.com/gpu request and limit', default: 0, min: 0, max: 64 }),
  nodeSelector: listOption({ flag: '--node-selector', description: 'node labels the pod must match: k=v (repeatable)', default: [] }),
  serviceAccount: stringOption({ flag: '--service-account', description: 'ServiceAccount of the pod (default: the namespace\'s default)', default: '' }),
  backoffLimit: intOption({ flag: '--backoff-limit', description: 'retries of a failed pod (the pipelines resume where they stopped)', default: 1, min: 0, max: 100 }),
  activeDeadline: durationOption({ flag: '--active-deadline', description: 'the Job fails after running this long (0 = no limit)', default: 0, defaultLabel: 'none' }),
  ttlAfterFinished: durationOption({ flag: '--ttl-after-finished', description: 'the finished Job is deleted after this long', default: 86_400_000, defaultLabel: '24h' }),
  follow: boolOption({ flag: '--follow', description: 'wait for the Job to finish, printing its progress (--no-follow: submit and return)', default: true }),
  timeout: durationOption({ flag: '--timeout', description: 'stop following after this long (0 = until the Job finishes)', default: 0, defaultLabel: 'none' }),
  dryRun: boolOption({ flag: '--dry-run', description: 'print the Job as YAML instead of creating it', default: false }),
  logLevel: stringOption({ flag: '--log-level', description: 'log level', default: 'warn' }),
};

export type SubmitConfig = ConfigOf<typeof SUBMIT_OPTIONS>;
