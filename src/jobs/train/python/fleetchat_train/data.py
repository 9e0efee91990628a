"""prepare-sft JSONL -> validated samples -> packed rows.

Each record is `{id?, input_ids, labels, attention_mask?}` with labels aligned to input_ids (-100 = not trained), as
`fleetchat jobs prepare-sft` writes it. Every record is checked before any compute; the first bad one stops the run
with an error naming the file, line and record id.

A sample's training targets are its labels shifted left by one *inside the sample* (the last token predicts nothing),
so a packed row never trains a token to predict the next sample's first token. Rows hold whole samples up to the
token capacity (--model-max-length); samples are never split.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from .errors import TrainInputError

IGNORE = -100


@dataclass
class Sample:
    input_ids: np.ndarray  # int64 [n]
    targets: np.ndarray  # int64 [n]: labels[1:] + [IGNORE]

    @property
    def length(self) -> int:
        return int(self.input_ids.shape[0])


@dataclass
class Dataset:
    samples: list[Sample]
    tokens: int
    trainable_tokens: int
    path: str


def _int_list(value, *, name: str, path: str, line: int, rid: str) -> list[int]:
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise TrainInputError("invalid_data", f"{path}:{line} (record {rid}): '{name}' must be a list of integers",
                              file=path, line=line, record=rid)
    return value


def load_dataset(path: str, *, vocab_size: int, max_length: int) -> Dataset:
    """Reads and checks every record; raises TrainInputError on the first bad one."""
    samples: list[Sample] = []
    tokens = 0
    trainable = 0
    try:
        handle = open(path, "r", encoding="utf-8")
    except OSError as err:
        raise TrainInputError("invalid_data", f"--data-path {path}: {err.strerror}", file=path, flag="--data-path") from err
    with handle:
        for line_no, raw in enumerate(handle, start=1):
            if raw.strip() == "":
                continue
            try:
                record = json.loads(raw)
            except json.JSONDecodeError as err:
                raise TrainInputError("invalid_data", f"{path}:{line_no}: not JSON ({err.msg})", file=path, line=line_no) from err
            if not isinstance(record, dict):
                raise TrainInputError("invalid_data", f"{path}:{line_no}: a record must be a JSON object", file=path, line=line_no)
            rid = str(record.get("id", f"#{line_no}"))
            for key in ("input_ids", "labels"):
                if key not in record:
                    raise TrainInputError("invalid_data", f"{path}:{line_no} (record {rid}): '{key}' is missing "
                                          "(expected prepare-sft output: input_ids, labels, attention_mask)",
                                          file=path, line=line_no, record=rid)
            ids = _int_list(record["input_ids"], name="input_ids", path=path, line=line_no, rid=rid)
            labels = _int_list(record["labels"], name="labels", path=path, line=line_no, rid=rid)
            mask = record.get("attention_mask")
            if len(labels) != len(ids):
                raise TrainInputError("invalid_data", f"{path}:{line_no} (record {rid}): labels has {len(labels)} entries, "
                                      f"input_ids {len(ids)}", file=path, line=line_no, record=rid)
            if mask is not None:
                mask = _int_list(mask, name="attention_mask", path=path, line=line_no, rid=rid)
                if len(mask) != len(ids):
                    raise TrainInputError("invalid_data", f"{path}:{line_no} (record {rid}): attention_mask has {len(mask)} "
                                          f"entries, input_ids {len(ids)}", file=path, line=line_no, record=rid)
                if any(m not in (0, 1) for m in mask):
                    raise TrainInputError("invalid_data", f"{path}:{line_no} (record {rid}): attention_mask holds values "
                                          "other than 0 and 1", file=path, line=line_no, record=rid)
            arr = np.asarray(ids, dtype=np.int64)
            lab = np.asarray(labels, dtype=np.int64)
            if mask is not None and not all(mask):
                keep = np.asarray(mask, dtype=bool)
                arr, lab = arr[keep], lab[keep]
            n = int(arr.shape[0])
            if n < 2:
                raise TrainInputError("invalid_data", f"{path}:{line_no} (record {rid}): {n} tokens; a sample needs at least 2",
                                      file=path, line=line_no, record=rid)
            if n > max_length:
                raise TrainInputError("too_long", f"{path}:{line_no} (record {rid}): {n} tokens > --model-max-length "
                                      f"{max_length} (prepare-sft --max-length truncates or drops such records)",
                                      file=path, line=line_no, record=rid, flag="--model-max-length")
            if arr.min() < 0 or arr.max() >= vocab_size:
                bad = int(arr[(arr < 0) | (arr >= vocab_size)][0])
                raise TrainInputError("invalid_data", f"{path}:{line_no} (record {rid}): token id {bad} is outside the "
                                      f"model's vocabulary (0..{vocab_size - 1})", file=path, line=line_no, record=rid)
            trained = lab != IGNORE
            if ((lab[trained] < 0) | (lab[trained] >= vocab_size)).any():
                raise TrainInputError("invalid_data", f"{path}:{line_no} (record {rid}): a label is neither -100 nor a token "
                                      f"id of the model (0..{vocab_size - 1})", file=path, line=line_no, record=rid)
            targets = np.empty_like(lab)
            targets[:-1] = lab[1:]
            targets[-1] = IGNORE
            count = int((targets != IGNORE).sum())
            if count == 0:
                raise TrainInputError("no_trainable_tokens", f"{path}:{line_no} (record {rid}): labels mask every token "
                                      "(nothing to learn from this record)", file=path, line=line_no, record=rid)
            samples.append(Sample(arr, targets))
            tokens += n
            trainable += count
    if not samples:
        raise TrainInputError("no_trainable_tokens", f"{path}: no records (nothing to train on)", file=path, flag="--data-path")
    return Dataset(samples, tokens, trainable, path)


def pack(lengths: np.ndarray, capacity: int, order: np.ndarray, open_bins: int = 64) -> list[list[int]]:
    """First-fit packing of samples (in `order`) into rows of at most `capacity` tokens; returns sample indices per
    row. At most `open_bins` rows stay open at once (the oldest is closed), so packing is O(n * open_bins)."""
    rows: list[list[int]] = []
    free: list[int] = []  # remaining capacity of the open rows (indices into rows via `open_ids`)
    open_ids: list[int] = []
    for idx in order.tolist():
        n = int(lengths[idx])
        placed = False
        for k, rem in enumerate(free):
            if rem >= n:
                rows[open_ids[k]].append(idx)
                free[k] = rem - n
                if free[k] == 0:
                    del free[k]
                    del open_ids[k]
                placed = True
                break
        if not placed:
            rows.append([idx])
            if capacity - n > 0:
                free.append(capacity - n)
                open_ids.append(len(rows) - 1)
                if len(free) > open_bins:
                    del free[0]
                    del open_ids[0]
    return rows


def epoch_rows(dataset: Dataset, capacity: int, seed: int, epoch: int, packing: bool) -> list[list[int]]:
    """The rows of one epoch: a seeded shuffle, then packing (or one sample per row without packing)."""
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(len(dataset.samples))
    if not packing:
        return [[int(i)] for i in order]
    lengths = np.fromiter((s.length for s in dataset.samples), dtype=np.int64, count=len(dataset.samples))
    return pack(lengths, capacity, order)
