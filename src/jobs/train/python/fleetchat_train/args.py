"""Command-line flags: FastChat train.py's names (HfArgumentParser style, `--model_name_or_path` or
`--model-name-or-path`, booleans as `--bf16` or `--bf16 True`) plus the trainer's own."""
from __future__ import annotations

import argparse

from .errors import TrainInputError

SCHEDULERS = ("cosine", "linear", "constant", "constant_with_warmup")
ATTENTION = ("auto", "varlen", "sdpa", "eager")
LORA_TARGETS = "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj"


def _bool(text: str) -> bool:
    low = str(text).lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got '{text}'")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # noqa: D401 - argparse hook
        raise TrainInputError("invalid_flag", message)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="fleetchat_train", allow_abbrev=False,
                description="Supervised fine-tuning of LLaMA-family models on prepare-sft JSONL (packed samples).")

    def add(name: str, **kw):
        dashed = "--" + name
        p.add_argument(dashed, dashed.replace("-", "_").replace("__", "--", 1), dest=name.replace("-", "_"), **kw)

    def flag(name: str, default: bool, help_text: str):
        add(name, type=_bool, nargs="?", const=True, default=default, help=help_text)

    add("model-name-or-path", required=True, help="Hugging Face model directory (LLaMA, SmolLM2, Mistral, Qwen2)")
    add("data-path", required=True, help="prepare-sft JSONL (input_ids, labels, attention_mask)")
    add("output-dir", required=True, help="checkpoints and the final model")
    add("num-train-epochs", type=float, default=3.0)
    add("max-steps", type=int, default=-1, help="optimizer steps (overrides --num-train-epochs when > 0)")
    add("per-device-train-batch-size", type=int, default=8, help="packed rows per micro-batch, each up to --model-max-length tokens")
    add("gradient-accumulation-steps", type=int, default=1)
    add("learning-rate", type=float, default=2e-5)
    add("weight-decay", type=float, default=0.0)
    add("adam-beta1", type=float, default=0.9)
    add("adam-beta2", type=float, default=0.999)
    add("adam-epsilon", type=float, default=1e-8)
    add("max-grad-norm", type=float, default=1.0)
    add("warmup-ratio", type=float, default=0.0)
    add("warmup-steps", type=int, default=0)
    add("lr-scheduler-type", choices=SCHEDULERS, default="cosine")
    add("model-max-length", type=int, default=2048, help="row capacity in tokens; a longer sample is an error")
    flag("bf16", False, "bf16 autocast (fp32 master weights)")
    flag("gradient-checkpointing", False, "recompute activations in the backward pass")
    add("lora-r", type=int, default=0, help="LoRA rank (0 = full fine-tuning)")
    add("lora-alpha", type=float, default=16.0)
    add("lora-dropout", type=float, default=0.05)
    add("lora-target-modules", default=LORA_TARGETS)
    flag("merge-lora", False, "also write the LoRA adapter merged into its base (OUTPUT/merged)")
    add("save-steps", type=int, default=0, help="checkpoint every N optimizer steps (0: only at the end)")
    add("save-total-limit", type=int, default=2)
    add("logging-steps", type=int, default=1)
    add("seed", type=int, default=42)
    add("attention", choices=ATTENTION, default="auto",
        help="varlen: flash-attention varlen over flattened samples (CUDA, bf16); sdpa / eager: block-diagonal causal mask")
    flag("compile", False, "torch.compile each decoder layer (dynamic shapes; the first steps compile)")
    flag("packing", True, "pack samples into rows (false: one sample per row, padded)")
    flag("resume", True, "continue from the newest checkpoint in --output-dir")
    add("device", choices=("auto", "cpu", "cuda"), default="auto")
    add("threads", type=int, default=0, help="CPU threads for torch (0: torch's default)")
    add("fsdp", nargs="?", const="full_shard auto_wrap", default="",
        help="shard parameters, gradients and optimizer state over the processes (FastChat's 'full_shard auto_wrap'; "
             "also shard_grad_op, offload)")
    add("fsdp-transformer-layer-cls-to-wrap", default="", help="the FSDP unit (default: the model's decoder layer class)")
    # FastChat flags accepted for compatibility and ignored (the trainer decides them itself)
    for ignored in ("lazy-preprocess", "tf32", "evaluation-strategy",
                    "save-strategy", "report-to", "per-device-eval-batch-size", "eval-data-path"):
        add(ignored, default=None, help=argparse.SUPPRESS)
    return p


def parse(argv: list[str]) -> argparse.Namespace:
    a = build_parser().parse_args(argv)
    checks = [
        (a.per_device_train_batch_size >= 1, "--per-device-train-batch-size", "must be >= 1"),
        (a.gradient_accumulation_steps >= 1, "--gradient-accumulation-steps", "must be >= 1"),
        (a.learning_rate > 0, "--learning-rate", "must be > 0"),
        (0 <= a.warmup_ratio < 1, "--warmup-ratio", "must be in [0, 1)"),
        (a.warmup_steps >= 0, "--warmup-steps", "must be >= 0"),
        (a.model_max_length >= 2, "--model-max-length", "must be >= 2"),
        (a.num_train_epochs > 0 or a.max_steps > 0, "--num-train-epochs", "must be > 0 (or give --max-steps)"),
        (a.lora_r >= 0, "--lora-r", "must be >= 0"),
        (0 <= a.lora_dropout < 1, "--lora-dropout", "must be in [0, 1)"),
        (a.save_steps >= 0, "--save-steps", "must be >= 0"),
        (a.save_total_limit >= 1, "--save-total-limit", "must be >= 1"),
        (a.logging_steps >= 1, "--logging-steps", "must be >= 1"),
        (a.max_grad_norm >= 0, "--max-grad-norm", "must be >= 0"),
    ]
    for ok, name, why in checks:
        if not ok:
            raise TrainInputError("invalid_flag", f"{name} {why}", flag=name)
    from .fsdp import parse_mode

    if parse_mode(a.fsdp) and a.merge_lora:
        raise TrainInputError("invalid_flag", "--merge-lora cannot run under --fsdp (the merge needs the whole model in one "
                              "process): train the adapter, then `fleetchat model import-hf OUT --lora-base BASE` merges it",
                              flag="--merge-lora")
    if a.merge_lora and a.lora_r == 0:
        raise TrainInputError("invalid_flag", "--merge-lora needs --lora-r > 0", flag="--merge-lora")
    return a
