#!/usr/bin/env node
// Prints one plain line `N passed, N failed, N skipped` from jest's --json output file(s) and exits
// non-zero when anything failed, a suite failed to load, or no test ran at all.
const fs = require('node:fs');

let passed = 0;
let failed = 0;
let skipped = 0;
const problems = [];
for (const file of process.argv.slice(2)) {
  let report;
  try {
    report = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    problems.push(`${file}: no readable jest report (${err.message})`);
    failed += 1;
    continue;
  }
  passed += report.numPassedTests;
  failed += report.numFailedTests + report.numRuntimeErrorTestSuites;
  skipped += report.numPendingTests + (report.numTodoTests || 0);
  for (const suite of report.testResults || []) {
    if (suite.status === 'failed' && suite.assertionResults.every((a) => a.status !== 'failed')) {
      problems.push(`suite failed to run: ${suite.name}: ${(suite.message || '').split('\n').slice(0, 3).join(' ')}`);
    }
  }
}
for (const p of problems) process.stderr.write(`${p}\n`);
process.stdout.write(`${passed} passed, ${failed} failed, ${skipped} skipped\n`);
if (failed > 0 || passed + failed === 0) process.exit(1);
