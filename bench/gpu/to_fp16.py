"""Writes onnx/model_fp16.onnx (weights, activations and KV cache in float16) beside a model's onnx/model.onnx,
with onnxruntime's own converter, so `--weights fp16` (auto picks fp32 first) can be measured. Used by bench:gpu."""
import os
import sys

import onnx
from onnxruntime.transformers.float16 import convert_float_to_float16

src = os.path.join(sys.argv[1], "onnx", "model.onnx")
dst = os.path.join(sys.argv[1], "onnx", "model_fp16.onnx")
model = onnx.load(src, load_external_data=True)
half = convert_float_to_float16(model, keep_io_types=False, disable_shape_infer=True)
onnx.save(half, dst, save_as_external_data=True, all_tensors_to_one_file=True, location="model_fp16.onnx_data", size_threshold=1024)
print(f"wrote {dst}")
