"""FSDP: PyTorch's `fully_shard` (FSDP2, DTensor parameters) over every process of the run.

FastChat's spelling is accepted: `--fsdp "full_shard auto_wrap"` shards parameters, gradients and optimizer state
(ZeRO-3; `shard_grad_op` keeps the gathered parameters from the forward to the backward pass, ZeRO-2; `offload` keeps
the shards in CPU memory). `auto_wrap` is what we always do: each decoder layer (`--fsdp-transformer-layer-cls-to-wrap`,
by default the model's own `_no_split_modules` class, e.g. LlamaDecoderLayer) is one unit, gathered just before it
runs and freed after; the embeddings, the final norm and lm_head (tied or not) are the root unit.

With --bf16 the layers compute in bf16 (parameters gathered in bf16), gradients are reduce-scattered in fp32 and the
master weights and AdamW state stay fp32 shards. Checkpoints and the final model are full (unsharded) tensors gathered
to rank 0 and written in the same files as without FSDP, so `model import-hf` and a resume read them as any other.
"""
from __future__ import annotations

import torch
import torch.distributed as dist

from .errors import TrainInputError

MODES = ("full_shard", "shard_grad_op", "auto_wrap", "offload")


def parse_mode(text: str | None) -> set[str]:
    """'' / 'false' -> off; 'true' -> full_shard auto_wrap; otherwise FastChat's words (space or comma separated)."""
    low = (text or "").strip().lower()
    if low in ("", "false", "no", "off", "0"):
        return set()
    if low in ("true", "yes", "on", "1"):
        return {"full_shard", "auto_wrap"}
    words = {w for w in low.replace(",", " ").split() if w}
    unknown = sorted(words - set(MODES))
    if unknown:
        raise TrainInputError("invalid_flag", f"--fsdp '{text}': unknown mode {', '.join(unknown)} (use {', '.join(MODES)})",
                              flag="--fsdp")
    if "full_shard" in words and "shard_grad_op" in words:
        raise TrainInputError("invalid_flag", "--fsdp: full_shard and shard_grad_op exclude each other", flag="--fsdp")
    if not words & {"full_shard", "shard_grad_op"}:
        words.add("full_shard")
    return words


def layer_class_name(model, requested: str) -> str:
    from .modelio import core_of

    if requested:
        return requested
    names = sorted(getattr(core_of(model), "_no_split_modules", None) or [])  # a set in transformers 5
    if not names:
        raise TrainInputError("invalid_flag", "the model names no decoder layer class: give --fsdp-transformer-layer-cls-to-wrap",
                              flag="--fsdp-transformer-layer-cls-to-wrap")
    return names[0]


def shard(runner, model, device: torch.device, args, mode: set[str]) -> dict:
    """Wraps each decoder layer, then `runner` (the loss module holding the model) as the root. Returns what was done."""
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import CPUOffloadPolicy, MixedPrecisionPolicy, OffloadPolicy, fully_shard

    cls = layer_class_name(model, args.fsdp_transformer_layer_cls_to_wrap)
    layers = [m for m in model.modules() if type(m).__name__ == cls]
    if not layers:
        present = sorted({type(m).__name__ for m in model.modules() if type(m).__name__.endswith("Layer")})
        raise TrainInputError("invalid_flag", f"--fsdp-transformer-layer-cls-to-wrap {cls}: no such module in the model "
                              f"(it has {', '.join(present) or 'no *Layer modules'})", flag="--fsdp-transformer-layer-cls-to-wrap")
    mesh = init_device_mesh(device.type, (dist.get_world_size(),))
    bf16 = args.bf16 and (device.type != "cuda" or torch.cuda.is_bf16_supported())
    mp = MixedPrecisionPolicy(param_dtype=torch.bfloat16, reduce_dtype=torch.float32) if bf16 else MixedPrecisionPolicy()
    offload = CPUOffloadPolicy() if "offload" in mode else OffloadPolicy()
    reshard = "shard_grad_op" not in mode
    for layer in layers:
        fully_shard(layer, mesh=mesh, mp_policy=mp, offload_policy=offload, reshard_after_forward=reshard)
    fully_shard(runner, mesh=mesh, mp_policy=mp, offload_policy=offload, reshard_after_forward=reshard)
    return {"sharding": "shard_grad_op" if not reshard else "full_shard", "units": len(layers) + 1, "layer_class": cls,
            "param_dtype": "bf16" if bf16 else "fp32", "offload": "offload" in mode}


def set_gradient_sync(runner, enabled: bool) -> None:
    runner.set_requires_gradient_sync(enabled)


def _full(t: torch.Tensor) -> torch.Tensor:
    from torch.distributed.tensor import DTensor

    return t.full_tensor() if isinstance(t, DTensor) else t


def full_tensors(named, rank: int) -> dict:
    """Every tensor unsharded (a collective: all ranks call it in the same order); rank 0 keeps CPU copies."""
    out = {}
    for name, t in named:
        full = _full(t.detach())
        if rank == 0:
            out[name] = full.cpu()
    return out


def load_full(params: dict, tensors: dict) -> None:
    """Copies full tensors into (possibly sharded) parameters: each rank keeps its own shard."""
    from torch.distributed.tensor import DTensor, distribute_tensor

    with torch.no_grad():
        for name, value in tensors.items():
            p = params[name]
            if isinstance(p, DTensor):
                p.copy_(distribute_tensor(value.to(p.device, p.dtype), p.device_mesh, p.placements))
            else:
                p.copy_(value.to(p.device, p.dtype))


def optimizer_state(runner, optimizer) -> dict:
    """The optimizer state with full tensors keyed by parameter name (rank 0; empty elsewhere)."""
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_optimizer_state_dict

    return get_optimizer_state_dict(runner, optimizer, options=StateDictOptions(full_state_dict=True, cpu_offload=True))


def load_optimizer_state(runner, optimizer, state: dict) -> None:
    from torch.distributed.checkpoint.state_dict import StateDictOptions, set_optimizer_state_dict

    set_optimizer_state_dict(runner, optimizer, optim_state_dict=state, options=StateDictOptions(full_state_dict=True))
