#!/usr/bin/env bash
# The Kubeflow training operator for the real-API-server tests of `fleetchat jobs train --submit`, from the Go module
# proxy (github.com/kubeflow/training-operator v1.8.1; no prebuilt downloads):
#   $BIN_DIR/kubeflow/kubeflow.org_pytorchjobs.yaml   the operator's own PyTorchJob CRD (from the module)
#   $BIN_DIR/kubeflow/training-operator               the operator (cmd/training-operator.v1)
# Idempotent (a stamp per version). Needs Go (scripts/k8s/build-bins.sh bootstraps one). Without it the tests
# check the Indexed-Job path only and say so.
#   FLEETCHAT_K8S_BIN_DIR   cache dir (default: $HOME/.cache/fleetchat/k8s-bins)
set -euo pipefail
VERSION=v1.8.1
MODULE=github.com/kubeflow/training-operator
BIN_DIR="${FLEETCHAT_K8S_BIN_DIR:-$HOME/.cache/fleetchat/k8s-bins}"
OUT="$BIN_DIR/kubeflow"
STAMP="$OUT/.stamp-training-operator-$VERSION"
export PATH="$PATH:/usr/local/go/bin:$BIN_DIR/go/bin"
say() { echo "build-training-operator: $*" >&2; }
if [ -f "$STAMP" ] && [ -x "$OUT/training-operator" ] && [ -f "$OUT/kubeflow.org_pytorchjobs.yaml" ]; then say "cached in $OUT"; exit 0; fi
command -v go >/dev/null || { say "Go not found (run scripts/k8s/build-bins.sh first)"; exit 1; }
mkdir -p "$OUT"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
DIR=$(cd "$WORK" && go mod download -json "$MODULE@$VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
install -m 644 "$DIR/manifests/base/crds/kubeflow.org_pytorchjobs.yaml" "$OUT/kubeflow.org_pytorchjobs.yaml"
start=$(date +%s)
say "building $MODULE/cmd/training-operator.v1@$VERSION (minutes the first time)"
(cd "$WORK" && GOBIN="$WORK/bin" GOFLAGS=-mod=mod go install -trimpath -ldflags "-s -w" "$MODULE/cmd/training-operator.v1@$VERSION")
mv -f "$WORK/bin/training-operator.v1" "$OUT/training-operator"
touch "$STAMP"
say "built in $(( $(date +%s) - start )) s: $OUT/training-operator"
