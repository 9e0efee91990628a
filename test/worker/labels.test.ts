import { parseLabels } from '../../src/worker/main';
import { tinyModel } from '../support/models';
import { startStack } from '../support/stack';

describe('worker labels', () => {
  it('reach the controller registry', async () => {
    const stack = await startStack({ workers: [{ model: await tinyModel(), names: ['tiny'], args: ['--labels', 'fleetchat.dev/model-worker=ns1/mw,team=a=b'] }] });
    try {
      const [entry] = stack.controller.registry.list('tiny');
      expect(entry.info.labels).toEqual({ 'fleetchat.dev/model-worker': 'ns1/mw', team: 'a=b' });
    } finally {
      await stack.stop();
    }
  }, 60_000);

  it('refuse a pair without a key', () => {
    expect(() => parseLabels(['=x'])).toThrow(/expected key=value, got '=x'/);
    expect(() => parseLabels(['novalue'])).toThrow(/expected key=value/);
  });
});
