"""Entry point: check everything, then train. One JSON object per line on stdout (rank 0):
  {"event": "start", ...plan}  {"event": "step", step, max_steps, epoch, loss, lr, tokens_per_s, eta_s, ...}
  {"event": "checkpoint", step, path}  {"event": "interrupted", step, checkpoint}  {"event": "done", ...}
  {"event": "error", code, message, file?, line?, record?, flag?}   (exit status 2: bad input, nothing computed)
SIGTERM (Kubernetes preemption, torchrun forwarding it) finishes the current step, saves a checkpoint and exits 143.
"""
from __future__ import annotations

import json
import math
import os
import signal
import sys
import time

from .args import parse
from .errors import TrainInputError

_stop = {"requested": False}


def emit(obj: dict) -> None:
    if int(os.environ.get("RANK", "0")) == 0:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()


def lr_factor(step: int, total: int, warmup: int, kind: str) -> float:
    """Multiplier of the peak learning rate for optimizer step `step` (0-based)."""
    if warmup > 0 and step < warmup:
        return (step + 1) / warmup
    if kind in ("constant", "constant_with_warmup"):
        return 1.0
    progress = (step - warmup) / max(1, total - warmup)
    if kind == "linear":
        return max(0.0, 1.0 - progress)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def main(argv: list[str] | None = None) -> int:
    try:
        args = parse(sys.argv[1:] if argv is None else argv)
        from .modelio import read_model_config

        cfg = read_model_config(args.model_name_or_path)
        from .data import load_dataset

        dataset = load_dataset(args.data_path, vocab_size=int(cfg["vocab_size"]), max_length=args.model_max_length)
    except TrainInputError as err:
        emit(err.to_json())
        sys.stderr.write(f"fleetchat_train: {err.message}\n")
        return 2
    signal.signal(signal.SIGTERM, lambda *_: _stop.__setitem__("requested", True))
    from .loop import train

    try:
        return train(args, cfg, dataset, emit, _stop)
    except TrainInputError as err:
        emit(err.to_json())
        sys.stderr.write(f"fleetchat_train: {err.message}\n")
        return 2
