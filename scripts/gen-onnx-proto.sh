#!/usr/bin/env bash
# Regenerates src/model/onnx/onnx.ts from the ONNX subset onnx.proto next to it (ts-proto, with the protoc
# shipped in the `protoc` npm package). Encode/decode and fromPartial only: no JSON methods, no services.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=src/model/onnx
node_modules/.bin/protoc \
  --plugin=protoc-gen-ts_proto=node_modules/.bin/protoc-gen-ts_proto \
  --ts_proto_out="$dir" \
  --ts_proto_opt=esModuleInterop=true,env=node,forceLong=number,useExactTypes=false,oneof=unions-value,unrecognizedEnum=false,outputJsonMethods=false,outputServices=false,outputTypeRegistry=false,stringEnums=false \
  -I "$dir" \
  "$dir/onnx.proto"
echo "generated $dir/onnx.ts"
