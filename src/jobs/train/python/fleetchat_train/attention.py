"""Attention that stays inside each packed sample, plugged into transformers' model code by name.

- `fleetchat_varlen`: the flattened micro-batch ([1, T]) through torch's flash-attention varlen kernel
  (torch.nn.attention.varlen.varlen_attn) with the samples' cu_seqlens: no mask is materialised and no padding is
  computed. CUDA with bf16/fp16 only.
- `fleetchat_masked`: rows ([B, L]) through scaled_dot_product_attention (or the eager product) with a block-diagonal
  causal mask built from per-token segment ids. Works on every device.

transformers passes unknown keyword arguments of the model's forward down to the attention function; the loss module
hands over `fc_cu_seqlens` / `fc_max_seqlen` or `fc_mask`. A registered name without a mask function also makes
transformers skip building its own [B, 1, T, T] mask.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

VARLEN = "fleetchat_varlen"
MASKED = "fleetchat_masked"
MASKED_EAGER = "fleetchat_masked_eager"


def _varlen(module, query, key, value, attention_mask, scaling=None, dropout=0.0, **kwargs):
    from torch.nn.attention.varlen import varlen_attn

    cu = kwargs["fc_cu_seqlens"]
    longest = kwargs["fc_max_seqlen"]
    # RoPE multiplies by float32 cos/sin, so under bf16 autocast q and k arrive as float32: flash needs 16-bit
    half = torch.get_autocast_dtype("cuda") if torch.is_autocast_enabled("cuda") else torch.bfloat16
    q = query[0].transpose(0, 1).to(half)  # [T, H, D]
    k = key[0].transpose(0, 1).to(half)
    v = value[0].transpose(0, 1).to(half)
    # flash-attention takes fewer K/V heads than query heads (GQA) as they are: no repeated copies
    out = varlen_attn(q, k, v, cu, cu, longest, longest, scale=scaling, window_size=(-1, 0))
    return out.unsqueeze(0), None  # [1, T, H, D]


def _masked(module, query, key, value, attention_mask, scaling=None, dropout=0.0, **kwargs):
    mask = kwargs["fc_mask"]  # bool [B, 1, L, L]
    gqa = key.shape[1] != query.shape[1]
    if gqa and query.is_cuda:
        # the memory-efficient kernel (the one that takes a mask) wants equal head counts
        rep = query.shape[1] // key.shape[1]
        key = key.repeat_interleave(rep, dim=1)
        value = value.repeat_interleave(rep, dim=1)
        gqa = False
    out = F.scaled_dot_product_attention(query, key, value, attn_mask=mask, scale=scaling, enable_gqa=gqa)
    return out.transpose(1, 2).contiguous(), None


def _masked_eager(module, query, key, value, attention_mask, scaling=None, dropout=0.0, **kwargs):
    mask = kwargs["fc_mask"]
    if key.shape[1] != query.shape[1]:
        rep = query.shape[1] // key.shape[1]
        key = key.repeat_interleave(rep, dim=1)
        value = value.repeat_interleave(rep, dim=1)
    scores = torch.matmul(query, key.transpose(-1, -2)) * (scaling if scaling is not None else query.shape[-1] ** -0.5)
    scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
    probs = torch.softmax(scores.float(), dim=-1).to(query.dtype)
    return torch.matmul(probs, value).transpose(1, 2).contiguous(), None


def register() -> None:
    from transformers import AttentionInterface

    AttentionInterface.register(VARLEN, _varlen)
    AttentionInterface.register(MASKED, _masked)
    AttentionInterface.register(MASKED_EAGER, _masked_eager)


def block_causal_mask(segments: torch.Tensor) -> torch.Tensor:
    """[B, L] segment ids -> bool [B, 1, L, L]: token i sees token j iff same segment and j <= i."""
    length = segments.shape[1]
    same = segments[:, :, None] == segments[:, None, :]
    causal = torch.ones(length, length, dtype=torch.bool, device=segments.device).tril_()
    return (same & causal)[:, None]


def choose(requested: str, device: torch.device, bf16: bool) -> tuple[str, str]:
    """-> (attention function name, batch layout)."""
    if requested == "auto":
        requested = "varlen" if device.type == "cuda" and bf16 else "sdpa"
    if requested == "varlen":
        if device.type != "cuda" or not bf16:
            from .errors import TrainInputError

            raise TrainInputError("invalid_flag", "--attention varlen needs a CUDA device and --bf16", flag="--attention")
        return VARLEN, "flat"
    return (MASKED if requested == "sdpa" else MASKED_EAGER), "rows"
