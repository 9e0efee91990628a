#!/usr/bin/env bash
# `npm run test:k8s [-- <jest args>]`: builds (or reuses) the Kubernetes binaries, then runs the real-API-server
# suite (test/k8s, one file at a time) and prints `N passed, N failed, N skipped`. When the binaries cannot be
# built (no Go, no module proxy) the suite still runs and every test is skipped with a message saying why.
set -uo pipefail
cd "$(dirname "$0")/../.."
if ! scripts/k8s/build-bins.sh >/dev/null; then
  echo "test:k8s: scripts/k8s/build-bins.sh failed: the Kubernetes tests will be skipped" >&2
fi
report_dir="${FLEETCHAT_TEST_REPORT_DIR:-test-results}"
mkdir -p "$report_dir"
report="$report_dir/jest-k8s.json"
rm -f "$report"
npx jest -c test/k8s/jest.config.js --json --outputFile="$report" "$@"
jest_rc=$?
node scripts/jest-summary.cjs "$report"
summary_rc=$?
if [ $summary_rc -ne 0 ] || [ $jest_rc -ne 0 ]; then exit 1; fi
