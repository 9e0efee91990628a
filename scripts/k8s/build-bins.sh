#!/usr/bin/env bash
# Builds the real Kubernetes binaries used by fleetchat's envtest-style harness
# into a cache directory, from the Go module proxy (no prebuilt downloads):
#
#   kube-apiserver                    k8s.io/kubernetes (scripts/k8s/apiserver-mod)
#   kube-controller-manager, kube-scheduler   same module (optional, see below)
#   etcd                              Debian's /usr/bin/etcd if new enough,
#                                     else go.etcd.io/etcd/server/v3 (scripts/k8s/etcd-mod)
#   helm                              helm.sh/helm/v3/cmd/helm
#   kwok (optional, see below)        sigs.k8s.io/kwok/cmd/kwok, plus kwok-stages.yaml: that release's own
#                                     node (initialize, lease heartbeat) and pod (ready, complete, delete)
#                                     stages, which the kwok binary needs as --config (only kwokctl embeds them)
#
# Idempotent: every binary has a stamp keyed by its version and by the hash of
# the module files that pin it; a binary whose stamp matches is not rebuilt.
#
# Environment:
#   FLEETCHAT_K8S_BIN_DIR   cache dir (default: $HOME/.cache/fleetchat/k8s-bins)
#   FLEETCHAT_K8S_EXTRAS    1 (default) also build kube-controller-manager,
#                           kube-scheduler and kwok; 0 to skip them. Their
#                           failure is reported but not fatal.
#   FLEETCHAT_K8S_ETCD      auto (default): Debian's etcd if >= 3.5, else build;
#                           build: always build etcd from the module proxy;
#                           system: use /usr/bin/etcd whatever its version.
#   FLEETCHAT_HELM_VERSIONS space-separated helm versions to try in order.
#   FLEETCHAT_KWOK_VERSION  kwok version (default v0.8.0).
#
# Prints KEY=PATH lines at the end (also written to $BIN_DIR/paths.env) and
# writes $BIN_DIR/versions.txt.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BIN_DIR="${FLEETCHAT_K8S_BIN_DIR:-$HOME/.cache/fleetchat/k8s-bins}"
EXTRAS="${FLEETCHAT_K8S_EXTRAS:-1}"
ETCD_MODE="${FLEETCHAT_K8S_ETCD:-auto}"
HELM_VERSIONS="${FLEETCHAT_HELM_VERSIONS:-v3.22.0 v3.21.4 v3.20.2}"
KWOK_VERSION="${FLEETCHAT_KWOK_VERSION:-v0.8.0}"
APISERVER_MOD="$SCRIPT_DIR/apiserver-mod"
ETCD_MOD="$SCRIPT_DIR/etcd-mod"
GO_BUILD_FLAGS=(-trimpath)   # plus -ldflags "-s -w ..." at each call

