#!/usr/bin/env bash
# cert-manager's own CRDs (Certificate, Issuer, ClusterIssuer) for test/k8s/cert-manager.test.ts, from its Go module
# on the module proxy (github.com/cert-manager/cert-manager v1.16.2, deploy/crds; no cert-manager controller: its
# cmd/ modules are not published on the proxy). The files are Helm templates whose only non-comment template text
# is three label values; those lines are dropped. Idempotent (a stamp per version).
#   $BIN_DIR/cert-manager/crd-{certificates,issuers,clusterissuers}.yaml
set -euo pipefail
VERSION=v1.16.2
MODULE=github.com/cert-manager/cert-manager
BIN_DIR="${FLEETCHAT_K8S_BIN_DIR:-$HOME/.cache/fleetchat/k8s-bins}"
OUT="$BIN_DIR/cert-manager"
STAMP="$OUT/.stamp-$VERSION"
export PATH="$PATH:/usr/local/go/bin:$BIN_DIR/go/bin"
say() { echo "fetch-cert-manager-crds: $*" >&2; }
if [ -f "$STAMP" ]; then say "cached in $OUT"; exit 0; fi
command -v go >/dev/null || { say "Go not found (run scripts/k8s/build-bins.sh first)"; exit 1; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
DIR=$(cd "$WORK" && go mod download -json "$MODULE@$VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
mkdir -p "$OUT"
for crd in certificates issuers clusterissuers; do
  sed "/: '{{.*}}'$/d" "$DIR/deploy/crds/crd-$crd.yaml" > "$OUT/crd-$crd.yaml"
done
touch "$STAMP"
say "cert-manager $VERSION CRDs in $OUT"
