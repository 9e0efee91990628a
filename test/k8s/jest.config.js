// The real-API-server suite (`npm run test:k8s`): the root jest config restricted to test/k8s, one test file at a
// time (each file starts its own etcd + kube-apiserver; two at once would fight for the 2 cores of CI).
const base = require('../../jest.config.js');

module.exports = {
  ...base,
  rootDir: '../..',
  testMatch: ['<rootDir>/test/k8s/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  maxWorkers: 1,
  testTimeout: 120000,
};
