#!/usr/bin/env bash
# Smoke test for the binaries built by scripts/k8s/build-bins.sh: starts etcd and
# kube-apiserver the way an envtest-style harness does (temp dirs, loopback,
# free ports, static admin token), talks to it with kubectl, then stops both.
#
# Environment:
#   FLEETCHAT_K8S_BIN_DIR  cache dir of build-bins.sh (default $HOME/.cache/fleetchat/k8s-bins)
#   KUBECTL                kubectl to use (default: $BIN_DIR/kubectl, else kubectl on PATH)
#   SMOKE_CONTROLLERS      1: also start kube-controller-manager + kube-scheduler
#                          (if built) and check that a Deployment gets a
#                          ReplicaSet and Pods. Default: 1 when both are built.
#   SMOKE_KEEP             1: keep the temp dir (logs) after the run
set -euo pipefail

BIN_DIR="${FLEETCHAT_K8S_BIN_DIR:-$HOME/.cache/fleetchat/k8s-bins}"
ETCD="$BIN_DIR/etcd"
APISERVER="$BIN_DIR/kube-apiserver"
KCM="$BIN_DIR/kube-controller-manager"
SCHED="$BIN_DIR/kube-scheduler"
if [ -z "${KUBECTL:-}" ]; then
  if [ -x "$BIN_DIR/kubectl" ]; then KUBECTL="$BIN_DIR/kubectl"; else KUBECTL="$(command -v kubectl || true)"; fi
fi
[ -x "$ETCD" ] && [ -x "$APISERVER" ] || { echo "run scripts/k8s/build-bins.sh first" >&2; exit 1; }
if [ -z "${SMOKE_CONTROLLERS:-}" ]; then
  if [ -x "$KCM" ] && [ -x "$SCHED" ]; then SMOKE_CONTROLLERS=1; else SMOKE_CONTROLLERS=0; fi
fi

