"""FastChat's own llm_judge code (fschat from PyPI) for scripts/compat/judge-show-result.sh.

  gen  <data-dir> <base-url> <mode> <models...>   run FastChat's gen_judgment.py against the fake judge
  show <mode> <input-file> [--model-list ...]     run FastChat's show_result.py, print its numbers as JSON
  same-numbers <ours.json> <fastchat.json>        exit 1 unless both give the same numbers per model
  same-judgments <ours.jsonl> <fastchat.jsonl>    exit 1 unless both files hold the same judgments (tstamp aside)

fastchat.model.model_adapter imports torch; only get_conversation_template is needed, so a stub
module provides it from FastChat's real conversation templates. openai/anthropic are stubbed too:
the judge is called over HTTP by a replacement of chat_completion_openai with FastChat's messages.
"""
import json
import math
import os
import runpy
import sys
import types
import urllib.request


def install_stubs():
    from fastchat.conversation import get_conv_template

    adapter = types.ModuleType("fastchat.model.model_adapter")
    adapter.OPENAI_MODEL_LIST = ("gpt-3.5-turbo", "gpt-4")
    adapter.ANTHROPIC_MODEL_LIST = ()
    adapter.get_conversation_template = lambda model: get_conv_template("chatgpt")
    sys.modules["fastchat.model.model_adapter"] = adapter
    for name in ("openai", "anthropic"):
        sys.modules.setdefault(name, types.ModuleType(name))


def gen(data_dir, base_url, mode, models):
    install_stubs()
    import fastchat.llm_judge.common as common

    def chat_completion_openai(model, conv, temperature, max_tokens, api_dict=None):
        body = json.dumps({"model": model, "messages": conv.to_openai_api_messages(), "n": 1,
                           "temperature": temperature, "max_tokens": max_tokens}).encode()
        req = urllib.request.Request(base_url + "/chat/completions", body, {"content-type": "application/json"})
        with urllib.request.urlopen(req) as resp:
            return json.load(resp)["choices"][0]["message"]["content"]

    common.chat_completion_openai = chat_completion_openai
    os.chdir(data_dir)
    sys.argv = ["gen_judgment.py", "--bench-name", "mini_bench", "--judge-model", "gpt-4", "--mode", mode,
                "--model-list", *models]
    sys.stdin = open(os.devnull)  # gen_judgment asks "Press Enter to confirm..."
    import builtins
    builtins.input = lambda *_: ""
    runpy.run_module("fastchat.llm_judge.gen_judgment", run_name="__main__")


def show(mode, input_file, model_list):
    captured = []
    argv = ["--mode", mode, "--input-file", input_file]
    if model_list:
        argv += ["--model-list", *model_list]
    sys.argv = ["show_result.py", *argv]
    runpy.run_module("fastchat.llm_judge.show_result", run_name="__main__", init_globals={"print": lambda *a: captured.extend(a)})
    frames = [c for c in captured if hasattr(c, "to_dict")]
    if mode == "single":
        turn1, turn2, average = frames
        rows = {}
        for (model, _turn), score in turn1["score"].items():
            rows.setdefault(model, {"model": model})["turn1"] = score
        for (model, _turn), score in turn2["score"].items():
            rows.setdefault(model, {"model": model})["turn2"] = score
        for model, score in average["score"].items():
            rows.setdefault(model, {"model": model})["average"] = score
        models = list(rows.values())
    else:
        (table,) = frames
        models = [{"model": m, **{k: float(v) for k, v in row.items()}} for m, row in table.to_dict("index").items()]
    print(json.dumps({"mode": mode, "models": models}))


def same_numbers(ours_file, theirs_file):
    ours = {m["model"]: m for m in json.load(open(ours_file))["models"]}
    theirs = {m["model"]: m for m in json.load(open(theirs_file))["models"]}
    problems = [] if ours.keys() == theirs.keys() else [f"models differ: {sorted(ours)} vs {sorted(theirs)}"]
    for model in ours.keys() & theirs.keys():
        for key, value in theirs[model].items():
            mine = ours[model].get(key)
            if key == "model" or (mine is None and value is None):
                continue
            if mine is None or value is None or not math.isclose(mine, value, rel_tol=1e-12, abs_tol=1e-12):
                problems.append(f"{model} {key}: fleetchat {mine} vs FastChat {value}")
    for p in problems:
        print("  MISMATCH", p)
    sys.exit(1 if problems else 0)


def same_judgments(ours_file, theirs_file):
    def load(path):
        out = {}
        for line in open(path):
            obj = json.loads(line)
            obj.pop("tstamp")
            key = json.dumps([obj["question_id"], obj.get("model"), obj.get("model_1"), obj.get("model_2"), obj["turn"], obj["judge"]])
            out[key] = obj
        return out

    ours, theirs = load(ours_file), load(theirs_file)
    problems = [] if ours.keys() == theirs.keys() else [f"keys differ: {len(ours)} vs {len(theirs)}"]
    problems += [f"{k}: fields differ" for k in ours.keys() & theirs.keys() if ours[k] != theirs[k]]
    for p in problems[:10]:
        print("  MISMATCH", p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    if command == "gen":
        gen(args[0], args[1], args[2], args[3:])
    elif command == "show":
        show(args[0], args[1], args[3:] if len(args) > 2 and args[2] == "--model-list" else [])
    elif command == "same-numbers":
        same_numbers(args[0], args[1])
    elif command == "same-judgments":
        same_judgments(args[0], args[1])
    else:
        sys.exit(f"unknown command {command}")