log() { printf '[build-bins] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

mkdir -p "$BIN_DIR"
BIN_DIR="$(cd "$BIN_DIR" && pwd)"

# One build at a time per cache dir.
exec 9>"$BIN_DIR/.lock"
if command -v flock >/dev/null; then flock 9; fi

# ---------------------------------------------------------------- Go itself
# No Go on the machine: fetch the toolchain the way `GOTOOLCHAIN` does, as the module golang.org/toolchain from
# the module proxy, into the cache dir.
BOOTSTRAP_GO_VERSION="${FLEETCHAT_BOOTSTRAP_GO:-1.26.8}"
bootstrap_go() {
  local arch proxy dir zip
  case "$(uname -m)" in x86_64|amd64) arch=amd64 ;; aarch64|arm64) arch=arm64 ;; *) die "no Go and no toolchain for $(uname -m)" ;; esac
  dir="$BIN_DIR/go-toolchain/go$BOOTSTRAP_GO_VERSION"
  if [ ! -x "$dir/bin/go" ]; then
    proxy="${GOPROXY:-https://proxy.golang.org}"; proxy="${proxy%%,*}"
    [ "$proxy" = direct ] || [ "$proxy" = off ] && proxy=https://proxy.golang.org
    zip="$BIN_DIR/go-toolchain/go$BOOTSTRAP_GO_VERSION.zip"
    mkdir -p "$BIN_DIR/go-toolchain"
    log "no go on PATH: fetching golang.org/toolchain go$BOOTSTRAP_GO_VERSION.linux-$arch from $proxy ..."
    curl -fsSL -o "$zip" "$proxy/golang.org/toolchain/@v/v0.0.1-go$BOOTSTRAP_GO_VERSION.linux-$arch.zip" || die "could not download the Go toolchain"
    rm -rf "$BIN_DIR/go-toolchain/unpack"
    command -v unzip >/dev/null || die "unzip is needed to unpack the Go toolchain (apt-get install unzip)"
    unzip -q "$zip" -d "$BIN_DIR/go-toolchain/unpack" || die "could not unpack the Go toolchain"
    rm -rf "$dir"
    mv "$BIN_DIR/go-toolchain/unpack/golang.org/toolchain@v0.0.1-go$BOOTSTRAP_GO_VERSION.linux-$arch" "$dir"
    rm -rf "$BIN_DIR/go-toolchain/unpack" "$zip"
    # Module zips carry no file modes.
    chmod -R u+x "$dir/bin" "$dir/pkg/tool"
  fi
  export PATH="$dir/bin:$PATH"
  export GOTOOLCHAIN=local
}
if ! command -v go >/dev/null; then
  if [ -x /usr/local/go/bin/go ]; then export PATH="/usr/local/go/bin:$PATH"; else bootstrap_go; fi
fi
command -v go >/dev/null || die "go is not on PATH"


# ---------------------------------------------------------------- Go toolchain
# The machines start on their own Go (1.26.x); a module whose `go` line asks for
# a newer Go is built with GOTOOLCHAIN=go1.27.3, which the go command fetches
# from the module proxy.
go_line() { awk '$1 == "go" { print $2; exit }' "$1/go.mod"; }
ver_ge() { # ver_ge A B: true when version A >= B (dotted numbers)
  [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n1)" = "$2" ]
}
LOCAL_GO="$(go env GOVERSION)"; LOCAL_GO="${LOCAL_GO#go}"
for mod in "$APISERVER_MOD" "$ETCD_MOD"; do
  need="$(go_line "$mod")"
  if ! ver_ge "$LOCAL_GO" "$need"; then
    log "$(basename "$mod") needs go $need (have $LOCAL_GO): using GOTOOLCHAIN=go1.27.3"
    export GOTOOLCHAIN=go1.27.3
  fi
done
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
export CGO_ENABLED="${CGO_ENABLED:-0}"

