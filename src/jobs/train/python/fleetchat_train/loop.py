"""The training loop: plan -> model -> (resume) -> steps -> checkpoints -> final model.

Data order is a pure function of (seed, epoch, dataset, world size, batch, accumulation), so a resumed run picks up at
exactly the micro-batch after its checkpoint. Global step s, accumulation a, rank r read micro-batch
(s mod steps_per_epoch) * world * accum + a * world + r of epoch s // steps_per_epoch (wrapping inside the epoch).
The loss is the sum of cross-entropies over every target token of the global step divided by their count.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import resource
import time
from concurrent.futures import ThreadPoolExecutor

import torch
import torch.distributed as dist

from . import attention, checkpoint
from .batch import MicroBatch, collate
from .data import epoch_rows
from .errors import TrainInputError
from .loss import PackedCausalLMLoss
from .modelio import load_model, save_final
from .parallel import Parallel

INTERRUPTED = 143


class Plan:
    def __init__(self, args, dataset, world: int):
        self.args, self.dataset, self.world = args, dataset, world
        self.batch = args.per_device_train_batch_size
        self.accum = args.gradient_accumulation_steps
        self._rows: dict[int, list[list[int]]] = {}
        rows0 = self.rows(0)
        self.rows_per_epoch = len(rows0)
        self.micro_per_epoch = math.ceil(len(rows0) / self.batch)
        self.steps_per_epoch = max(1, math.ceil(self.micro_per_epoch / (world * self.accum)))
        self.max_steps = args.max_steps if args.max_steps > 0 else max(1, math.ceil(self.steps_per_epoch * args.num_train_epochs))
        self.warmup = args.warmup_steps if args.warmup_steps > 0 else math.ceil(args.warmup_ratio * self.max_steps)

    def rows(self, epoch: int) -> list[list[int]]:
        if epoch not in self._rows:
            self._rows = {epoch: epoch_rows(self.dataset, self.args.model_max_length, self.args.seed, epoch, self.args.packing)}
        return self._rows[epoch]

    def micro_rows(self, step: int, accum_index: int, rank: int) -> list[list[int]]:
        epoch = step // self.steps_per_epoch
        rows = self.rows(epoch)
        micro = math.ceil(len(rows) / self.batch)
        g = ((step % self.steps_per_epoch) * self.world * self.accum + accum_index * self.world + rank) % micro
        return rows[g * self.batch:(g + 1) * self.batch]

    def identity(self) -> dict:
        a = self.args
        return {"records": len(self.dataset.samples), "tokens": self.dataset.tokens, "world": self.world, "batch": self.batch,
                "accum": self.accum, "capacity": a.model_max_length, "seed": a.seed, "packing": a.packing,
                "lora_r": a.lora_r, "max_steps": self.max_steps, **self._sharding()}

    def _sharding(self) -> dict:
        """FSDP checkpoints key the optimizer state by name: a DDP run cannot resume one (and the other way round)."""
        from .fsdp import parse_mode

        mode = parse_mode(self.args.fsdp) if self.world > 1 else set()
        return {"fsdp": " ".join(sorted(mode))} if mode else {}


def _device(args) -> torch.device:
    want_cuda = args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available())
    if want_cuda:
        if not torch.cuda.is_available():
            raise TrainInputError("invalid_flag", "--device cuda: no CUDA device is visible", flag="--device")
        local, found = int(os.environ.get("LOCAL_RANK", "0")), torch.cuda.device_count()
        if local >= found:
            need = int(os.environ.get("LOCAL_WORLD_SIZE", str(local + 1)))
            raise TrainInputError("invalid_flag", f"--nproc-per-node {need} needs {need} GPUs, found {found} "
                                  "(CUDA_VISIBLE_DEVICES limits what is visible)", flag="--nproc-per-node")
        return torch.device("cuda", local)
    return torch.device("cpu")


def _lr(step: int, plan: Plan) -> float:
    from .main import lr_factor

    return plan.args.learning_rate * lr_factor(step, plan.max_steps, plan.warmup, plan.args.lr_scheduler_type)


def _peak_memory(device: torch.device) -> dict:
    if device.type == "cuda":
        return {"peak_gpu_bytes": int(torch.cuda.max_memory_allocated(device))}
    return {"peak_rss_bytes": int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024}


def train(args, cfg: dict, dataset, emit, stop: dict) -> int:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    device = _device(args)
    attn_name, layout = attention.choose(args.attention, device, args.bf16)
    plan = Plan(args, dataset, world)
    found = checkpoint.list_checkpoints(args.output_dir) if args.resume else []
    resume_from = found[-1] if found else None
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    if device.type == "cuda":
        torch.cuda.set_device(device)
        torch.backends.cuda.matmul.allow_tf32 = True
    if world > 1:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    torch.manual_seed(args.seed)
    attention.register()
    model = load_model(args.model_name_or_path, attn_name, args).to(device)
    model.train()
    par = Parallel(PackedCausalLMLoss(model), model, device, world, rank, args)
    runner = par.runner
    params = [p for p in model.parameters() if p.requires_grad]  # after sharding: FSDP's DTensor shards
    optimizer = par.optimizer(params, args)
    start = 0
    if resume_from is not None:
        state = par.load(resume_from[1], optimizer)
        if state.get("plan") != plan.identity():
            raise TrainInputError("resume_mismatch", f"{resume_from[1]} was written for another run ({json.dumps(state.get('plan'))}); "
                                  "use a new --output-dir, or --resume false to start over", flag="--output-dir")
        start = int(state["step"])
    capacity_used = dataset.tokens / max(1, plan.rows_per_epoch * args.model_max_length)
    emit({"event": "start", "model": args.model_name_or_path, "data": args.data_path, "records": len(dataset.samples),
          "tokens": dataset.tokens, "trainable_tokens": dataset.trainable_tokens, "rows_per_epoch": plan.rows_per_epoch,
          "row_fill": round(capacity_used, 4), "steps_per_epoch": plan.steps_per_epoch, "max_steps": plan.max_steps,
          "warmup_steps": plan.warmup, "world_size": world, "parallel": par.kind(), "fsdp": par.fsdp_info, "device": str(device.type), "attention": attn_name, "layout": layout,
          "lora_r": args.lora_r, "trainable_parameters": sum(p.numel() for p in params),
          "parameters": sum(p.numel() for p in model.parameters()), "resumed_from": resume_from[1] if resume_from else None,
          "start_step": start})
    log_path = os.path.join(args.output_dir, "trainer_log.jsonl")
    os.makedirs(args.output_dir, exist_ok=True)
    autocast = (lambda: torch.autocast(device.type, dtype=torch.bfloat16)) if args.bf16 else contextlib.nullcontext

    def prepare(step: int) -> list[MicroBatch]:
        out = []
        for a in range(plan.accum):
            mb = collate(dataset, plan.micro_rows(step, a, rank), layout)
            out.append(mb.pin().to(device) if device.type == "cuda" else mb)
        return out

    pool = ThreadPoolExecutor(max_workers=1)
    pending = pool.submit(prepare, start) if start < plan.max_steps else None
    window_tokens = 0
    window_steps = 0
    window_start = time.perf_counter()
    steady_tokens, steady_time = 0, 0.0
    ema_step = None
    last_loss = float("nan")
    flags = torch.zeros(3, dtype=torch.float64, device=device)
    step = start
    interrupted = False
    while step < plan.max_steps:
        batches = pending.result()
        pending = pool.submit(prepare, step + 1) if step + 1 < plan.max_steps else None
        lr = _lr(step, plan)
        for group in optimizer.param_groups:
            group["lr"] = lr
        count = float(sum(mb.trainable for mb in batches))
        tokens = sum(mb.tokens for mb in batches)
        stopping = bool(stop["requested"])
        if world > 1:  # one small all-reduce: global target count, tokens, and whether any rank was told to stop
            flags.copy_(torch.tensor([count, tokens, 1.0 if stopping else 0.0], dtype=torch.float64))
            dist.all_reduce(flags)
            count, tokens, stopping = float(flags[0]), int(flags[1]), flags[2].item() > 0
        loss_sum = torch.zeros((), dtype=torch.float32, device=device)
        for a, mb in enumerate(batches):
            with par.sync(a == len(batches) - 1):
                with autocast():
                    loss = runner(mb.input_ids, mb.position_ids, mb.targets, mb.keep, cu_seqlens=mb.cu_seqlens,
                                  max_seqlen=mb.max_seqlen, segments=mb.segments)
                (loss * (world / count)).backward()
            loss_sum += loss.detach()
        if args.max_grad_norm > 0:
            torch.nn.utils.clip_grad_norm_(params, args.max_grad_norm)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        window_tokens += tokens
        window_steps += 1
        last = step == plan.max_steps
        if step % args.logging_steps == 0 or last or stopping:
            if world > 1:
                dist.all_reduce(loss_sum)
            last_loss = loss_sum.item() / count  # also waits for the device
            now = time.perf_counter()
            elapsed = now - window_start
            steps_in_window = window_steps
            if step > start + 1 or window_steps > 1:
                steady_tokens += window_tokens
                steady_time += elapsed
            per_step = elapsed / max(1, steps_in_window)
            ema_step = per_step if ema_step is None else 0.7 * ema_step + 0.3 * per_step
            line = {"event": "step", "step": step, "max_steps": plan.max_steps, "epoch": round(step / plan.steps_per_epoch, 4),
                    "loss": round(last_loss, 6), "lr": lr, "tokens_per_s": round(window_tokens / max(elapsed, 1e-9), 1),
                    "tokens": window_tokens, "step_time_s": round(per_step, 4),
                    "eta_s": round(ema_step * (plan.max_steps - step), 1)}
            emit(line)
            if rank == 0:
                with open(log_path, "a", encoding="utf-8") as f:
                    f.write(json.dumps(line) + "\n")
            window_tokens = 0
            window_steps = 0
            window_start = time.perf_counter()
        if stopping or (args.save_steps > 0 and step % args.save_steps == 0 and not last):
            path = _save(args, plan, par, optimizer, step)
            emit({"event": "checkpoint", "step": step, "path": path})
            if stopping:
                emit({"event": "interrupted", "step": step, "checkpoint": path})
                interrupted = True
                break
    pool.shutdown(wait=False, cancel_futures=True)
    if interrupted:
        return INTERRUPTED
    written = {}
    full = par.final_state()  # a collective under FSDP
    if rank == 0:
        written = save_final(model, args.model_name_or_path, args.output_dir, args, state_dict=full)
    if world > 1:
        dist.barrier()
    emit({"event": "done", "step": step, "loss": round(last_loss, 6), "output": written,
          "tokens_per_s": round(steady_tokens / steady_time, 1) if steady_time > 0 else None, **_peak_memory(device)})
    if world > 1:
        dist.destroy_process_group()
    return 0


def _save(args, plan: Plan, par: Parallel, optimizer, step: int) -> str:
    path = os.path.join(args.output_dir, f"checkpoint-{step}")
    trainable, optim_state = par.trainable(), par.optimizer_state(optimizer)  # collectives under FSDP
    if par.rank == 0:
        path = checkpoint.save(args.output_dir, step, trainable, optim_state,
                               {"step": step, "plan": plan.identity()}, args.save_total_limit)
    if par.world > 1:
        dist.barrier()
    return path
