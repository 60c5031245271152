"""Where Samvad finds its articles, index, model and logs — read from environment variables.

- ``SAMVAD_KNOWLEDGE_DIR``: folder of articles staff edit (default ``./knowledge``)
- ``SAMVAD_INDEX_DIR``: folder where the search index is written (``./var/index``)
- ``SAMVAD_DATA_DIR``: folder for logs kept for staff, SQLite (``./var``)
- ``SAMVAD_MODEL``: sentence-transformers model name or local folder
  (``intfloat/multilingual-e5-small``)
- ``SAMVAD_MODEL_CACHE``: where provisioned models are kept (``~/.cache/samvad/models``)

>>> settings = Settings.from_env()
>>> settings.knowledge_dir.name
'knowledge'
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

DEFAULT_MODEL = "intfloat/multilingual-e5-small"


@dataclass(frozen=True)
class Settings:
    """Paths and model choice for one Samvad installation."""

    knowledge_dir: Path = Path("knowledge")
    index_dir: Path = Path("var/index")
    data_dir: Path = Path("var")
    model: str = DEFAULT_MODEL
    model_cache: Path = Path.home() / ".cache" / "samvad" / "models"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``env`` (default: ``os.environ``), falling back to the defaults."""
        env = os.environ if env is None else env
        base = cls()

        def path(name: str, default: Path) -> Path:
            value = env.get(name, "").strip()
            return Path(value).expanduser() if value else default

        return cls(
            knowledge_dir=path("SAMVAD_KNOWLEDGE_DIR", base.knowledge_dir),
            index_dir=path("SAMVAD_INDEX_DIR", base.index_dir),
            data_dir=path("SAMVAD_DATA_DIR", base.data_dir),
            model=env.get("SAMVAD_MODEL", "").strip() or base.model,
            model_cache=path("SAMVAD_MODEL_CACHE", base.model_cache),
        )

    def with_paths(
        self, knowledge_dir: Path | None = None, index_dir: Path | None = None
    ) -> Settings:
        """Return a copy with the given folders replaced (``None`` keeps the current one)."""
        return replace(
            self,
            knowledge_dir=knowledge_dir or self.knowledge_dir,
            index_dir=index_dir or self.index_dir,
        )
