#!/usr/bin/env bash
# Installs or builds everything the whole test suite uses, so that `npm test` passes on a fresh machine as it does in
# CI. Every step is idempotent and cached under ~/.cache/fleetchat (a second run takes seconds). `npm test` runs this
# before the full suite (not for a subset: `npm test -- test/x`); set FLEETCHAT_SKIP_TEST_DEPS=1 to skip it.
# Add a new suite's installer here (not to .ci/run), so that CI and a newcomer install the same things.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> test dependencies: %s\n' "$*"; }

step "Debian packages (Chromium for the browser tests, etcd)"
scripts/install-system-deps.sh

step "Kubernetes binaries for the real-API-server tests (kube-apiserver, controller-manager, scheduler, kwok, etcd, helm)"
scripts/k8s/build-bins.sh

step "cert-manager CRDs (Certificate, Issuer, ClusterIssuer) for the chart's cert-manager TLS test (Go module proxy)"
scripts/k8s/fetch-cert-manager-crds.sh

step "Kubeflow training operator v1.8.1 and its PyTorchJob CRD for the jobs train --submit tests (Go module proxy)"
scripts/k8s/build-training-operator.sh

step "trainer runtime (PyTorch + transformers + peft from PyPI into ~/.cache/fleetchat/train-venv; ~3 GB and a few minutes the first time)"
scripts/install-train-runtime

step "PostgreSQL server binaries for the arena's PostgreSQL tests (Debian postgresql)"
scripts/install-postgres

step "gRPC clients of the public API: grpcurl (built from its Go module) and the Python runtime (grpcio + grpcio-tools stubs)"
scripts/build-grpcurl
scripts/install-grpc-python

step "style-control reference (numpy + scipy, pinned, into ~/.cache/fleetchat/style-venv)"
scripts/install-style-reference >/dev/null

step "llama.cpp's OpenAI-compatible server for the external-engine tests (llama-cpp-python built with cmake into ~/.cache/fleetchat/llama-venv; ~3-5 min on 2 idle cores the first time)"
scripts/install-llama-server > /dev/null
