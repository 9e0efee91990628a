"""Independent reference for fleetchat's style control (lmarena's method), numpy + scipy only.

Reads a FastChat battle log (JSON lines with conversation_a / conversation_b), measures each side's assistant
answers (characters; markdown headers, list items and bold spans after removing code blocks — lmarena's
count_markdown_elements), normalises the differences as lmarena does ((a - b) / (a + b), then standardised), fits
P(A wins) = sigmoid(theta_A - theta_B + beta . x) by maximum likelihood (a tie is half a win; ridge 1e-6) with
scipy's L-BFGS-B, and prints {"ratings": {model: elo}, "beta": [...]} on the Elo scale (400 / ln 10, mean 1000).

usage: python style_control_reference.py BATTLES.jsonl
"""
import json
import re
import sys

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit, log_expit


def measure(conversation):
    text = "\n".join(m["content"] for m in conversation if m.get("role") == "assistant")
    plain = re.sub(r"```[^`]*```", "", text)
    headers = len(re.findall(r"^#{1,6}\s", plain, re.MULTILINE))
    lists = len(re.findall(r"^\s*\d+\.\s", plain, re.MULTILINE)) + len(re.findall(r"^\s*[-*+]\s", plain, re.MULTILINE))
    bold = len(re.findall(r"\*\*[^*\n]+\*\*", plain)) + len(re.findall(r"__[^_\n]+__", plain))
    return np.array([len(text), headers, lists, bold], dtype=float)


def main(path):
    records = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    records = [r for r in records if r["anony"] and r["model_a"] != r["model_b"]]
    models = sorted({r["model_a"] for r in records} | {r["model_b"] for r in records})
    index = {m: i for i, m in enumerate(models)}
    a = np.array([index[r["model_a"]] for r in records])
    b = np.array([index[r["model_b"]] for r in records])
    score = np.array([{"model_a": 1.0, "model_b": 0.0}.get(r["winner"], 0.5) for r in records])
    sa = np.array([measure(r["conversation_a"]) for r in records])
    sb = np.array([measure(r["conversation_b"]) for r in records])
    total = sa + sb
    diff = np.divide(sa - sb, total, out=np.zeros_like(total), where=total != 0)
    std = diff.std(axis=0)
    x = np.divide(diff - diff.mean(axis=0), std, out=np.zeros_like(diff), where=std > 0)
    m = len(models)
    design = np.zeros((len(records), m + x.shape[1]))
    design[np.arange(len(records)), a] += 1.0
    design[np.arange(len(records)), b] -= 1.0
    design[:, m:] = x

    def loss(p):
        z = design @ p
        value = -(score * log_expit(z) + (1 - score) * log_expit(-z)).sum() + 0.5e-6 * p @ p
        grad = design.T @ (expit(z) - score) + 1e-6 * p
        return value, grad

    fit = minimize(loss, np.zeros(design.shape[1]), jac=True, method="L-BFGS-B", options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 10000})
    theta = fit.x[:m]
    elo = 400 / np.log(10) * theta + 1000
    elo += 1000 - elo.mean()
    print(json.dumps({"ratings": dict(zip(models, elo.tolist())), "beta": fit.x[m:].tolist(), "converged": bool(fit.success)}))


if __name__ == "__main__":
    main(sys.argv[1])
