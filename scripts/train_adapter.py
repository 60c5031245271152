"""Train the e5-small LoRA adapter for Marathi ↔ English and romanized Marathi (issue 12, item 4).

Data recipe (everything MIT, read in place from ``../shared/data/mahmls-questions``): the
Maharashtra legislature's 2014 and 2020 questions, which exist in English and Marathi row for
row. The 2021 rows are never read here: ``bench/crosslingual.py``, ``bench/adapter.py`` and
``bench/abstention.py`` report on them. Each training example pairs a question with the
passage that answers it, one of five kinds, chosen at random (seeded) per row:

1. the English title → the Marathi title and answer (English question, Marathi article);
2. the Marathi title typed in Latin letters (:func:`samvad.romanizer.romanize`) → the same;
3. the Marathi title → the English title and answer (the reverse);
4. the Marathi title → the Marathi answer alone (same language);
5. one Marathi sentence of the answer, romanized → that sentence in Devanagari.

A batch holds distinct rows, so its other passages are true negatives; the loss is the
in-batch contrastive one e5 was trained with, plus an anchor: how far the batch's passages and
its questions written in Devanagari drift from where the plain model puts them (weight
``ANCHOR``). Of the three recipes measured (``bench/adapter.py``), this one costs the least:
without the anchor, MahaSQuAD fell by 0.144 R@1; with it, by 0.042; with kinds 3 and 4 left out
and the rows' Marathi titles anchored at weight 40, by 0.050. LoRA (PEFT) on every attention
and feed-forward matrix, rank 8; the model runs under bfloat16 autocast on a CPU that has it,
in eval mode (no dropout). The factors are written with :func:`samvad.adapter.save_adapter` to
``samvad/adapters/`` with the seed, steps and recipe in the file's header. 200 seeded 2020 rows
are left out of training and only printed as a check (R@1 before and after).

    .venv/bin/python scripts/train_adapter.py [--steps 300] [--batch 32] [--seed 20261202]

Needs ``peft`` (requirements/dev.txt); about 20 minutes on two cores.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import cast

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import mahmls_rows  # noqa: E402
from samvad.adapter import ADAPTERS_DIR, peft_factors, save_adapter  # noqa: E402
from samvad.chunking import split_sentences  # noqa: E402
from samvad.romanizer import romanize  # noqa: E402
from samvad.settings import SHIPPED_ADAPTER  # noqa: E402

ADAPTER_FILE = ADAPTERS_DIR / f"{SHIPPED_ADAPTER}.safetensors"
YEARS = (2014, 2020)
CHECK_ROWS = 200
TARGETS = ["query", "key", "value", "dense"]
RANK, ALPHA = 8, 16
SCALE = 50.0  # 1 / temperature of the contrastive loss
QUERY_TOKENS, PASSAGE_TOKENS = 48, 128
ANCHOR = 20.0  # weight of the drift of passages and Devanagari questions from the plain model
_DEVANAGARI = re.compile("[\u0900-\u097f]")


@dataclass(frozen=True)
class Row:
    """One legislature question in both languages."""

    en_title: str
    en_answer: str
    mr_title: str
    mr_answer: str


def read_rows() -> list[Row]:
    """The aligned 2014 and 2020 rows with both titles and a Marathi answer, one per title."""
    rows: list[Row] = []
    seen: set[str] = set()
    for year in YEARS:
        for en, mr in zip(mahmls_rows(year, "en"), mahmls_rows(year, "mr"), strict=True):
            row = Row(en["title"].strip(), en["answer"].strip(), mr["शीर्षक"].strip(),
                      mr["उत्तर"].strip())  # fmt: skip
            if not row.en_title or not row.mr_title or len(row.mr_answer) < 40:
                continue
            if row.en_title in seen or row.mr_title in seen:
                continue
            seen.update((row.en_title, row.mr_title))
            rows.append(row)
    return rows


def example(row: Row, rng: random.Random) -> tuple[str, str]:
    """One (question, passage) pair of a kind chosen at random (see the module's recipe)."""
    kind = rng.randrange(5)
    marathi = f"{row.mr_title}\n{row.mr_answer}"
    if kind == 0:
        return row.en_title, marathi
    if kind == 1:
        return romanize(row.mr_title, rng), marathi
    if kind == 2 and row.en_answer:
        return row.mr_title, f"{row.en_title}\n{row.en_answer}"
    if kind == 4:
        sentences = [s for s in split_sentences(row.mr_answer) if 20 <= len(s) <= 200]
        if sentences:
            sentence = rng.choice(sentences)
            return romanize(sentence, rng), sentence
    return row.mr_title, row.mr_answer


def main() -> None:
    """Train and write the adapter."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--seed", type=int, default=20261202)
    parser.add_argument("--out", type=Path, default=ADAPTER_FILE)
    args = parser.parse_args()

    import torch
    from peft import LoraConfig, get_peft_model
    from sentence_transformers import SentenceTransformer
    from tqdm import tqdm  # type: ignore[import-untyped]

    from samvad.model import model_fingerprint, provision_model
    from samvad.precision import choose_precision
    from samvad.settings import Settings

    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    rows = read_rows()
    rng.shuffle(rows)
    check_rows, train = rows[:CHECK_ROWS], rows[CHECK_ROWS:]
    plain = replace(Settings.from_env(), model_adapter="none")  # train on the plain model
    base_path = provision_model(plain, show_progress=False).path
    model = SentenceTransformer(str(base_path), device="cpu", local_files_only=True)
    tokenizer = model.tokenizer
    bf16 = choose_precision("auto") == "bfloat16"
    encoder = get_peft_model(
        cast(torch.nn.Module, model[0].auto_model),
        LoraConfig(r=RANK, lora_alpha=ALPHA, target_modules=TARGETS, lora_dropout=0.05),
    )

    def embed(texts: list[str], prompt: str, tokens: int) -> torch.Tensor:
        batch = tokenizer([prompt + t for t in texts], padding=True, truncation=True,
                          max_length=tokens, return_tensors="pt")  # fmt: skip
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            states = encoder(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(states.dtype)
        pooled = (states * mask).sum(1) / mask.sum(1)
        return torch.nn.functional.normalize(pooled.float(), dim=-1)

    def embed_all(texts: list[str], prompt: str, tokens: int) -> torch.Tensor:
        with torch.no_grad():
            return torch.cat(
                [embed(texts[i : i + 32], prompt, tokens) for i in range(0, len(texts), 32)]
            )

    def check() -> dict[str, float]:
        """R@1 on the left-out rows: English title → Marathi document (what is trained for)
        and Marathi title → Marathi answer (what must not be lost)."""
        documents = embed_all([f"{r.mr_title}\n{r.mr_answer}" for r in check_rows], "passage: ",
                              PASSAGE_TOKENS)  # fmt: skip
        answers = embed_all([r.mr_answer for r in check_rows], "passage: ", PASSAGE_TOKENS)
        figures = {}
        for name, questions, targets in (
            ("en title → mr document", [r.en_title for r in check_rows], documents),
            ("mr title → mr answer", [r.mr_title for r in check_rows], answers),
        ):
            best = (embed_all(questions, "query: ", QUERY_TOKENS) @ targets.T).argmax(1)
            figures[name] = float((best == torch.arange(len(check_rows))).float().mean())
        return figures

    encoder.eval()  # no dropout: the anchor below compares like with like
    before = check()
    trainable = [p for p in encoder.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=args.lr, weight_decay=0.0)
    warmup = max(1, args.steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda s: min((s + 1) / warmup, max(0.0, (args.steps - s) / (args.steps - warmup))),
    )
    order: list[int] = []
    started = time.perf_counter()
    losses: list[float] = []
    for _ in tqdm(range(args.steps), desc="training", unit="step"):
        if len(order) < args.batch:
            order = list(range(len(train)))
            rng.shuffle(order)
        picked, order = order[: args.batch], order[args.batch :]
        pairs = [example(train[i], rng) for i in picked]
        questions = embed([q for q, _ in pairs], "query: ", QUERY_TOKENS)
        passages = embed([p for _, p in pairs], "passage: ", PASSAGE_TOKENS)
        logits = SCALE * questions @ passages.T
        loss = torch.nn.functional.cross_entropy(logits, torch.arange(len(pairs)))
        # The anchor: passages, and questions in Devanagari, stay where the plain model puts
        # them, so what it misplaces (Marathi in Latin letters, English asked of Marathi)
        # moves most.
        with torch.no_grad(), encoder.disable_adapter():
            plain_passages = embed([p for _, p in pairs], "passage: ", PASSAGE_TOKENS)
            devanagari = [n for n, (q, _) in enumerate(pairs) if _DEVANAGARI.search(q)]
            plain_questions = embed([pairs[n][0] for n in devanagari], "query: ", QUERY_TOKENS)
        drift = 1 - (passages * plain_passages).sum(-1)
        if devanagari:
            drift = torch.cat([drift, 1 - (questions[devanagari] * plain_questions).sum(-1)])
        loss = loss + ANCHOR * drift.mean()
        loss.backward()  # type: ignore[no-untyped-call]
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    after = check()

    factors = peft_factors(encoder)
    info = {
        "base_fingerprint": model_fingerprint(base_path),
        "seed": str(args.seed),
        "steps": str(args.steps),
        "batch": str(args.batch),
        "lr": str(args.lr),
        "scale": str(SCALE),
        "anchor": str(ANCHOR),
        "data": "mahmls-questions 2014+2020 en/mr (MIT), kinds 1-5 of scripts/train_adapter.py",
        "targets": ",".join(TARGETS),
    }
    save_adapter(args.out, factors, rank=RANK, alpha=ALPHA, info=info)
    minutes = (time.perf_counter() - started) / 60
    print(f"{len(train)} training rows, {args.steps} steps of {args.batch} in {minutes:.1f} min")
    print(f"loss: first 20 steps {np.mean(losses[:20]):.3f}, last 20 {np.mean(losses[-20:]):.3f}")
    for name in before:
        print(f"check, {CHECK_ROWS} left-out rows, {name}: R@1 {before[name]:.3f} → "
              f"{after[name]:.3f}")  # fmt: skip
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB, {len(factors)} matrices)")


if __name__ == "__main__":
    main()
