"""Intent accuracy of Samvad's NLU on a held-out split, per language (mr, en, romanized).

Holds out a fraction of every intent's examples in each of ``data/nlu/{mr,en,romanized}.yml``,
trains an NLU-only model on the rest with the project's ``config.yml`` (Rasa env), and predicts
the held-out examples plus a fixed set of unseen city questions and gibberish. Prints, per
language:

- intent accuracy: the predicted intent is the labelled one;
- routing accuracy: the message reaches the right action — for a city question both
  ``ask_question`` and ``nlu_fallback`` go to ``action_answer``;
- the mistakes.

    .venv/bin/python bench/intent_accuracy.py [--seeds 17 18 19] [--test-fraction 0.2]

Takes about 1.5 minutes per seed on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
RASA_ENV = ROOT / ".venv-rasa" / "bin"
LANGUAGE_FILES = {"mr": "mr.yml", "en": "en.yml", "romanized": "romanized.yml"}
ANSWER_INTENTS = frozenset({"ask_question", "nlu_fallback"})  # both run action_answer

# City questions worded unlike any training example, and input that is not a question at all.
UNSEEN_CITY_QUESTIONS = {
    "mr": [
        "घंटागाडी आमच्या सोसायटीत येत नाही",
        "कोलशेतमधील नवीन उद्यान कधी सुरू होईल?",
        "पावसाळ्यापूर्वी नालेसफाई झाली का?",
        "ठाण्यात किती सार्वजनिक शौचालये आहेत?",
        "पाळीव कुत्र्याचा परवाना कुठे मिळतो?",
        "जपानी मंत्रालयाचे उपमंत्री कोण होते?",
    ],
    "en": [
        "Is the Kalwa bridge closed for repairs?",
        "where can I get a licence for my pet dog?",
        "has the nullah cleaning finished before the monsoon?",
        "how many public toilets are there in Thane?",
        "what did the Japanese deputy minister sign?",
        "my society's sewage line is blocked",
    ],
    "romanized": [
        "ghantagadi amchya society madhe yet nahi",
        "kolshet madhe navin udyan kadhi suru honar?",
        "pavsalyapurvi nalesafai zali ka?",
        "thanyat kiti sarvajanik shauchalay aahet?",
        "palivas kutryacha parvana kuthe milto?",
        "japanchya upmantryanche nav kay?",
    ],
}
GIBBERISH = ["asdfgh qwerty", "zzzz", "ककक खखख", "12345 ???"]

_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")

PREDICT = r"""
import asyncio, json, logging, sys
logging.disable(logging.WARNING)
from rasa.core.agent import Agent
texts = json.load(sys.stdin)
agent = Agent.load(sys.argv[1])
async def main():
    out = []
    for text in texts:
        parsed = await agent.parse_message(text)
        intent = parsed["intent"]
        out.append({"intent": intent["name"], "confidence": intent["confidence"]})
    return out
