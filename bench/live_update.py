"""Edit → live time: how long after staff save an article do citizens get the new text?

Indexes the fictional dev corpus plus ``knowledge/``, starts the knowledge watcher (default
debounce) next to an engine that answers the same question in a loop, edits one article a few
times, and prints, per edit, the seconds from saving the file to the first answer that shows the
edit, plus whether any question failed meanwhile.

    .venv/bin/python -m bench.live_update [--edits 3]
"""

from __future__ import annotations

import argparse
import threading
import time

from bench.common import DEV_CORPUS, ROOT, build_temp_index, load_embedder, temp_workdir
from samvad import AnswerEngine, plain_text
from samvad.watcher import DEFAULT_DEBOUNCE_SECONDS, KnowledgeWatcher

FILE = "water-cut-ghodbunder.en.md"
QUESTION = "On which date is water supply shut in Ghodbunder?"
TIMEOUT_SECONDS = 60.0


def main() -> None:
    """Measure edit → live several times and print each figure."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--edits", type=int, default=3)
    args = parser.parse_args()
    embedder = load_embedder()
    settings, _ = build_temp_index([DEV_CORPUS, ROOT / "knowledge"], embedder, temp_workdir("live"))
    engine = AnswerEngine(settings, embedder, log=None)
    watcher = KnowledgeWatcher(settings, embedder)
    latest: list[str] = [""]
    asked = [0]
    failed: list[BaseException] = []
    stop = threading.Event()

    def ask_in_a_loop() -> None:
        while not stop.is_set():
            try:
                latest[0] = plain_text(engine.answer(QUESTION))
                asked[0] += 1
            except Exception as exc:  # counted and reported: a failed question is the finding
                failed.append(exc)

    asker = threading.Thread(target=ask_in_a_loop, daemon=True)
    watcher.start()
    asker.start()
    path = settings.knowledge_dir / FILE
    current = "12 March 2026"
    try:
        for day in range(20, 20 + args.edits):
            new = f"{day} March 2026"
            saved = time.monotonic()
            path.write_text(path.read_text("utf-8").replace(current, new), "utf-8")
            while new not in latest[0]:
                if time.monotonic() - saved > TIMEOUT_SECONDS:
                    raise TimeoutError(f"edit not live after {TIMEOUT_SECONDS:.0f} s")
                time.sleep(0.02)
            print(f"edit {new!r}: live after {time.monotonic() - saved:.2f} s")
            current = new
    finally:
        stop.set()
        asker.join(timeout=10)
        watcher.stop()
    print(
        f"debounce {DEFAULT_DEBOUNCE_SECONDS:.1f} s; {asked[0]} questions answered during the "
        f"run, {len(failed)} failed"
    )


if __name__ == "__main__":
    main()
