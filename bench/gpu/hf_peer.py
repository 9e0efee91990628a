"""The peer of `npm run bench:gpu`: Hugging Face transformers `generate` (the engine behind FastChat's model_worker)
on the same GPU, the same model (built from our config.json + model.safetensors), the same prompts and lengths.

  python3 hf_peer.py '{"model": DIR, "dtype": "float32", "batches": [1, 8], "promptLen": 64, "newTokens": 128}'

Prints two JSON lines per batch size (mode "generate", then mode "loop"): ttft_ms, prefill_tok_s, decode_tok_s, tokens
(row 0). "loop" is the model's own forward pass in a greedy loop over its KV cache, as FastChat's generate_stream
drives it (no generate() machinery) — the faster of the two is the peer's figure.
TF32 is off (as for fleetchat: NVIDIA_TF32_OVERRIDE=0 and torch's own switches).
"""
import json
import os
import sys
import time

os.environ.setdefault("NVIDIA_TF32_OVERRIDE", "0")
import torch  # noqa: E402
from transformers import AutoModelForCausalLM  # noqa: E402


def prompt_ids(row, length, vocab):
    return [256 + ((row * 7919 + i * 104729) % min(vocab - 512, 40000)) for i in range(length)]


def timed_generate(model, ids, new_tokens):
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    out = model.generate(
        input_ids=ids,
        attention_mask=torch.ones_like(ids),
        max_new_tokens=new_tokens,
        # No EOS: every row generates new_tokens, as fleetchat's ignore_eos. (min_new_tokens would do the same but
        # costs ~30 ms a step in bf16/fp16 on an H100 — measured — which is the processor's cost, not generate's.)
        eos_token_id=None,
        do_sample=False,
        pad_token_id=0,
    )
    torch.cuda.synchronize()
    return time.perf_counter() - t0, out


def timed_loop(model, ids, new_tokens):
    """Greedy decoding as FastChat's generate_stream does it: one forward pass per token over the model's cache."""
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    out = model(input_ids=ids, use_cache=True)
    past = out.past_key_values
    token = out.logits[:, -1, :].argmax(dim=-1, keepdim=True)
    tokens = [token]
    for _ in range(new_tokens - 1):
        out = model(input_ids=token, past_key_values=past, use_cache=True)
        past = out.past_key_values
        token = out.logits[:, -1, :].argmax(dim=-1, keepdim=True)
        tokens.append(token)
    generated = torch.cat(tokens, dim=1)
    torch.cuda.synchronize()
    return time.perf_counter() - t0, generated


def main():
    args = json.loads(sys.argv[1])
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    dtype = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}[args["dtype"]]
    model = AutoModelForCausalLM.from_pretrained(args["model"], dtype=dtype, attn_implementation="sdpa").to("cuda").eval()
    # Tied embeddings (SmolLM2): model.safetensors has no lm_head.weight; the head must be the embedding itself,
    # whatever this transformers version does with the missing key.
    tied = bool(getattr(model.config, "tie_word_embeddings", False))
    embed = model.get_input_embeddings().weight
    if tied and model.lm_head.weight.data_ptr() != embed.data_ptr():
        model.lm_head.weight = embed
    vocab = model.config.vocab_size
    print(json.dumps({"kind": "info", "gpu": torch.cuda.get_device_name(0), "torch": torch.__version__, "dtype": args["dtype"], "tied_embeddings": tied}), flush=True)
    length, new_tokens = args["promptLen"], args["newTokens"]
    with torch.inference_mode():
        for batch in args["batches"]:
            ids = torch.tensor([prompt_ids(r, length, vocab) for r in range(batch)], device="cuda")
            timed_generate(model, ids, 4)  # warm-up at this batch size
            ttft, _ = timed_generate(model, ids, 1)
            total, out = timed_generate(model, ids, new_tokens)
            report("generate", batch, length, new_tokens, ttft, total, out[0, length:].tolist())
            timed_loop(model, ids, 4)  # warm-up
            ttft, _ = timed_loop(model, ids, 1)
            total, out = timed_loop(model, ids, new_tokens)
            report("loop", batch, length, new_tokens, ttft, total, out[0].tolist())


def report(mode, batch, length, new_tokens, ttft, total, row0):
    decode_s = max(total - ttft, 1e-9)
    print(json.dumps({
        "kind": "result", "mode": mode, "batch": batch, "promptLen": length, "newTokens": new_tokens,
        "ttft_ms": ttft * 1000, "prefill_tok_s": batch * length / ttft,
        "decode_tok_s": batch * (new_tokens - 1) / decode_s,
        "tokens": [row0],
    }), flush=True)


if __name__ == "__main__":
    main()
