#!/usr/bin/env bash
# The project's test command (`npm test`): the whole jest suite, then the real-API-server suite (test/k8s, see
# `npm run test:k8s`), then one plain summary line `N passed, N failed, N skipped` computed from both JSON reports.
# Exit status is non-zero on any failure.
#   npm test                 everything: first installs or builds what the suites use (scripts/test-deps.sh: Chromium,
#                            the Kubernetes binaries, the trainer runtime; cached, so later runs start at once)
#   npm test -- <jest args>  a subset of the main suite, e.g. `npm test -- test/common`
set -uo pipefail
cd "$(dirname "$0")/.."
report_dir="${FLEETCHAT_TEST_REPORT_DIR:-test-results}"
mkdir -p "$report_dir"
report="$report_dir/jest.json"
k8s_report="$report_dir/jest-k8s.json"
rm -f "$report" "$k8s_report"
if [ $# -eq 0 ] && [ "${FLEETCHAT_SKIP_TEST_DEPS:-0}" != 1 ]; then
  scripts/test-deps.sh || { echo "installing the test dependencies failed (see above); FLEETCHAT_SKIP_TEST_DEPS=1 runs the tests without them" >&2; exit 1; }
fi
npx jest --forceExit --json --outputFile="$report" "$@"
jest_rc=$?
reports=("$report")
if [ $# -eq 0 ]; then
  k8s_bins="${FLEETCHAT_K8S_BIN_DIR:-$HOME/.cache/fleetchat/k8s-bins}"
  if [ ! -x "$k8s_bins/kube-apiserver" ]; then
    echo "Kubernetes binaries not built (run scripts/k8s/build-bins.sh or npm run test:k8s): the k8s tests will be skipped" >&2
  fi
  npx jest --forceExit -c test/k8s/jest.config.js --json --outputFile="$k8s_report"
  k8s_rc=$?
  [ $k8s_rc -ne 0 ] && jest_rc=$k8s_rc
  reports+=("$k8s_report")
fi
node scripts/jest-summary.cjs "${reports[@]}"
summary_rc=$?
if [ $summary_rc -ne 0 ] || [ $jest_rc -ne 0 ]; then exit 1; fi
