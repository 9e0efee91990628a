#!/usr/bin/env bash
# Installs the Debian packages the test suite uses (etcd for the Kubernetes tests, Chromium for the web UI
# tests, a C compiler for the ort_device addon, unzip when Go must be bootstrapped) when they are missing. Needs root (CI runs as root); prints what it would need otherwise.
set -euo pipefail
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/bin/etcd ] || need+=(etcd-server)
# A C compiler builds the ort_device addon (native/ort-device) that test/device/native-kv.test.ts runs on the CPU.
command -v cc >/dev/null || need+=(gcc libc6-dev)
# llama.cpp's server (scripts/install-llama-server) builds from source with cmake and a C++ compiler.
command -v cmake >/dev/null || need+=(cmake)
command -v c++ >/dev/null || need+=(g++)
# Without Go, scripts/k8s/build-bins.sh fetches a Go toolchain zip from the module proxy and unpacks it.
if ! command -v go >/dev/null && [ ! -x /usr/local/go/bin/go ] && ! command -v unzip >/dev/null; then need+=(unzip); fi
if [ ${#need[@]} -eq 0 ]; then echo "system packages present"; exit 0; fi
if [ "$(id -u)" != 0 ]; then echo "missing Debian packages: ${need[*]} (run as root: apt-get install ${need[*]})" >&2; exit 1; fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}"
