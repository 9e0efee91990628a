"""Document masking check for the trainer: the loss of samples packed into rows (block-diagonal mask, SDPA and eager)
and flattened with cu_seqlens (each sample attended alone) equals the loss of every sample run on its own through
plain transformers. Prints one JSON object. Runs in the trainer's venv with PYTHONPATH=src/jobs/train/python.

  python scripts/compat/packing_check.py MODEL_DIR SFT.jsonl MAX_LENGTH
"""
import json
import sys

import torch
import torch.nn.functional as F
from fleetchat_train import attention
from fleetchat_train.data import load_dataset, epoch_rows
from fleetchat_train.batch import collate
from fleetchat_train.loss import PackedCausalLMLoss
from transformers import AutoModelForCausalLM, AttentionInterface

def flat_ref(module, q, k, v, mask, scaling=None, dropout=0.0, **kw):
    cu = kw["fc_cu_seqlens"].tolist(); outs=[]
    for a,b in zip(cu[:-1], cu[1:]):
        outs.append(F.scaled_dot_product_attention(q[:,:,a:b], k[:,:,a:b], v[:,:,a:b], is_causal=True, scale=scaling, enable_gqa=True))
    return torch.cat(outs, 2).transpose(1,2).contiguous(), None
attention.register()
AttentionInterface.register("flatref", flat_ref)
model_dir, data, max_length = sys.argv[1], sys.argv[2], int(sys.argv[3])
vocab = json.load(open(f"{model_dir}/config.json"))["vocab_size"]
ds = load_dataset(data, vocab_size=vocab, max_length=max_length)
rows = epoch_rows(ds, max_length, 42, 0, True)[:3]
res = {}
for name, layout in [("fleetchat_masked","rows"),("fleetchat_masked_eager","rows"),("flatref","flat")]:
    m = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32, attn_implementation=name)
    mb = collate(ds, rows, layout)
    loss = PackedCausalLMLoss(m)(mb.input_ids, mb.position_ids, mb.targets, mb.keep, cu_seqlens=mb.cu_seqlens, max_seqlen=mb.max_seqlen, segments=mb.segments)
    res[name] = loss.item()/mb.trainable
# reference: each sample alone through plain HF
m = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32, attn_implementation="eager")
tot=0; cnt=0
for row in rows:
    for i in row:
        s = ds.samples[i]; ids=torch.tensor(s.input_ids)[None]
        logits = m(input_ids=ids).logits[0].float()
        t = torch.tensor(s.targets); keep = t!=-100
        tot += F.cross_entropy(logits[keep], t[keep], reduction='sum').item(); cnt += int(keep.sum())
res["alone"] = tot/cnt
res["samples"] = sum(len(r) for r in rows)
print(json.dumps(res))