# ---------------------------------------------------------------- helpers
mod_version() { # mod_version DIR MODULE -> version required by DIR/go.mod
  (cd "$1" && go list -m -f '{{if .Replace}}{{.Replace.Version}}{{else}}{{.Version}}{{end}}' "$2")
}
mod_hash() { (cd "$1" && cat go.mod go.sum ./*.go 2>/dev/null | sha256sum | cut -c1-16); }
stamp_ok() { # stamp_ok NAME KEY
  [ -x "$BIN_DIR/$1" ] && [ -f "$BIN_DIR/.stamp-$1" ] && [ "$(cat "$BIN_DIR/.stamp-$1")" = "$2" ]
}
stamp_set() { printf '%s\n' "$2" >"$BIN_DIR/.stamp-$1"; }
elapsed() { echo "$(( $(date +%s) - $1 ))s"; }

# go_build_k8s NAME: builds k8s.io/kubernetes/cmd/NAME from apiserver-mod.
go_build_k8s() {
  local name="$1" t0; t0=$(date +%s)
  log "building $name ($K8S_VERSION) ..."
  if (cd "$APISERVER_MOD" && go build "${GO_BUILD_FLAGS[@]}" \
        -ldflags "-s -w $(k8s_version_ldflags)" \
        -o "$BIN_DIR/.$name.tmp" "k8s.io/kubernetes/cmd/$name"); then
    mv -f "$BIN_DIR/.$name.tmp" "$BIN_DIR/$name"
    stamp_set "$name" "$K8S_KEY"
    log "built $name in $(elapsed "$t0")"
  else
    rm -f "$BIN_DIR/.$name.tmp"
    log "FAILED to build $name after $(elapsed "$t0")"
    return 1
  fi
}

# Same -X flags as Kubernetes' hack/lib/version.sh so `--version` and the
# /version endpoint report the real version (a bare `go build` says v0.0.0).
k8s_version_ldflags() {
  local v="${K8S_VERSION#v}" major minor
  major="${v%%.*}"; minor="${v#*.}"; minor="${minor%%.*}"
  local p f=""
  for p in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    f+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=$major -X $p.gitMinor=$minor"
    f+=" -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  printf '%s' "$f"
}

# ---------------------------------------------------------------- kube-*
K8S_VERSION="$(mod_version "$APISERVER_MOD" k8s.io/kubernetes)"
K8S_KEY="$K8S_VERSION $(mod_hash "$APISERVER_MOD") ${GOTOOLCHAIN:-local}"

if stamp_ok kube-apiserver "$K8S_KEY"; then
  log "kube-apiserver $K8S_VERSION is cached"
else
  go_build_k8s kube-apiserver || die "kube-apiserver did not build"
fi

EXTRAS_BUILT=()
if [ "$EXTRAS" = "1" ]; then
  for name in kube-controller-manager kube-scheduler; do
    if stamp_ok "$name" "$K8S_KEY"; then
      log "$name $K8S_VERSION is cached"; EXTRAS_BUILT+=("$name")
    elif go_build_k8s "$name"; then
      EXTRAS_BUILT+=("$name")
    else
      log "continuing without $name (optional)"
    fi
  done
fi

# ---------------------------------------------------------------- etcd
# Debian 12's etcd-server is 3.4.23. kube-apiserver 1.37 starts on it (it
# detects and skips the newer etcd features it lacks), but without etcd's
# RequestWatchProgress it refuses watch-list streams, and it turns every watch
# from resourceVersion 0 into one: kwok's informers watch that way, see their
# watch fail each time and only catch up at each relist (seconds to tens of
# seconds late). So `auto` uses Debian's etcd only when it is >= ETCD_SYSTEM_MIN
# and otherwise builds etcd from the module proxy (etcd-mod: etcd 3.6.x;
# kubeadm 1.37 itself ships 3.7.0). FLEETCHAT_K8S_ETCD=build forces the build,
# FLEETCHAT_K8S_ETCD=system takes Debian's 3.4 anyway.
ETCD_SYSTEM_MIN=3.5.0
system_etcd_version() { /usr/bin/etcd --version 2>/dev/null | awk '/^etcd Version:/ { print $3 }'; }
if [ "$ETCD_MODE" != "build" ] && [ ! -x /usr/bin/etcd ] && [ "$(id -u)" = 0 ] \
   && command -v apt-get >/dev/null; then
  log "installing Debian etcd-server ..."
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 etcd-server >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null 2>&1 && \
         DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 etcd-server >/dev/null 2>&1; } \
    || log "apt-get install etcd-server failed"
fi
SYS_ETCD_VERSION="$(system_etcd_version || true)"
use_system_etcd=0
case "$ETCD_MODE" in
  system) [ -n "$SYS_ETCD_VERSION" ] || die "FLEETCHAT_K8S_ETCD=system but /usr/bin/etcd is missing"
          use_system_etcd=1 ;;
  auto)   if [ -n "$SYS_ETCD_VERSION" ] && ver_ge "$SYS_ETCD_VERSION" "$ETCD_SYSTEM_MIN"; then use_system_etcd=1; fi ;;
  build)  ;;
  *)      die "FLEETCHAT_K8S_ETCD must be auto, build or system" ;;
esac

# $BIN_DIR/etcd is a symlink to /usr/bin/etcd or to the built etcd-<version>.
if [ "$use_system_etcd" = 1 ]; then
  ln -sfn /usr/bin/etcd "$BIN_DIR/etcd"
  ETCD_VERSION="v$SYS_ETCD_VERSION (Debian /usr/bin/etcd)"
  log "using Debian etcd $SYS_ETCD_VERSION"
else
  ETCD_VERSION="$(mod_version "$ETCD_MOD" go.etcd.io/etcd/server/v3)"
  ETCD_KEY="$ETCD_VERSION $(mod_hash "$ETCD_MOD") ${GOTOOLCHAIN:-local}"
  if stamp_ok "etcd-$ETCD_VERSION" "$ETCD_KEY"; then
    log "etcd $ETCD_VERSION is cached"
  else
    if [ "$ETCD_MODE" = auto ]; then
      log "Debian etcd ${SYS_ETCD_VERSION:-(missing)} is not usable (need >= $ETCD_SYSTEM_MIN)"
    fi
    log "building etcd $ETCD_VERSION ..."
    t0=$(date +%s)
    (cd "$ETCD_MOD" && go build "${GO_BUILD_FLAGS[@]}" -ldflags "-s -w" -o "$BIN_DIR/.etcd.tmp" .) \
      || { rm -f "$BIN_DIR/.etcd.tmp"; die "etcd did not build"; }
    mv -f "$BIN_DIR/.etcd.tmp" "$BIN_DIR/etcd-$ETCD_VERSION"
    stamp_set "etcd-$ETCD_VERSION" "$ETCD_KEY"
    log "built etcd in $(elapsed "$t0")"
  fi
  rm -f "$BIN_DIR/etcd" "$BIN_DIR/.stamp-etcd"
  ln -sfn "etcd-$ETCD_VERSION" "$BIN_DIR/etcd"
fi

# ---------------------------------------------------------------- helm
# helm's Makefile stamps the Kubernetes version its client-go speaks (what `helm template` and `helm lint` assume
# without a cluster, e.g. for a chart's kubeVersion); a bare `go install` would leave v1.20.
helm_k8s_minor() { # helm_k8s_minor VERSION -> minor of k8s.io/client-go v0.MINOR.x in helm's go.mod
  local mod
  mod="$(go mod download -json "helm.sh/helm/v3@$1" 2>/dev/null | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p')"
  [ -n "$mod" ] && awk '$1 == "k8s.io/client-go" { split($2, v, "."); print v[2]; exit }' "$mod"
}
helm_key() { echo "$1 ${GOTOOLCHAIN:-local} k8s-ldflags"; }
HELM_VERSION=""
if [ -x "$BIN_DIR/helm" ] && [ -f "$BIN_DIR/.stamp-helm" ]; then
  for v in $HELM_VERSIONS; do
    if [ "$(cat "$BIN_DIR/.stamp-helm")" = "$(helm_key "$v")" ]; then HELM_VERSION="$v"; break; fi
  done
fi
if [ -n "$HELM_VERSION" ]; then
  log "helm $HELM_VERSION is cached"
else
  tmp_gobin="$(mktemp -d "$BIN_DIR/.helm.XXXXXX")"
  for v in $HELM_VERSIONS; do
    log "building helm $v ..."
    t0=$(date +%s)
    # internal/version.version is what `helm version` prints (set by helm's Makefile).
    minor="$(helm_k8s_minor "$v" || true)"
    k8s_flags=""
    if [ -n "$minor" ]; then
      for p in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
        k8s_flags+=" -X $p.k8sVersionMajor=1 -X $p.k8sVersionMinor=$minor"
      done
    fi
    if GOBIN="$tmp_gobin" go install -trimpath \
         -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$v -X helm.sh/helm/v3/internal/version.gitTreeState=clean$k8s_flags" \
         "helm.sh/helm/v3/cmd/helm@$v"; then
      mv -f "$tmp_gobin/helm" "$BIN_DIR/helm"
      stamp_set helm "$(helm_key "$v")"
      HELM_VERSION="$v"
      log "built helm $v in $(elapsed "$t0")"
      break
    fi
    log "helm $v did not build; trying the next version"
  done
  rm -rf "$tmp_gobin"
  [ -n "$HELM_VERSION" ] || die "no helm version built (tried: $HELM_VERSIONS)"
fi

# ---------------------------------------------------------------- kwok
# kwok plays the kubelets of fake nodes (Node Ready + lease, pods Running/Ready, deletion) for the rollout
# end-to-end test. Its go.mod has no replace directives, so `go install @version` builds it as released.
# Optional like the controllers: a failure is reported and the kwok test skips.
KWOK_STAGE_FILES="stage/node/fast/node-initialize.yaml stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml
  stage/pod/fast/pod-ready.yaml stage/pod/fast/pod-complete.yaml stage/pod/fast/pod-delete.yaml"
kwok_key() { echo "$KWOK_VERSION ${GOTOOLCHAIN:-local}"; }
kwok_stages() { # writes $BIN_DIR/kwok-stages.yaml from the release's kustomize/ directory
  local dir f first=1
  dir="$(go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/.*"Dir": "\(.*\)",*/\1/p')"
  [ -n "$dir" ] && [ -d "$dir/kustomize" ] || return 1
  {
    for f in $KWOK_STAGE_FILES; do
      [ "$first" = 1 ] || echo '---'
      first=0
      cat "$dir/kustomize/$f" || return 1
    done
  } >"$BIN_DIR/.kwok-stages.yaml.tmp" && mv -f "$BIN_DIR/.kwok-stages.yaml.tmp" "$BIN_DIR/kwok-stages.yaml"
}
build_kwok() {
  local t0 tmp_gobin; t0=$(date +%s)
  log "building kwok $KWOK_VERSION ..."
  tmp_gobin="$(mktemp -d "$BIN_DIR/.kwok.XXXXXX")"
  if GOBIN="$tmp_gobin" go install "${GO_BUILD_FLAGS[@]}" \
       -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v}" \
       "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" && kwok_stages; then
    mv -f "$tmp_gobin/kwok" "$BIN_DIR/kwok"
    stamp_set kwok "$(kwok_key)"
    log "built kwok in $(elapsed "$t0")"
  else
    log "FAILED to build kwok $KWOK_VERSION after $(elapsed "$t0")"
    rm -rf "$tmp_gobin"
    return 1
  fi
  rm -rf "$tmp_gobin"
}
KWOK_BUILT=0
if [ "$EXTRAS" = "1" ]; then
  if stamp_ok kwok "$(kwok_key)" && [ -f "$BIN_DIR/kwok-stages.yaml" ]; then
    log "kwok $KWOK_VERSION is cached"; KWOK_BUILT=1
  elif build_kwok; then
    KWOK_BUILT=1
  else
    log "continuing without kwok (optional)"
  fi
