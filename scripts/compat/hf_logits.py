"""Reference logits and greedy tokens of a Hugging Face checkpoint (or a LoRA adapter on its base, unmerged, through
peft) with PyTorch, for the import-hf checks. Runs in the trainer's venv (scripts/install-train-runtime).

  python scripts/compat/hf_logits.py MODEL_DIR [--lora-base BASE] --prompts '[[1,2,3],[4,5]]' --greedy 8
prints one JSON object: {"logits": [[[...vocab] per position] per prompt], "greedy": [[ids] per prompt]}
"""
import argparse
import json
import os

import torch
from transformers import AutoModelForCausalLM


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("--lora-base", default=None)
    p.add_argument("--prompts", required=True)
    p.add_argument("--greedy", type=int, default=8)
    a = p.parse_args()
    torch.manual_seed(0)
    if os.path.isfile(os.path.join(a.model, "adapter_config.json")):
        from peft import PeftModel

        base = AutoModelForCausalLM.from_pretrained(a.lora_base, dtype=torch.float32, attn_implementation="eager")
        model = PeftModel.from_pretrained(base, a.model)
    else:
        model = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.float32, attn_implementation="eager")
    model.eval()
    out = {"logits": [], "greedy": []}
    with torch.no_grad():
        for prompt in json.loads(a.prompts):
            ids = torch.tensor([prompt], dtype=torch.long)
            out["logits"].append(model(input_ids=ids).logits[0].tolist())
            seq = list(prompt)
            for _ in range(a.greedy):
                logits = model(input_ids=torch.tensor([seq], dtype=torch.long)).logits[0, -1]
                seq.append(int(torch.argmax(logits)))
            out["greedy"].append(seq[len(prompt):])
    print(json.dumps(out))


if __name__ == "__main__":
    main()
