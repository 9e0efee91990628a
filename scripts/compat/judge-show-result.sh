#!/usr/bin/env bash
# Compatibility check with FastChat itself (Python, outside `npm test`; needs PyPI):
#  1. fleetchat's gen-judgment and FastChat's gen_judgment.py (fschat from PyPI, with a stub for its torch
#     imports) judge test/fixtures/judge/mini-bench with the same fake judge: the judgment files must hold
#     the same records (prompts, judgments, scores, winners; timestamps aside);
#  2. FastChat's show_result.py and `fleetchat jobs show-result --json` read both files (fleetchat-written
#     and FastChat-written) in every mode: the numbers must match.
# Usage: scripts/compat/judge-show-result.sh   (FLEETCHAT_COMPAT_DIR=<dir> keeps the venv and files there)
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$(pwd)"
work="${FLEETCHAT_COMPAT_DIR:-$(mktemp -d /tmp/fleetchat-judge-compat.XXXXXX)}"
mkdir -p "$work"
venv="$work/venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --no-deps fschat==0.2.36
  "$venv/bin/pip" install -q pandas numpy tqdm
fi
py() { "$venv/bin/python" "$root/scripts/compat/judge_fastchat.py" "$@"; }
fleetchat() { node -r @swc-node/register "$root/src/cli/main.ts" "$@"; }

coproc FAKE { exec node -r @swc-node/register "$root/scripts/compat/judge-fake-judge.ts"; }
trap 'kill "$FAKE_PID" 2>/dev/null || true' EXIT
read -r base_url <&"${FAKE[0]}"
echo "fake judge at $base_url; files in $work"

strip() { sed -E 's/"tstamp": [0-9.e+-]+/"tstamp": T/' "$1" | sort; }
models=(alpha beta gpt-3.5-turbo)
failures=0
check() { # <description> <command...>
  local what="$1"; shift
  if "$@"; then echo "ok   $what"; else echo "FAIL $what"; failures=$((failures + 1)); fi
}

for mode in single pairwise-baseline pairwise-all; do
  kind=$([ "$mode" = single ] && echo single || echo pair)
  for who in fleetchat fastchat; do
    dir="$work/$mode/$who/data"
    rm -rf "$dir" && mkdir -p "$dir"
    cp -r test/fixtures/judge/mini-bench "$dir/mini_bench"
    cp src/jobs/judge/data/judge_prompts.jsonl "$dir/judge_prompts.jsonl"
  done
  fleetchat jobs gen-judgment --mode "$mode" --bench-dir "$work/$mode/fleetchat/data/mini_bench" --judge-model gpt-4 \
    --judge-base-url "$base_url" --model-list "${models[@]}" --log-level warn >/dev/null
  py gen "$work/$mode/fastchat" "$base_url" "$mode" "${models[@]}" >/dev/null
  ours="$work/$mode/fleetchat/data/mini_bench/model_judgment/gpt-4_$kind.jsonl"
  theirs="$work/$mode/fastchat/data/mini_bench/model_judgment/gpt-4_$kind.jsonl"
  check "$mode: fleetchat and FastChat write the same judgments" py same-judgments "$ours" "$theirs"
  check "$mode: ... byte for byte, timestamps aside" diff -q <(strip "$ours") <(strip "$theirs")

  lists=("")
  [ "$mode" != single ] || lists+=("alpha beta")
  [ "$mode" != pairwise-all ] || lists+=("beta")
  for file in "$ours" "$theirs"; do
    for list in "${lists[@]}"; do
      args=(--mode "$mode" --input-file "$file")
      [ -z "$list" ] || args+=(--model-list $list)
      fleetchat jobs show-result "${args[@]}" --question-file test/fixtures/judge/mini-bench/question.jsonl --json --log-level warn >"$work/ours.json"
      py show "$mode" "$file" ${list:+--model-list $list} >"$work/theirs.json"
      check "$mode show-result on $(basename "$(dirname "$(dirname "$(dirname "$(dirname "$file")")")")")-written file${list:+ --model-list $list}" \
        py same-numbers "$work/ours.json" "$work/theirs.json"
    done
  done
done

if [ "$failures" -gt 0 ]; then echo "$failures check(s) failed"; exit 1; fi
echo "all checks passed"
