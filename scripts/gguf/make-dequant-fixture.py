#!/usr/bin/env python3
"""Reference tool (not product code): writes test/fixtures/gguf/dequant-reference.gguf with gguf-py, ggml's own
Python package. For every ggml type the importer reads it stores a tensor `q.<TYPE>` with random content (floats
quantised by gguf-py where it can quantise, random blocks with sane float16 scales for the K-quants) and
`q.<TYPE>.expected`, gguf-py's dequantisation of the same bytes as F32. The jest suite compares our dequantisers
against the expected tensors.

Usage: python3 -m venv /tmp/v && /tmp/v/bin/pip install numpy gguf==0.19.0 && /tmp/v/bin/python scripts/gguf/make-dequant-fixture.py
"""
import sys
import numpy as np
import gguf
from gguf.constants import GGMLQuantizationType as T, GGML_QUANT_SIZES
from gguf import quants

OUT = sys.argv[1] if len(sys.argv) > 1 else "test/fixtures/gguf/dequant-reference.gguf"
ROWS, COLS = 3, 512  # 1536 values: 48 blocks of 32, 6 super-blocks of 256
rng = np.random.default_rng(20251125)

def random_k_blocks(qtype: T, n_blocks: int) -> np.ndarray:
    _, type_size = GGML_QUANT_SIZES[qtype]
    raw = rng.integers(0, 256, size=(n_blocks, type_size), dtype=np.uint8)
    def put_half(col: int, low: float, high: float) -> None:
        raw[:, col:col + 2] = rng.uniform(low, high, size=n_blocks).astype(np.float16).view(np.uint8).reshape(n_blocks, 2)
    if qtype in (T.Q4_K, T.Q5_K):
        put_half(0, 1e-4, 2e-2)   # d
        put_half(2, 1e-4, 2e-2)   # dmin
    elif qtype == T.Q6_K:
        put_half(type_size - 2, 1e-4, 2e-2)  # d is the last field
    return raw

w = gguf.GGUFWriter(OUT, arch="llama")
w.add_string("fleetchat.fixture", "dequantisation reference written by gguf-py " + getattr(gguf, "__version__", "0.19.0"))
values = rng.normal(0, 0.05, size=(ROWS, COLS)).astype(np.float32)
values[0, :7] = [0.0, -0.0, 1.0, -2.5, 65504.0, 1e-6, -1e-3]
for qtype in [T.F32, T.F16, T.BF16, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0, T.Q4_K, T.Q5_K, T.Q6_K]:
    name = f"q.{qtype.name}"
    if qtype in (T.Q4_K, T.Q5_K, T.Q6_K):
        block_size, _ = GGML_QUANT_SIZES[qtype]
        raw = random_k_blocks(qtype, ROWS * COLS // block_size).reshape(ROWS, -1)
    elif qtype == T.F32:
        raw = values.copy()
    else:
        raw = quants.quantize(values, qtype)
    if qtype == T.F32:
        w.add_tensor(name, raw)
        expected = raw
    else:
        w.add_tensor(name, raw, raw_shape=raw.shape, raw_dtype=qtype)
        expected = quants.dequantize(raw, qtype).astype(np.float32).reshape(ROWS, COLS)
    w.add_tensor(name + ".expected", np.ascontiguousarray(expected))
w.write_header_to_file()
w.write_kv_data_to_file()
w.write_tensors_to_file()
w.close()
print("wrote", OUT)
