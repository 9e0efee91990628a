"""The model directory: checked before anything heavy is loaded, loaded for training (full or LoRA), written out."""
from __future__ import annotations

import json
import os
import shutil

from .errors import TrainInputError

FAMILY = ("llama", "mistral", "qwen2")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model",
                   "vocab.json", "merges.txt", "added_tokens.json", "chat_template.jinja", "generation_config.json")


def read_model_config(path: str) -> dict:
    """config.json of a LLaMA-family checkpoint, or a TrainInputError naming what is wrong."""
    cfg_path = os.path.join(path, "config.json")
    if not os.path.isdir(path):
        raise TrainInputError("invalid_model", f"--model-name-or-path {path}: not a directory", flag="--model-name-or-path")
    if not os.path.isfile(cfg_path):
        raise TrainInputError("invalid_model", f"{cfg_path} is missing (a Hugging Face model directory has config.json)",
                              file=cfg_path, flag="--model-name-or-path")
    try:
        with open(cfg_path, encoding="utf-8") as f:
            cfg = json.load(f)
    except (OSError, json.JSONDecodeError) as err:
        raise TrainInputError("invalid_model", f"{cfg_path}: unreadable ({err})", file=cfg_path) from err
    model_type = cfg.get("model_type")
    if model_type not in FAMILY:
        raise TrainInputError("invalid_model", f"{cfg_path}: model_type '{model_type}' is not LLaMA-family "
                              f"({', '.join(FAMILY)})", file=cfg_path, flag="--model-name-or-path")
    weights = [n for n in os.listdir(path) if n.endswith(".safetensors") or n in ("model.safetensors.index.json", "pytorch_model.bin")]
    if not weights:
        raise TrainInputError("invalid_model", f"{path}: no weights (model.safetensors)", file=path, flag="--model-name-or-path")
    if not isinstance(cfg.get("vocab_size"), int):
        raise TrainInputError("invalid_model", f"{cfg_path}: vocab_size is missing", file=cfg_path)
    return cfg


def load_model(path: str, attn_name: str, args):
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32, attn_implementation=attn_name)
    model.config.use_cache = False
    if args.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    if args.compile:
        for layer in model.model.layers:
            layer.compile(dynamic=True)
    if args.lora_r > 0:
        from peft import LoraConfig, get_peft_model

        targets = [t.strip() for t in args.lora_target_modules.split(",") if t.strip()]
        lcfg = LoraConfig(r=args.lora_r, lora_alpha=args.lora_alpha, lora_dropout=args.lora_dropout,
                          target_modules=targets, bias="none", task_type="CAUSAL_LM")
        model = get_peft_model(model, lcfg)
    return model


def core_of(model):
    """The *ForCausalLM module under a PEFT wrapper (LoRA layers are injected inside it)."""
    return model.get_base_model() if hasattr(model, "get_base_model") else model


def trainable_state(model) -> dict:
    return {n: p.detach() for n, p in model.named_parameters() if p.requires_grad}


def copy_tokenizer(src: str, dst: str) -> None:
    for name in TOKENIZER_FILES:
        s = os.path.join(src, name)
        if os.path.isfile(s):
            shutil.copyfile(s, os.path.join(dst, name))


def save_final(model, base_path: str, out_dir: str, args, state_dict: dict | None = None) -> dict:
    """Writes the trained model (full: safetensors + config; LoRA: the adapter, and merged with --merge-lora),
    with the base's tokenizer files (state_dict: full tensors gathered from FSDP shards), atomically (a staging folder renamed into place)."""
    written = {}
    os.makedirs(out_dir, exist_ok=True)
    stage = os.path.join(out_dir, ".final.tmp")
    shutil.rmtree(stage, ignore_errors=True)
    os.makedirs(stage)
    if state_dict is None:
        model.save_pretrained(stage, safe_serialization=True)
    else:  # FSDP: the full tensors gathered to rank 0
        model.save_pretrained(stage, safe_serialization=True, state_dict=state_dict)
    copy_tokenizer(base_path, stage)
    if args.lora_r > 0:
        written["adapter"] = out_dir
        with open(os.path.join(stage, "adapter_config.json"), encoding="utf-8") as f:
            acfg = json.load(f)
        acfg["base_model_name_or_path"] = os.path.abspath(base_path)
        with open(os.path.join(stage, "adapter_config.json"), "w", encoding="utf-8") as f:
            json.dump(acfg, f, indent=2)
        if args.merge_lora:
            merged = model.merge_and_unload()
            mdir = os.path.join(stage, "merged")
            merged.save_pretrained(mdir, safe_serialization=True)
            copy_tokenizer(base_path, mdir)
            written["merged"] = os.path.join(out_dir, "merged")
    else:
        written["model"] = out_dir
    for name in os.listdir(stage):
        target = os.path.join(out_dir, name)
        if os.path.isdir(target):
            shutil.rmtree(target)
        os.replace(os.path.join(stage, name), target)
    os.rmdir(stage)
    return written
