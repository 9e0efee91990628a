"""fleetchat's trainer: supervised fine-tuning of LLaMA-family models on prepare-sft JSONL, samples packed with
attention kept inside each sample. Run as `python -m fleetchat_train ...` (torchrun for several processes)."""
