/**
 * The validated description of a Job to submit (pure parsing of the CLI's strings). Every malformed value is a
 * FleetError('invalid_request') naming the flag.
 */
import { randomBytes } from 'node:crypto';
import { FleetError } from '../../common/errors';
import type { SubmitConfig } from './options';

export interface JobVolume {
  claim: string;
  mountPath: string;
  readOnly: boolean;
}

export interface JobEnv {
  name: string;
  value?: string;
  secret?: { name: string; key: string };
}

export interface ValidJobSpec {
  name: string;
  namespace: string;
  image: string;
  imagePullPolicy?: string;
  /** `fleetchat` arguments: ['jobs', <command>, ...args]. */
  args: string[];
  command: string;
  volumes: JobVolume[];
  env: JobEnv[];
  envFromSecrets: string[];
  requests: Record<string, string>;
  limits: Record<string, string>;
  nodeSelector: Record<string, string>;
  serviceAccount?: string;
  backoffLimit: number;
  activeDeadlineSeconds?: number;
  ttlSecondsAfterFinished: number;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const QUANTITY = /^([0-9]+(\.[0-9]+)?|\.[0-9]+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;
const LABEL_KEY = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

function bad(param: string, message: string): never {
  throw new FleetError('invalid_request', `${param}: ${message}`, { param });
}

export function parseVolume(raw: string): JobVolume {
  const [claim, mountPath, mode, ...rest] = raw.split(':');
  if (!claim || !mountPath || rest.length > 0 || (mode !== undefined && mode !== 'ro' && mode !== 'rw')) bad('--volume', `expected CLAIM:/path[:ro], got '${raw}'`);
  if (!DNS_LABEL.test(claim) || claim.length > 253) bad('--volume', `'${claim}' is not a PersistentVolumeClaim name`);
  if (!mountPath.startsWith('/') || mountPath.split('/').includes('..')) bad('--volume', `mount path '${mountPath}' must be absolute, without '..'`);
  return { claim, mountPath, readOnly: mode === 'ro' };
}

function splitPair(raw: string, param: string, shape: string): [string, string] {
  const i = raw.indexOf('=');
  if (i <= 0) bad(param, `expected ${shape}, got '${raw}'`);
  return [raw.slice(0, i), raw.slice(i + 1)];
}

export function parseEnv(raw: string): JobEnv {
  const [name, value] = splitPair(raw, '--env', 'NAME=VALUE');
  if (!ENV_NAME.test(name)) bad('--env', `'${name}' is not an environment variable name`);
  return { name, value };
}

export function parseSecretEnv(raw: string): JobEnv {
  const [name, ref] = splitPair(raw, '--secret-env', 'NAME=SECRET:KEY');
  const [secret, key, ...rest] = ref.split(':');
  if (!ENV_NAME.test(name)) bad('--secret-env', `'${name}' is not an environment variable name`);
  if (!secret || !key || rest.length > 0 || !DNS_LABEL.test(secret)) bad('--secret-env', `expected NAME=SECRET:KEY, got '${raw}'`);
  return { name, secret: { name: secret, key } };
}

function quantity(param: string, raw: string): string {
  if (!QUANTITY.test(raw)) bad(param, `'${raw}' is not a quantity such as 2, 500m or 8Gi`);
  return raw;
}

function resources(config: SubmitConfig): { requests: Record<string, string>; limits: Record<string, string> } {
  const requests: Record<string, string> = {};
  const limits: Record<string, string> = {};
  if (config.cpu) requests.cpu = quantity('--cpu', config.cpu);
  if (config.memory) requests.memory = limits.memory = quantity('--memory', config.memory);
  if (config.gpus > 0) requests['nvidia.com/gpu'] = limits['nvidia.com/gpu'] = String(config.gpus);
  return { requests, limits };
}

function nodeSelector(items: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of items) {
    const [k, v] = splitPair(raw, '--node-selector', 'key=value');
    if (!LABEL_KEY.test(k)) bad('--node-selector', `'${k}' is not a label key`);
    out[k] = v;
  }
  return out;
}

function jobName(config: SubmitConfig, command: string): string {
  const name = config.name || `fleetchat-${command}-${randomBytes(3).toString('hex')}`.slice(0, 63).replace(/-+$/, '');
  if (!DNS_LABEL.test(name) || name.length > 63) bad('--name', `'${name}' must be a lowercase DNS label of at most 63 characters`);
  return name;
}

/**
 * `command` is what follows `jobs submit`: a `fleetchat jobs` subcommand and its arguments; `known` lists the
 * subcommands this binary has (so a typo fails here, not in the cluster).
 */
export function validJobSpec(config: SubmitConfig, command: string[], known: readonly string[], defaultNamespace: string): ValidJobSpec {
  const [sub, ...args] = command;
  if (!sub) bad('command', `give the jobs command to run, e.g. 'fleetchat jobs submit --image IMAGE -- ${known[0] ?? 'elo'} --help'`);
  if (sub === 'submit' || !known.includes(sub)) bad('command', `'${sub}' is not a fleetchat jobs command (one of: ${known.join(', ')})`);
  const namespace = config.namespace || defaultNamespace;
  if (!DNS_LABEL.test(namespace)) bad('--namespace', `'${namespace}' is not a namespace name`);
  if (config.imagePullPolicy && !['Always', 'IfNotPresent', 'Never'].includes(config.imagePullPolicy)) bad('--image-pull-policy', `expected Always, IfNotPresent or Never, got '${config.imagePullPolicy}'`);
  const envFromSecrets = config.envFromSecret.map((s) => (DNS_LABEL.test(s) ? s : bad('--env-from-secret', `'${s}' is not a Secret name`)));
  if (config.serviceAccount && !DNS_LABEL.test(config.serviceAccount)) bad('--service-account', `'${config.serviceAccount}' is not a ServiceAccount name`);
  return {
    name: jobName(config, sub),
    namespace,
    image: config.image,
    imagePullPolicy: config.imagePullPolicy || undefined,
    args: ['jobs', sub, ...args],
    command: sub,
    volumes: config.volume.map(parseVolume),
    env: [...config.env.map(parseEnv), ...config.secretEnv.map(parseSecretEnv)],
    envFromSecrets,
    ...resources(config),
    nodeSelector: nodeSelector(config.nodeSelector),
    serviceAccount: config.serviceAccount || undefined,
    backoffLimit: config.backoffLimit,
    activeDeadlineSeconds: config.activeDeadline > 0 ? Math.ceil(config.activeDeadline / 1000) : undefined,
    ttlSecondsAfterFinished: Math.ceil(config.ttlAfterFinished / 1000),
  };
}