print("@@" + json.dumps(asyncio.run(main())))
"""


@dataclass(frozen=True)
class Example:
    language: str
    intent: str
    text: str


def plain(example: str) -> str:
    """The example as a citizen types it: entity annotations removed."""
    return _ANNOTATION.sub(r"\1", example).strip()


def load_examples(nlu_dir: Path) -> dict[str, dict[str, list[str]]]:
    """language → intent → raw example lines (annotations kept)."""
    found: dict[str, dict[str, list[str]]] = {}
    for language, name in LANGUAGE_FILES.items():
        document = yaml.safe_load((nlu_dir / name).read_text(encoding="utf-8"))
        per_intent: dict[str, list[str]] = {}
        for block in document["nlu"]:
            lines = [ln.strip()[2:] for ln in block["examples"].splitlines() if ln.strip()]
            per_intent[block["intent"]] = lines
        found[language] = per_intent
    return found


def split(
    examples: dict[str, dict[str, list[str]]], fraction: float, seed: int
) -> tuple[dict[str, dict[str, list[str]]], list[Example]]:
    """Hold out ``fraction`` of each (language, intent), at least one example."""
    rng = random.Random(seed)
    train: dict[str, dict[str, list[str]]] = {}
    test: list[Example] = []
    for language, per_intent in examples.items():
        train[language] = {}
        for intent, lines in per_intent.items():
            shuffled = lines[:]
            rng.shuffle(shuffled)
            n_test = max(1, round(len(lines) * fraction))
            test += [Example(language, intent, plain(t)) for t in shuffled[:n_test]]
            train[language][intent] = shuffled[n_test:]
    return train, test


def write_nlu(train: dict[str, dict[str, list[str]]], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for language, per_intent in train.items():
        blocks = [
            f"  - intent: {intent}\n    examples: |\n"
            + "".join(f"      - {line}\n" for line in lines)
            for intent, lines in per_intent.items()
        ]
        text = 'version: "3.1"\nnlu:\n' + "\n".join(blocks)
        (folder / LANGUAGE_FILES[language]).write_text(text, encoding="utf-8")


def train_nlu(data: Path, out: Path) -> Path:
    subprocess.run(
        [
            str(RASA_ENV / "rasa"),
            "train",
            "nlu",
            "--config",
            str(ROOT / "config.yml"),
            "--nlu",
            str(data),
            "--out",
            str(out),
            "--fixed-model-name",
            "heldout",
            "--quiet",
        ],
        cwd=out,
        check=True,
        capture_output=True,
    )
    return out / "heldout.tar.gz"


def predict(model: Path, texts: list[str]) -> list[dict[str, Any]]:
    result = subprocess.run(
        [str(RASA_ENV / "python"), "-c", PREDICT, str(model)],
        input=json.dumps(texts),
        text=True,
        capture_output=True,
        check=True,
    )
    line = next(ln for ln in result.stdout.splitlines() if ln.startswith("@@"))
    predictions: list[dict[str, Any]] = json.loads(line[2:])
    return predictions


def routed(gold: str, predicted: str) -> bool:
    return predicted == gold or (gold in ANSWER_INTENTS and predicted in ANSWER_INTENTS)


def evaluate(seed: int, fraction: float) -> dict[str, dict[str, Any]]:
    """Train on one split and score it; returns per-language figures and mistakes."""
    train, test = split(load_examples(ROOT / "data" / "nlu"), fraction, seed)
    extra = [
        Example(lang, "ask_question", text)
        for lang, questions in UNSEEN_CITY_QUESTIONS.items()
        for text in questions
    ]
    with tempfile.TemporaryDirectory(prefix="samvad-nlu-") as tmp:
        write_nlu(train, Path(tmp) / "nlu")
        model = train_nlu(Path(tmp) / "nlu", Path(tmp))
        cases = test + extra
        predictions = predict(model, [c.text for c in cases] + GIBBERISH)
    results: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"n": 0, "correct": 0, "routed": 0, "unseen": 0, "unseen_routed": 0, "errors": []}
    )
    for case, prediction in zip(cases, predictions[: len(cases)], strict=True):
        row = results[case.language]
        intent = prediction["intent"]
        if case in extra:
            row["unseen"] += 1
            row["unseen_routed"] += routed("ask_question", intent)
            if not routed("ask_question", intent):
                row["errors"].append((case.text, "ask_question", intent, prediction["confidence"]))
            continue
        row["n"] += 1
        row["correct"] += intent == case.intent
        row["routed"] += routed(case.intent, intent)
        if intent != case.intent:
            row["errors"].append((case.text, case.intent, intent, prediction["confidence"]))
    gibberish = results["gibberish"]
    for text, prediction in zip(GIBBERISH, predictions[len(cases) :], strict=True):
        gibberish["n"] += 1
        gibberish["errors"].append((text, "-", prediction["intent"], prediction["confidence"]))
    return dict(results)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[17], help="split seeds")
    parser.add_argument("--test-fraction", type=float, default=0.2, help="held-out share (0.2)")
    args = parser.parse_args(argv)
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for seed in args.seeds:
        print(f"seed {seed}: training on {1 - args.test_fraction:.0%} of data/nlu …", flush=True)
        results = evaluate(seed, args.test_fraction)
        for language in (*LANGUAGE_FILES, "gibberish"):
            row = results.get(language)
            if row is None:
                continue
            for text, gold, predicted, confidence in row["errors"]:
                print(f"  [{language}] {text!r}: {gold} → {predicted} ({confidence:.2f})")
            total = totals[language]
            for i, key in enumerate(("n", "correct", "routed", "unseen", "unseen_routed")):
                total[i] += row[key]
    print()
    header = ("language", "held-out", "intent acc", "routing acc", "unseen city→answer")
    print(f"{header[0]:<10} {header[1]:>8} {header[2]:>10} {header[3]:>11} {header[4]:>19}")
    for language in LANGUAGE_FILES:
        n, correct, routed_ok, unseen, unseen_ok = totals[language]
        print(
            f"{language:<10} {n:>8} {correct / n:>10.3f} {routed_ok / n:>11.3f} "
            f"{f'{unseen_ok}/{unseen}':>19}"
        )
    n, correct, routed_ok = (sum(totals[lang][i] for lang in LANGUAGE_FILES) for i in range(3))
    print(f"{'all':<10} {n:>8} {correct / n:>10.3f} {routed_ok / n:>11.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
