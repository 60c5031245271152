"""Files shipped with Samvad for one model: its cross-language gap and its calibration.

Each lives in a folder of the package, named after the model (``intfloat/x`` →
``intfloat--x.json``). A model merged with an adapter gets none: what the files hold was
measured on the model as published, not on the merged one.

>>> shipped_file(Path("gaps"), "intfloat/multilingual-e5-small").name
'intfloat--multilingual-e5-small.json'
>>> shipped_for(Path("gaps"), {"model": "m", "built_from": {"adapter": {"rank": 8}}}) is None
True
"""

from __future__ import annotations

from pathlib import Path


def shipped_file(folder: Path, model: str) -> Path:
    """Where ``folder`` keeps the file of ``model``."""
    return folder / f"{model.replace('/', '--')}.json"


def shipped_for(folder: Path, identity: dict[str, object]) -> Path | None:
    """The file of an embedder's ``identity`` in ``folder``, or ``None``: when none was
    shipped for its model, and for a model merged with an adapter."""
    built_from = identity.get("built_from")
    if isinstance(built_from, dict) and built_from.get("adapter"):
        return None
    path = shipped_file(folder, str(identity.get("model", "")))
    return path if path.is_file() else None
