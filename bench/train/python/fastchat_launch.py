"""Runs FastChat's own trainer, fastchat/train/train.py (fschat 0.2.36), unchanged but for what the benchmark needs:
  - the per-step timer of bench_timing.py;
  - the tokenizer is loaded fast (our model directories carry tokenizer.json, not a slow tokenizer's files) and given
    `legacy = False` when it lacks the attribute (FastChat's preprocess reads it; GPT-2-style tokenizers have none);
  - the final save is skipped (trainer_save_model_safe raises KeyError: None when the model is not FSDP-wrapped).
Arguments are train.py's own (--model_name_or_path, --data_path, --model_max_length, ...)."""
import transformers

import bench_timing

bench_timing.install("fastchat")

_from_pretrained = transformers.AutoTokenizer.from_pretrained


def _tokenizer(*args, **kwargs):
    kwargs["use_fast"] = True
    tok = _from_pretrained(*args, **kwargs)
    if not hasattr(tok, "legacy"):
        tok.legacy = False
    return tok


transformers.AutoTokenizer.from_pretrained = _tokenizer

import fastchat.train.train as fastchat_train  # noqa: E402

fastchat_train.trainer_save_model_safe = lambda trainer: None

if __name__ == "__main__":
    fastchat_train.train()
