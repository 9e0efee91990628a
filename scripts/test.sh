#!/usr/bin/env bash
# The project's test command (`npm test`): the whole jest suite, then one plain summary line
# `N passed, N failed, N skipped` computed from jest's JSON report. Exit status is non-zero on any failure.
#   npm test                 everything that can run on this machine
#   npm test -- <jest args>  a subset, e.g. `npm test -- test/common`
set -uo pipefail
cd "$(dirname "$0")/.."
report_dir="${FLEETCHAT_TEST_REPORT_DIR:-test-results}"
mkdir -p "$report_dir"
report="$report_dir/jest.json"
rm -f "$report"
npx jest --json --outputFile="$report" "$@"
jest_rc=$?
node scripts/jest-summary.cjs "$report"
summary_rc=$?
if [ $summary_rc -ne 0 ] || [ $jest_rc -ne 0 ]; then exit 1; fi
