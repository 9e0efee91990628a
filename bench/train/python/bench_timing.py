"""Per-step timing for transformers.Trainer runs in bench:train (FastChat's train.py and the naive packed Trainer):
each optimizer step's wall time (device synchronised) and its non-padding tokens (attention_mask sum, or every token
when there is no mask), one JSON line per step on stdout, then peak memory. Under torchrun the tokens of every rank
are summed and rank 0 writes the line."""
import json
import resource
import sys
import time

import torch
import transformers


def _sync():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def _distributed() -> bool:
    return torch.distributed.is_available() and torch.distributed.is_initialized() and torch.distributed.get_world_size() > 1


def install(label: str) -> None:
    state = {"tokens": 0, "padded": 0, "t0": None, "step": 0}
    original = transformers.Trainer.training_step

    def training_step(self, model, inputs, *args, **kwargs):
        if state["t0"] is None:
            _sync()
            state["t0"] = time.perf_counter()
        mask = inputs.get("attention_mask")
        ids = inputs["input_ids"]
        state["tokens"] += int(mask.sum()) if mask is not None and mask.dim() == 2 else int(ids.numel())
        state["padded"] += int(ids.numel())
        return original(self, model, inputs, *args, **kwargs)

    class StepTimer(transformers.TrainerCallback):
        def on_step_end(self, args, st, control, **kw):
            _sync()
            now = time.perf_counter()
            state["step"] += 1
            if _distributed():  # torchrun: every rank's tokens, written once (rank 0)
                counts = torch.tensor([state["tokens"], state["padded"]], dtype=torch.float64,
                                      device="cuda" if torch.cuda.is_available() else "cpu")
                torch.distributed.all_reduce(counts)
                state["tokens"], state["padded"] = int(counts[0]), int(counts[1])
                if torch.distributed.get_rank() != 0:
                    state["tokens"] = state["padded"] = 0
                    state["t0"] = None
                    return
            line = {"event": "step", "runner": label, "step": state["step"], "tokens": state["tokens"],
                    "padded_tokens": state["padded"], "step_time_s": now - state["t0"]}
            sys.stdout.write(json.dumps(line) + "\n")
            sys.stdout.flush()
            state["tokens"] = state["padded"] = 0
            state["t0"] = None

        def on_train_end(self, args, st, control, **kw):
            if _distributed() and torch.distributed.get_rank() != 0:
                return
            mem = ({"peak_gpu_bytes": int(torch.cuda.max_memory_allocated())} if torch.cuda.is_available()
                   else {"peak_rss_bytes": int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024})
            sys.stdout.write(json.dumps({"event": "done", "runner": label, **mem}) + "\n")
            sys.stdout.flush()

    transformers.Trainer.training_step = training_step
    original_init = transformers.Trainer.__init__

    def init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        self.add_callback(StepTimer())

    transformers.Trainer.__init__ = init
