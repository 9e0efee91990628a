#!/usr/bin/env bash
# On the GPU machine: checks and unpacks what bench/gpu/pack-kit.sh made (the parts may arrive in separate copies;
# each is unpacked once it is there), puts the CUDA provider beside the onnxruntime binding, and prints the
# environment to run the bundled bench with (the CUDA 13 libraries from the machine's Python site-packages).
#
#   bench/gpu/unpack-kit.sh KIT_DIR DEST      then:  eval "$(bench/gpu/unpack-kit.sh --env DEST)"
set -euo pipefail
if [ "${1:-}" = --env ]; then
  dest=$2
  site=$(python3 -c 'import site; print(site.getsitepackages()[0])')
  libs="$site/nvidia/cu13/lib:$site/nvidia/cudnn/lib"
  echo "export PATH=$dest/kit:\$PATH LD_LIBRARY_PATH=$libs:\${LD_LIBRARY_PATH:-} FLEETCHAT_CUDA_LIBS=$libs FLEETCHAT_ORT_DEVICE_ADDON=$dest/kit/ort_device.node"
  exit 0
fi
kit=$1
dest=$2
mkdir -p "$dest"
for part in base.tar.xz provider.tar.xz; do
  [ -f "$kit/$part" ] || continue
  [ -f "$dest/.$part.done" ] && continue
  (cd "$kit" && grep " $part\$" SHA256SUMS | sha256sum -c --quiet) || { echo "unpack-kit: $part does not match SHA256SUMS" >&2; exit 1; }
  case $part in
    base.tar.xz) xz -dc "$kit/$part" | tar -C "$dest" -xf - ;;
    provider.tar.xz) xz -dc "$kit/$part" | tar -C "$dest/kit/node_modules/onnxruntime-node/bin/napi-v6/linux/x64" -xf - ;;
  esac
  touch "$dest/.$part.done"
  echo "unpack-kit: $part unpacked into $dest"
done
