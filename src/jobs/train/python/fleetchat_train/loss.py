"""The training objective as one module (so DDP wraps it): the decoder's hidden states, the lm_head only at the
positions that have a target (the masked prompt tokens never reach the vocabulary projection), summed cross-entropy."""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .attention import block_causal_mask
from .modelio import core_of

CHUNK = 16384  # positions per lm_head + cross-entropy chunk (bounds the fp32 logits held for the backward pass)


def _chunk_loss(head: nn.Module, hidden: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(head(hidden).float(), targets, reduction="sum")


class PackedCausalLMLoss(nn.Module):
    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model  # the PEFT wrapper or the *ForCausalLM; its parameters are this module's

    def forward(self, input_ids, position_ids, targets, keep, cu_seqlens=None, max_seqlen=0, segments=None):
        core = core_of(self.model)
        extra = {}
        if cu_seqlens is not None:
            extra = {"fc_cu_seqlens": cu_seqlens, "fc_max_seqlen": max_seqlen}
        else:
            extra = {"fc_mask": block_causal_mask(segments)}
        hidden = core.model(input_ids=input_ids, position_ids=position_ids, use_cache=False, **extra).last_hidden_state
        flat_t = targets.reshape(-1)
        h = hidden.reshape(-1, hidden.shape[-1]).index_select(0, keep)
        t = flat_t.index_select(0, keep)
        head = core.lm_head
        if h.shape[0] <= CHUNK:
            return _chunk_loss(head, h, t)
        total = h.new_zeros((), dtype=torch.float32)
        for at in range(0, h.shape[0], CHUNK):
            total = total + torch.utils.checkpoint.checkpoint(_chunk_loss, head, h[at:at + CHUNK], t[at:at + CHUNK],
                                                              use_reentrant=False)
        return total
