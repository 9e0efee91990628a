"""The naive packed baseline of bench:train: a plain transformers Trainer on the same prepare-sft tokens as
fleetchat's trainer, concatenated into rows of --model-max-length tokens (a sample may straddle two rows) with
ordinary causal attention — so a conversation attends to the ones packed before it. No padding, no document
masking: the upper bound a packed Trainer reaches without keeping samples apart.

  python naive_packed.py MODEL_DIR DATA.jsonl --model-max-length 2048 --batch 8 --max-steps 20 [--bf16] [--cpu]
"""
import argparse
import json

import torch
import transformers

import bench_timing


class Rows(torch.utils.data.Dataset):
    def __init__(self, path: str, width: int):
        ids, labels = [], []
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    r = json.loads(line)
                    ids.extend(r["input_ids"])
                    labels.extend(r["labels"])
        n = len(ids) // width
        self.ids = torch.tensor(ids[: n * width]).view(n, width)
        self.labels = torch.tensor(labels[: n * width]).view(n, width)

    def __len__(self):
        return self.ids.shape[0]

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "labels": self.labels[i]}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("data")
    p.add_argument("--model-max-length", type=int, default=2048)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--max-steps", type=int, default=20)
    p.add_argument("--bf16", action="store_true")
    p.add_argument("--cpu", action="store_true")
    p.add_argument("--output-dir", default="/tmp/naive-packed")
    a = p.parse_args()
    bench_timing.install("naive_packed")
    model = transformers.AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.float32, attn_implementation="sdpa")
    model.config.use_cache = False
    args = transformers.TrainingArguments(output_dir=a.output_dir, per_device_train_batch_size=a.batch, max_steps=a.max_steps,
                                          learning_rate=2e-5, bf16=a.bf16, use_cpu=a.cpu, save_strategy="no", report_to=[],
                                          logging_steps=1, dataloader_num_workers=0, disable_tqdm=True)
    transformers.Trainer(model=model, args=args, train_dataset=Rows(a.data, a.model_max_length)).train()


if __name__ == "__main__":
    main()
