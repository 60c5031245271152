"""Rasa's SQL tracker store, with its pooled connections checked before each use.

With ``SAMVAD_STORES=shared``, ``endpoints.yml`` (as :func:`bot.supervisor.shared_stores`
writes it) names this class as the tracker store's ``type`` — Rasa's documented way to plug in
a tracker store, loaded from the repository root where Rasa runs. It is Rasa's own
:class:`~rasa.core.tracker_store.SQLTrackerStore`, tables and all; only its SQLAlchemy engine
is made with ``pool_pre_ping``: a connection that died (PostgreSQL restarted, a network
blip) is noticed and replaced before a query uses it.

Without it, the first message each Rasa server handles after a PostgreSQL restart meets a dead
pooled connection; Rasa's fail-safe wrapper then answers it from an empty, in-memory
conversation (the citizen's chosen language forgotten for that reply), only logging an error.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs


class CheckedSQLTrackerStore(SQLTrackerStore):  # type: ignore[misc]
    """:class:`SQLTrackerStore` whose connections are pinged before use (same arguments)."""

    engine: Any
    sessionmaker: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        url = self.engine.url  # the working database (Rasa created it from ``login_db``)
        self.engine.dispose()
        self.engine = sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
