"""Checkpoints: OUTPUT/checkpoint-STEP/ with the trainable tensors (safetensors), the optimizer state and state.json.
Written into a staging folder and renamed, so a checkpoint that exists is complete; the oldest beyond
--save-total-limit are removed. The learning-rate schedule is a function of the step and needs no state."""
from __future__ import annotations

import json
import os
import re
import shutil

import torch
from safetensors.torch import load_file, save_file

_NAME = re.compile(r"^checkpoint-(\d+)$")


def list_checkpoints(out_dir: str) -> list[tuple[int, str]]:
    if not os.path.isdir(out_dir):
        return []
    found = []
    for name in os.listdir(out_dir):
        m = _NAME.match(name)
        path = os.path.join(out_dir, name)
        if m and os.path.isfile(os.path.join(path, "state.json")):
            found.append((int(m.group(1)), path))
    return sorted(found)


def save(out_dir: str, step: int, trainable: dict, optim_state: dict, state: dict, keep: int) -> str:
    final = os.path.join(out_dir, f"checkpoint-{step}")
    stage = final + ".tmp"
    shutil.rmtree(stage, ignore_errors=True)
    os.makedirs(stage)
    save_file({n: t.detach().contiguous().cpu() for n, t in trainable.items()}, os.path.join(stage, "trainable.safetensors"))
    torch.save(optim_state, os.path.join(stage, "optimizer.pt"))
    with open(os.path.join(stage, "state.json"), "w", encoding="utf-8") as f:
        json.dump(state, f)
    shutil.rmtree(final, ignore_errors=True)
    os.replace(stage, final)
    for _, old in list_checkpoints(out_dir)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def read(path: str, model) -> tuple[dict, dict, dict]:
    """(trainable tensors, optimizer state, state.json) of a checkpoint, checked against the model's trainable names."""
    tensors = load_file(os.path.join(path, "trainable.safetensors"))
    missing = [n for n, p in model.named_parameters() if p.requires_grad and n not in tensors]
    if missing:
        raise RuntimeError(f"{path}: checkpoint lacks {len(missing)} trainable tensors (e.g. {missing[0]}); "
                           "was it written with other --lora-* flags?")
    optim_state = torch.load(os.path.join(path, "optimizer.pt"), map_location="cpu", weights_only=True)
    with open(os.path.join(path, "state.json"), encoding="utf-8") as f:
        return tensors, optim_state, json.load(f)