fi

# ---------------------------------------------------------------- report
{
  echo "kube-apiserver $K8S_VERSION"
  for name in "${EXTRAS_BUILT[@]}"; do echo "$name $K8S_VERSION"; done
  echo "etcd $ETCD_VERSION"
  echo "helm $HELM_VERSION"
  if [ "$KWOK_BUILT" = 1 ]; then echo "kwok $KWOK_VERSION"; fi
  echo "go ${GOTOOLCHAIN:-go$LOCAL_GO}"
} >"$BIN_DIR/versions.txt"

{
  echo "FLEETCHAT_K8S_BIN_DIR=$BIN_DIR"
  echo "KUBE_APISERVER=$BIN_DIR/kube-apiserver"
  for name in "${EXTRAS_BUILT[@]}"; do
    key="$(echo "$name" | tr 'a-z-' 'A-Z_')"
    echo "$key=$BIN_DIR/$name"
  done
  echo "ETCD=$BIN_DIR/etcd"
  echo "HELM=$BIN_DIR/helm"
  if [ "$KWOK_BUILT" = 1 ]; then
    echo "KWOK=$BIN_DIR/kwok"
    echo "KWOK_STAGES=$BIN_DIR/kwok-stages.yaml"
  fi
} | tee "$BIN_DIR/paths.env"