log() { printf '[smoke] %s\n' "$*" >&2; }
fail() { log "FAIL: $*"; for f in "$T"/*.log; do [ -f "$f" ] && { log "--- tail $f"; tail -n 30 "$f" >&2; }; done; exit 1; }

T="$(mktemp -d /tmp/fleetchat-k8s-smoke.XXXXXX)"
PIDS=()
cleanup() {
  local rc=$?
  # Stop in reverse start order: controllers, apiserver, then etcd.
  local i pid
  for (( i=${#PIDS[@]}-1; i>=0; i-- )); do
    pid="${PIDS[$i]}"
    kill -TERM "$pid" 2>/dev/null || continue
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ "${SMOKE_KEEP:-0}" = 1 ] || [ "$rc" != 0 ]; then log "logs kept in $T"; else rm -rf "$T"; fi
  exit "$rc"
}
trap cleanup EXIT INT TERM

# A free loopback TCP port (the kernel picks it; tiny race until it is used).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ETCD_PORT="$(free_port)"; PEER_PORT="$(free_port)"; API_PORT="$(free_port)"
while [ "$PEER_PORT" = "$ETCD_PORT" ]; do PEER_PORT="$(free_port)"; done
while [ "$API_PORT" = "$ETCD_PORT" ] || [ "$API_PORT" = "$PEER_PORT" ]; do API_PORT="$(free_port)"; done

# ------------------------------------------------------------------ etcd
mkdir -p "$T/etcd"
ETCD_ARGS=(
  --name=default
  --data-dir="$T/etcd"
  --listen-client-urls="http://127.0.0.1:$ETCD_PORT"
  --advertise-client-urls="http://127.0.0.1:$ETCD_PORT"
  --listen-peer-urls="http://127.0.0.1:$PEER_PORT"
  --initial-advertise-peer-urls="http://127.0.0.1:$PEER_PORT"
  --initial-cluster="default=http://127.0.0.1:$PEER_PORT"
  --log-level=warn
)
# etcd >= 3.5 (not Debian's 3.4): skip fsync, as envtest does; a test cluster is throwaway.
if "$ETCD" --help 2>&1 | grep -q -- '--unsafe-no-fsync'; then ETCD_ARGS+=(--unsafe-no-fsync=true); fi
if "$ETCD" --help 2>&1 | grep -q "capnslog"; then ETCD_ARGS+=(--logger=zap); fi
log "etcd: $ETCD ${ETCD_ARGS[*]}"
"$ETCD" "${ETCD_ARGS[@]}" >"$T/etcd.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$ETCD_PORT/health" >/dev/null 2>&1 && break
  kill -0 "${PIDS[0]}" 2>/dev/null || fail "etcd exited"
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$ETCD_PORT/health" >/dev/null || fail "etcd not healthy"
log "etcd healthy: $(curl -fsS "http://127.0.0.1:$ETCD_PORT/version")"

# ------------------------------------------------------------------ credentials
# Service-account signing key pair.
openssl genrsa -out "$T/sa.key" 2048 2>/dev/null
openssl rsa -in "$T/sa.key" -pubout -out "$T/sa.pub" 2>/dev/null
# Static token file, CSV: token,user,uid,"group1,group2" (groups optional).
# system:masters is bound to cluster-admin by the RBAC bootstrap policy.
TOKEN="$(openssl rand -hex 32)"
printf '%s,admin,admin-uid,"system:masters"\n' "$TOKEN" >"$T/tokens.csv"

# ------------------------------------------------------------------ kube-apiserver
mkdir -p "$T/certs"
API_ARGS=(
  --etcd-servers="http://127.0.0.1:$ETCD_PORT"
  --cert-dir="$T/certs"
  --secure-port="$API_PORT"
  --bind-address=127.0.0.1
  --advertise-address=127.0.0.1
  --endpoint-reconciler-type=none
  --service-account-issuer=https://kubernetes.default.svc
  --service-account-key-file="$T/sa.pub"
  --service-account-signing-key-file="$T/sa.key"
  --token-auth-file="$T/tokens.csv"
  --authorization-mode=RBAC
  --service-cluster-ip-range=10.0.0.0/24
  --disable-admission-plugins=ServiceAccount
  --allow-privileged=true
)
log "kube-apiserver: $APISERVER ${API_ARGS[*]}"
t0=$(date +%s%N)
"$APISERVER" "${API_ARGS[@]}" >"$T/kube-apiserver.log" 2>&1 &
PIDS+=($!)
API="https://127.0.0.1:$API_PORT"
ready=0
for _ in $(seq 1 600); do
  kill -0 "${PIDS[1]}" 2>/dev/null || fail "kube-apiserver exited"
  # apiserver.crt (written by --cert-dir) holds the serving cert and its CA.
  if [ -f "$T/certs/apiserver.crt" ] && \
     [ "$(curl -sS --cacert "$T/certs/apiserver.crt" -H "Authorization: Bearer $TOKEN" "$API/readyz" 2>/dev/null)" = ok ]; then
    ready=1; break
  fi
  sleep 0.1
done
[ "$ready" = 1 ] || { curl -sk -H "Authorization: Bearer $TOKEN" "$API/readyz?verbose" >&2 || true; fail "kube-apiserver not ready after 60s"; }
log "kube-apiserver ready in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
# apiserver.crt = serving cert followed by its self-signed CA; the CA alone is
# what clients should trust (and what kube-controller-manager's --root-ca-file
# needs: a leaf cert there makes its ClusterTrustBundle publisher fail).
awk '/BEGIN CERTIFICATE/ { n++; buf = "" } n >= 1 { buf = buf $0 "\n" } END { printf "%s", buf }' \
  "$T/certs/apiserver.crt" >"$T/ca.crt"
curl -fsS --cacert "$T/certs/apiserver.crt" -H "Authorization: Bearer $TOKEN" "$API/version" | tr -d '\n ' >&2; echo >&2

# ------------------------------------------------------------------ kubeconfig
cat >"$T/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: envtest
  cluster:
    server: $API
    certificate-authority: $T/ca.crt
users:
- name: admin
  user:
    token: $TOKEN
contexts:
- name: envtest
  context:
    cluster: envtest
    user: admin
    namespace: default
current-context: envtest
EOF
export KUBECONFIG="$T/kubeconfig"

# ------------------------------------------------------------------ kubectl checks
if [ -n "$KUBECTL" ]; then
  log "kubectl: $KUBECTL ($("$KUBECTL" version --client 2>/dev/null | head -n1))"
  "$KUBECTL" version >&2 || true
  "$KUBECTL" get namespaces >&2 || fail "kubectl get namespaces"
  "$KUBECTL" create configmap smoke --from-literal=hello=world >&2 || fail "kubectl create configmap"
  [ "$("$KUBECTL" get configmap smoke -o 'jsonpath={.data.hello}')" = world ] || fail "configmap readback"
  cat >"$T/ssa.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: smoke-ssa
  namespace: default
data:
  applied: "yes"
EOF
  "$KUBECTL" apply --server-side --field-manager=fleetchat-smoke -f "$T/ssa.yaml" >&2 || fail "kubectl apply --server-side"
  [ "$("$KUBECTL" get configmap smoke-ssa -o 'jsonpath={.metadata.managedFields[0].manager}')" = fleetchat-smoke ] \
    || fail "server-side apply field manager"
  log "kubectl get/create/server-side apply OK"
else
  log "no kubectl; using curl only"
fi
# The same through plain HTTPS (what a TypeScript client does).
CURL=(curl -fsS --cacert "$T/ca.crt" -H "Authorization: Bearer $TOKEN")
"${CURL[@]}" "$API/api/v1/namespaces" | grep -q '"name": *"kube-system"' || fail "curl list namespaces"
"${CURL[@]}" -X POST -H 'Content-Type: application/json' "$API/api/v1/namespaces/default/configmaps" \
  -d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"smoke-curl"},"data":{"a":"b"}}' >/dev/null \
  || fail "curl create configmap"
"${CURL[@]}" -X PATCH -H 'Content-Type: application/apply-patch+yaml' \
  "$API/api/v1/namespaces/default/configmaps/smoke-curl-ssa?fieldManager=fleetchat-smoke&force=true" \
  -d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"smoke-curl-ssa"},"data":{"a":"b"}}' >/dev/null \
  || fail "curl server-side apply"
log "curl list/create/server-side apply OK"

# ------------------------------------------------------------------ controllers (optional)
if [ "$SMOKE_CONTROLLERS" = 1 ]; then
  KCM_ARGS=(
    --kubeconfig="$KUBECONFIG"
    --authentication-kubeconfig="$KUBECONFIG"
    --authorization-kubeconfig="$KUBECONFIG"
    --leader-elect=false
    --bind-address=127.0.0.1
    --secure-port=0
    --controllers='*'
    --service-account-private-key-file="$T/sa.key"
    --root-ca-file="$T/ca.crt"
    --use-service-account-credentials=false
    --cluster-signing-duration=1h
  )
  log "kube-controller-manager: $KCM ${KCM_ARGS[*]}"
  "$KCM" "${KCM_ARGS[@]}" >"$T/kube-controller-manager.log" 2>&1 &
  PIDS+=($!)
  SCHED_ARGS=(
    --kubeconfig="$KUBECONFIG"
    --authentication-kubeconfig="$KUBECONFIG"
    --authorization-kubeconfig="$KUBECONFIG"
    --leader-elect=false
    --bind-address=127.0.0.1
    --secure-port=0
  )
  log "kube-scheduler: $SCHED ${SCHED_ARGS[*]}"
  "$SCHED" "${SCHED_ARGS[@]}" >"$T/kube-scheduler.log" 2>&1 &
  PIDS+=($!)
  # No kubelet here: a fake Node lets the scheduler bind the Pods, and the
  # harness plays kubelet by marking them Running/Ready through pods/status.
  jcount() { python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))'; }
  "${CURL[@]}" -X POST -H 'Content-Type: application/json' "$API/api/v1/nodes" \
    -d '{"apiVersion":"v1","kind":"Node","metadata":{"name":"fake-node","labels":{"kubernetes.io/hostname":"fake-node"}}}' >/dev/null \
    || fail "create node"
  now="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  "${CURL[@]}" -X PATCH -H 'Content-Type: application/merge-patch+json' "$API/api/v1/nodes/fake-node/status" -d '{"status":{
      "capacity":{"cpu":"8","memory":"32Gi","pods":"110"},"allocatable":{"cpu":"8","memory":"32Gi","pods":"110"},
      "conditions":[{"type":"Ready","status":"True","reason":"KubeletReady","message":"fake","lastHeartbeatTime":"'"$now"'","lastTransitionTime":"'"$now"'"}]}}' >/dev/null \
    || fail "set node status"
  "${CURL[@]}" -X POST -H 'Content-Type: application/json' "$API/apis/apps/v1/namespaces/default/deployments" -d '{
    "apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"smoke"},
    "spec":{"replicas":2,"selector":{"matchLabels":{"app":"smoke"}},
      "template":{"metadata":{"labels":{"app":"smoke"}},
        "spec":{"containers":[{"name":"c","image":"example.invalid/none:1"}]}}}}' >/dev/null \
    || fail "create deployment"
  PODS_URL="$API/api/v1/namespaces/default/pods?labelSelector=app%3Dsmoke"
  bound=0
  for _ in $(seq 1 300); do
    bound="$("${CURL[@]}" "$PODS_URL&fieldSelector=spec.nodeName%3Dfake-node" | jcount)"
    [ "$bound" -ge 2 ] && break
    sleep 0.2
  done
  [ "$bound" -ge 2 ] || fail "Pods were not created and scheduled (controller-manager/scheduler)"
  rs="$("${CURL[@]}" "$API/apis/apps/v1/namespaces/default/replicasets?labelSelector=app%3Dsmoke" | jcount)"
  log "controllers OK: Deployment -> $rs ReplicaSet -> $bound Pods bound to fake-node by kube-scheduler"
  for pod in $("${CURL[@]}" "$PODS_URL" | python3 -c 'import json,sys; print(" ".join(p["metadata"]["name"] for p in json.load(sys.stdin)["items"]))'); do
    now="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    "${CURL[@]}" -X PATCH -H 'Content-Type: application/merge-patch+json' "$API/api/v1/namespaces/default/pods/$pod/status" -d '{"status":{
        "phase":"Running","podIP":"10.244.0.10","hostIP":"127.0.0.1","startTime":"'"$now"'",
        "conditions":[{"type":"PodScheduled","status":"True"},{"type":"Initialized","status":"True"},
          {"type":"ContainersReady","status":"True","lastTransitionTime":"'"$now"'"},{"type":"Ready","status":"True","lastTransitionTime":"'"$now"'"}],
        "containerStatuses":[{"name":"c","image":"example.invalid/none:1","imageID":"","ready":true,"started":true,"restartCount":0,
          "state":{"running":{"startedAt":"'"$now"'"}}}]}}' >/dev/null || fail "set pod status"
  done
  if [ -n "$KUBECTL" ]; then
    "$KUBECTL" rollout status deployment/smoke --timeout=60s >&2 || fail "deployment rollout"
  fi
  avail="$("${CURL[@]}" "$API/apis/apps/v1/namespaces/default/deployments/smoke" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"].get("availableReplicas",0))')"
  [ "$avail" = 2 ] || fail "deployment availableReplicas=$avail"
  log "Deployment rolled out (availableReplicas=2) with pods marked Ready by hand"
fi

log "PASS"
