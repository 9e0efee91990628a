import { parseConfig } from '../../../src/common/config';
import { FleetError } from '../../../src/common/errors';
import { validJobSpec } from '../../../src/jobs/submit/job-spec';
import { describePod, jobState } from '../../../src/jobs/submit/job-state';
import { SUBMIT_OPTIONS } from '../../../src/jobs/submit/options';
import { renderJob } from '../../../src/jobs/submit/render';

const KNOWN = ['clean-sharegpt', 'gen-judgment'];
const spec = (flags: string[], command: string[] = ['clean-sharegpt']) => validJobSpec(parseConfig(SUBMIT_OPTIONS, flags), command, KNOWN, 'team-a');

describe('jobs submit: the Job spec', () => {
  it('names the Job after the command, in the kubeconfig namespace by default', () => {
    const s = spec([]);
    expect(s.name).toMatch(/^fleetchat-clean-sharegpt-[0-9a-f]{6}$/);
    expect(s.namespace).toBe('team-a');
    expect(s.args).toEqual(['jobs', 'clean-sharegpt']);
  });

  it('renders volumes, env from Secrets and GPU resources', () => {
    const job = renderJob(spec(['--volume', 'data:/data', '--volume', 'models:/models:ro', '--env-from-secret', 'judge-keys', '--gpus', '2', '--node-selector', 'pool=gpu', '--service-account', 'runner', '--active-deadline', '2h']));
    const pod = job.spec!.template.spec!;
    expect(pod.volumes).toEqual([{ name: 'volume-0', persistentVolumeClaim: { claimName: 'data' } }, { name: 'volume-1', persistentVolumeClaim: { claimName: 'models', readOnly: true } }]);
    expect(pod.containers[0].volumeMounts).toEqual([{ name: 'volume-0', mountPath: '/data' }, { name: 'volume-1', mountPath: '/models', readOnly: true }]);
    expect(pod.containers[0].envFrom).toEqual([{ secretRef: { name: 'judge-keys' } }]);
    expect(pod.containers[0].resources).toEqual({ requests: { 'nvidia.com/gpu': '2' }, limits: { 'nvidia.com/gpu': '2' } });
    expect(pod).toMatchObject({ nodeSelector: { pool: 'gpu' }, serviceAccountName: 'runner', restartPolicy: 'Never' });
    expect(job.spec!.activeDeadlineSeconds).toBe(7200);
  });

  it.each([
    [['--volume', 'data'], [], /--volume: expected CLAIM:\/path\[:ro\], got 'data'/],
    [['--volume', 'data:relative'], [], /mount path 'relative' must be absolute/],
    [['--volume', 'Data:/x'], [], /'Data' is not a PersistentVolumeClaim name/],
    [['--env', 'NOVALUE'], [], /--env: expected NAME=VALUE/],
    [['--secret-env', 'KEY=secret'], [], /--secret-env: expected NAME=SECRET:KEY/],
    [['--memory', 'lots'], [], /--memory: 'lots' is not a quantity/],
    [['--name', 'Bad_Name'], [], /--name: 'Bad_Name' must be a lowercase DNS label/],
    [[], ['submit'], /'submit' is not a fleetchat jobs command/],
    [[], ['gen-answers'], /'gen-answers' is not a fleetchat jobs command \(one of: clean-sharegpt, gen-judgment\)/],
  ])('refuses %j %j', (flags, command, message) => {
    let error: unknown;
    try {
      spec(flags, command.length > 0 ? command : ['clean-sharegpt']);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(FleetError);
    expect((error as FleetError).kind).toBe('invalid_request');
    expect((error as FleetError).message).toMatch(message);
  });
});

describe('jobs submit: reading a Job', () => {
  it('tells success, failure and still running apart', () => {
    expect(jobState({ status: { conditions: [{ type: 'Complete', status: 'True' }] } })).toEqual({ phase: 'succeeded' });
    expect(jobState({ status: { conditions: [{ type: 'Failed', status: 'True', reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' }] } }))
      .toEqual({ phase: 'failed', reason: 'DeadlineExceeded: Job was active longer than specified deadline' });
    expect(jobState({ status: { conditions: [{ type: 'Failed', status: 'False' }] } })).toEqual({ phase: 'running' });
  });

  it('describes a pod by phase and the reason it waits or the code it exited with', () => {
    expect(describePod({ metadata: { name: 'p' }, status: { phase: 'Pending', containerStatuses: [{ name: 'job', image: 'i', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff' } } }] } })).toBe('pod p Pending (ImagePullBackOff)');
    expect(describePod({ metadata: { name: 'p' }, status: { phase: 'Failed', containerStatuses: [{ name: 'job', image: 'i', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 2 } } }] } })).toBe('pod p Failed (exit code 2)');
  });
});
