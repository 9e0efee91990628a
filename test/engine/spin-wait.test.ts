import { spinWaitAllowed, spinWaitConfig } from '../../src/worker/engine/spin-wait';

describe('onnxruntime spin-waiting', () => {
  it('spins only when the intra-op threads leave a core free', () => {
    expect(spinWaitAllowed(1, 2)).toBe(true);
    expect(spinWaitAllowed(2, 2)).toBe(false);
    expect(spinWaitAllowed(16, 16)).toBe(false);
    expect(spinWaitAllowed(8, 16)).toBe(true);
  });

  it('turns into the session config entries onnxruntime reads', () => {
    expect(spinWaitConfig(2, 2)).toEqual({ intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } });
    expect(spinWaitConfig(1, 4)).toEqual({ intra_op: { allow_spinning: '1' }, inter_op: { allow_spinning: '1' } });
  });
});
