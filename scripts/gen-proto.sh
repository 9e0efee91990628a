#!/usr/bin/env bash
# Regenerates src/common/gen/ from proto/ with ts-proto, using the protoc shipped in the `protoc` npm package.
set -euo pipefail
cd "$(dirname "$0")/.."
out=src/common/gen
rm -rf "$out" && mkdir -p "$out"
node_modules/.bin/protoc \
  --plugin=protoc-gen-ts_proto=node_modules/.bin/protoc-gen-ts_proto \
  --ts_proto_out="$out" \
  --ts_proto_opt=outputServices=grpc-js,esModuleInterop=true,env=node,forceLong=number,useExactTypes=false,oneof=unions-value,unrecognizedEnum=false,useDate=false \
  -I proto \
  proto/worker.proto proto/controller.proto proto/judge.proto proto/grpc/health/v1/health.proto
echo "generated $(find "$out" -name '*.ts' | wc -l) files into $out"
