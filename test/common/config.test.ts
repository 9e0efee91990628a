import {
  addressOption, boolOption, durationOption, enumOption, envName, floatOption, intOption, listOption, parseConfig, parseDurationMs, stringOption,
} from '../../src/common/config';

const schema = {
  maxQueue: intOption({ flag: '--max-queue', description: 'queue', default: 256, min: 1 }),
  temperature: floatOption({ flag: '--temperature', description: 't', default: 0.7, min: 0, max: 2 }),
  names: listOption({ flag: '--model-names', description: 'names', default: [] }),
  dispatch: enumOption({ flag: '--dispatch', description: 'd', default: 'shortest_queue', choices: ['shortest_queue', 'lottery'] as const }),
  expiry: durationOption({ flag: '--heartbeat-expiry', description: 'e', default: 90_000 }),
  verbose: boolOption({ flag: '--verbose', description: 'v', default: false }),
  address: addressOption({ flag: '--listen', description: 'l', default: '127.0.0.1:0' }),
  model: stringOption({ flag: '--model', description: 'm', default: '' }),
};

describe('config', () => {
  it('derives environment variable names from flags', () => {
    expect(envName('--max-queue')).toBe('FLEETCHAT_MAX_QUEUE');
  });

  it('uses defaults when nothing is given', () => {
    expect(parseConfig(schema)).toEqual({
      maxQueue: 256, temperature: 0.7, names: [], dispatch: 'shortest_queue', expiry: 90_000, verbose: false, address: '127.0.0.1:0', model: '',
    });
  });

  it('reads environment variables and lets flags win over them', () => {
    const env = { FLEETCHAT_MAX_QUEUE: '8', FLEETCHAT_MODEL_NAMES: 'a,b', FLEETCHAT_VERBOSE: 'true', FLEETCHAT_MODEL: 'env-model' };
    const cfg = parseConfig(schema, ['--model', 'flag-model', '--heartbeat-expiry', '45s'], env);
    expect(cfg.maxQueue).toBe(8);
    expect(cfg.names).toEqual(['a', 'b']);
    expect(cfg.verbose).toBe(true);
    expect(cfg.model).toBe('flag-model');
    expect(cfg.expiry).toBe(45_000);
  });

  it('appends repeated list flags', () => {
    expect(parseConfig(schema, ['--model-names', 'a', '--model-names', 'b,c']).names).toEqual(['a', 'b', 'c']);
  });

  it.each([
    [['--max-queue', '0'], /must be >= 1/],
    [['--max-queue', 'x'], /expected an integer/],
    [['--temperature', '3'], /must be <= 2/],
    [['--dispatch', 'random'], /expected one of shortest_queue, lottery/],
    [['--listen', 'nohost'], /expected host:port/],
    [['--heartbeat-expiry', 'soon'], /expected a duration/],
  ])('rejects %j with a clear message', (argv, message) => {
    expect(() => parseConfig(schema, argv)).toThrow(message);
  });

  it('rejects a bad environment value with the same message', () => {
    expect(() => parseConfig(schema, [], { FLEETCHAT_MAX_QUEUE: '-1' })).toThrow(/must be >= 1/);
  });

  it('parses durations', () => {
    expect(parseDurationMs('500ms')).toBe(500);
    expect(parseDurationMs('2m')).toBe(120_000);
    expect(parseDurationMs('1.5s')).toBe(1500);
    expect(parseDurationMs('250')).toBe(250);
  });
});
