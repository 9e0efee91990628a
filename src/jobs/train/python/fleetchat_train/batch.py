"""Packed rows -> the tensors of one micro-batch.

Two layouts, both keeping attention inside each sample:
- flat (varlen kernels): every row of the micro-batch concatenated into one sequence of shape [1, T]; position_ids
  restart at 0 for each sample and cu_seqlens marks sample boundaries (DataCollatorWithFlattening's semantics);
- rows (SDPA / eager with a block-diagonal causal mask): [B, L] with L the longest row, a segment id per token;
  padding tokens form their own segment (they attend only to padding, so no row is empty) and carry no targets.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .data import IGNORE, Dataset


@dataclass
class MicroBatch:
    input_ids: torch.Tensor
    position_ids: torch.Tensor
    targets: torch.Tensor
    tokens: int  # non-padding tokens
    trainable: int  # tokens with a target
    cu_seqlens: torch.Tensor | None = None  # flat layout
    max_seqlen: int = 0
    segments: torch.Tensor | None = None  # rows layout: [B, L] segment ids (-1 = padding)
    keep: torch.Tensor | None = None  # flat indices of the positions that have a target (no device sync to find them)

    def to(self, device: torch.device) -> "MicroBatch":
        move = lambda t: None if t is None else t.to(device, non_blocking=True)  # noqa: E731
        return MicroBatch(move(self.input_ids), move(self.position_ids), move(self.targets), self.tokens, self.trainable,
                          move(self.cu_seqlens), self.max_seqlen, move(self.segments), move(self.keep))

    def pin(self) -> "MicroBatch":
        pin = lambda t: None if t is None else t.pin_memory()  # noqa: E731
        return MicroBatch(pin(self.input_ids), pin(self.position_ids), pin(self.targets), self.tokens, self.trainable,
                          pin(self.cu_seqlens), self.max_seqlen, pin(self.segments), pin(self.keep))


def _keep(targets: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.flatnonzero(targets.reshape(-1) != IGNORE))


def collate(dataset: Dataset, rows: list[list[int]], layout: str) -> MicroBatch:
    samples = [[dataset.samples[i] for i in row] for row in rows]
    tokens = sum(s.length for row in samples for s in row)
    trainable = sum(int((s.targets != IGNORE).sum()) for row in samples for s in row)
    if layout == "flat":
        flat = [s for row in samples for s in row]
        ids = np.concatenate([s.input_ids for s in flat])
        tgt = np.concatenate([s.targets for s in flat])
        pos = np.concatenate([np.arange(s.length, dtype=np.int64) for s in flat])
        lens = np.array([s.length for s in flat], dtype=np.int32)
        cu = np.zeros(len(flat) + 1, dtype=np.int32)
        np.cumsum(lens, out=cu[1:])
        return MicroBatch(torch.from_numpy(ids)[None], torch.from_numpy(pos)[None], torch.from_numpy(tgt)[None], tokens,
                          trainable, cu_seqlens=torch.from_numpy(cu), max_seqlen=int(lens.max()), keep=_keep(tgt))
    width = max(sum(s.length for s in row) for row in samples)
    ids = np.zeros((len(rows), width), dtype=np.int64)
    tgt = np.full((len(rows), width), IGNORE, dtype=np.int64)
    pos = np.zeros((len(rows), width), dtype=np.int64)
    seg = np.full((len(rows), width), -1, dtype=np.int64)
    for r, row in enumerate(samples):
        at = 0
        for k, s in enumerate(row):
            ids[r, at:at + s.length] = s.input_ids
            tgt[r, at:at + s.length] = s.targets
            pos[r, at:at + s.length] = np.arange(s.length)
            seg[r, at:at + s.length] = k
            at += s.length
        pos[r, at:] = np.arange(width - at)
    return MicroBatch(torch.from_numpy(ids), torch.from_numpy(pos), torch.from_numpy(tgt), tokens, trainable,
                      segments=torch.from_numpy(seg), keep=_keep(tgt))
