"""A random-weight model for bench:train from a config.json (+ tokenizer files) directory: transformers' own
initialisation, seeded, saved as model.safetensors next to them (the GPU machine gets 2 KB of config, not 540 MB)."""
import sys

import torch
import transformers

src, out = sys.argv[1], sys.argv[2]
torch.manual_seed(0)
config = transformers.AutoConfig.from_pretrained(src)
model = transformers.AutoModelForCausalLM.from_config(config)
model.save_pretrained(out, safe_serialization=True)
transformers.AutoTokenizer.from_pretrained(src).save_pretrained(out)
print(sum(p.numel() for p in model.parameters()))
