// A jest environment whose global typed-array constructors are the host realm's, so that
// onnxruntime-node's `instanceof Float32Array` checks accept tensors created inside tests.
const NodeEnvironment = require('jest-environment-node').TestEnvironment;

const shared = [
  'ArrayBuffer', 'SharedArrayBuffer', 'DataView', 'Buffer', 'Uint8Array', 'Uint8ClampedArray', 'Int8Array',
  'Uint16Array', 'Int16Array', 'Uint32Array', 'Int32Array', 'Float32Array', 'Float64Array',
  'BigInt64Array', 'BigUint64Array',
];

class NodeRealmEnvironment extends NodeEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of shared) {
      if (globalThis[name] !== undefined) this.global[name] = globalThis[name];
    }
  }
}

module.exports = NodeRealmEnvironment;
