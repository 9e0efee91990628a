"""How the processes of a run share the work: one process (nothing to share), DDP (each holds the whole model,
gradients all-reduced), or FSDP (--fsdp: parameters, gradients and optimizer state sharded, see fsdp.py).
The loop talks to this one object; checkpoints hold full tensors either way."""
from __future__ import annotations

import contextlib

import torch

from . import checkpoint, fsdp


class Parallel:
    def __init__(self, module, model, device: torch.device, world: int, rank: int, args):
        self.module, self.model, self.device, self.world, self.rank = module, model, device, world, rank
        self.fsdp_mode = fsdp.parse_mode(args.fsdp) if world > 1 else set()
        self.fsdp_info = None
        if self.fsdp_mode:
            self.fsdp_info = fsdp.shard(module, model, device, args, self.fsdp_mode)
            self.runner = module
        elif world > 1:
            from torch.nn.parallel import DistributedDataParallel

            self.runner = DistributedDataParallel(module, device_ids=[device.index] if device.type == "cuda" else None)
        else:
            self.runner = module

    def kind(self) -> str:
        return "fsdp" if self.fsdp_mode else "ddp" if self.world > 1 else "single"

    def optimizer(self, params, args):
        # fused AdamW for plain tensors on CUDA; the foreach kernels for FSDP's DTensor shards
        fused = self.device.type == "cuda" and not self.fsdp_mode
        return torch.optim.AdamW(params, lr=args.learning_rate, betas=(args.adam_beta1, args.adam_beta2), eps=args.adam_epsilon,
                                 weight_decay=args.weight_decay, fused=fused, foreach=None if fused else True)

    def sync(self, last_micro_batch: bool):
        """Gradients are exchanged on the last micro-batch of an optimizer step only."""
        if self.fsdp_mode:
            fsdp.set_gradient_sync(self.runner, last_micro_batch)
            return contextlib.nullcontext()
        if self.world == 1 or last_micro_batch:
            return contextlib.nullcontext()
        return self.runner.no_sync()

    def trainable(self) -> dict:
        """Full trainable tensors by name (on rank 0; a collective under FSDP)."""
        named = [(n, p) for n, p in self.model.named_parameters() if p.requires_grad]
        if self.fsdp_mode:
            return fsdp.full_tensors(named, self.rank)
        return {n: p.detach() for n, p in named}

    def optimizer_state(self, optimizer) -> dict:
        return fsdp.optimizer_state(self.runner, optimizer) if self.fsdp_mode else optimizer.state_dict()

    def load(self, path: str, optimizer) -> dict:
        tensors, optim_state, state = checkpoint.read(path, self.model)
        params = dict(self.model.named_parameters())
        if self.fsdp_mode:
            fsdp.load_full(params, tensors)
            fsdp.load_optimizer_state(self.runner, optimizer, optim_state)
        else:
            with torch.no_grad():
                for name, value in tensors.items():
                    params[name].copy_(value.to(params[name].device, params[name].dtype))
            optimizer.load_state_dict(optim_state)
        return state

    def final_state(self) -> dict | None:
        """The whole model's full state dict for save_pretrained under FSDP (rank 0; None without FSDP)."""
        if not self.fsdp_mode:
            return None
        seen, named = set(), []
        for name, t in self.model.state_dict(keep_vars=True).items():
            if id(t) not in seen:  # tied weights (lm_head = embed_tokens) once, as save_pretrained writes them
                seen.add(id(t))
                named.append((name, t))
        return fsdp.full_tensors(named, self.rank)
