"""The engine API: a question in, a cited answer (or an honest "I don't know") out.

The answer is extractive: one to three sentences copied from the best passage of one article,
then that article's title, date and source. It is taken from the article version in the asker's
language when one exists (same ``id``); otherwise from the other language, with a note saying
so. Below the confidence threshold the engine abstains, says so in the asker's language and
logs the question for staff.

The engine answers only when two signals agree that an article covers the question:

- ``confidence``: the best dense cosine among the top three passages. It catches gibberish and
  far-off topics, but a question on a neighbouring topic ("income tax return" against the
  property-tax article) scores as high as a real one.
- ``agreement``: the cosine of the question's latent-term vector with the passage's (the
  concepts they share, across Marathi and English; see ``latent_terms.py``), best of the top
  three passages and of the question's phrasings. It is what tells a neighbouring topic apart.
  With a model the bundled latent-term head was not trained for, it is ``None`` and only the
  confidence is checked.

Between "answer" and "no article" there is a third outcome: when both signals clear the lower
thresholds (``ABSTAIN_BELOW`` / ``AGREEMENT_BELOW``) but not the higher ones (``CONFIRM_BELOW`` /
``CONFIRM_AGREEMENT_BELOW``), the engine does not answer. It says it is not sure it has an
article on this and offers the closest articles (``Answer.suggestions``); the citizen picks one
(:meth:`AnswerEngine.answer_from_article`) or none. The question is logged as unanswered, with
the articles offered, either way. A question on a neighbouring topic ("income tax return"
against the property-tax article) thus gets "did you mean: Property tax rebate?" instead of a
wrong answer.

How the thresholds were calibrated: ``bench/answers.py --calibrate`` scores every dev question
(``tests/fixtures/dev_questions.jsonl``, 79 in scope and 15 out of scope) with the real model and
index. It sweeps the lower pair counting a wrong answer twice as costly as a refusal (a wrong
answer misleads a citizen; a refusal sends them to the helpline and shows staff the gap):
``ABSTAIN_BELOW`` and ``AGREEMENT_BELOW`` are the cheapest pair, rounded toward answering. Then it
sweeps the higher pair, counting an offer of articles as a quarter of a refusal (one more tap; no
wrong text is shown): ``CONFIRM_BELOW`` and ``CONFIRM_AGREEMENT_BELOW`` are the cheapest pair,
rounded up to the next hundredth, toward offering. On the dev set that is the lowest pair at which
no out-of-scope question is answered directly. The held-out questions
(``tests/fixtures/heldout_questions.jsonl``, written before any calibration) show how far the
thresholds carry to new questions. Rerun the calibration when the model changes and set the
``SAMVAD_ABSTAIN_BELOW``, ``SAMVAD_AGREEMENT_BELOW``, ``SAMVAD_CONFIRM_BELOW`` and
``SAMVAD_CONFIRM_AGREEMENT_BELOW`` variables (or edit the constants).

>>> engine = AnswerEngine.from_settings(Settings.from_env())
>>> engine.answer("Which Japanese ministry signed an agreement with Thane?").sources[0].article_id
'tmc-japan-mlit-smart-city-agreement'
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from samvad.articles import LANGUAGES
from samvad.index_store import IndexSnapshot, StoredArticle, StoredChunk
from samvad.language import PreparedQuery, prepare_query
from samvad.latent_terms import LatentTermEncoder, LatentVector, latent_encoder_for
from samvad.model import Embedder, ModelUnavailableError, find_model
from samvad.question_log import QuestionLog
from samvad.retriever import Hit, Retriever, SearchMode
from samvad.settings import Settings

ABSTAIN_BELOW = 0.80
AGREEMENT_BELOW = 0.18
CONFIRM_BELOW = 0.80
CONFIRM_AGREEMENT_BELOW = 0.21
# At most this many articles are offered when the engine is not sure.
MAX_SUGGESTIONS = 3
# Confidence and agreement look at the best few passages, not only the first: the article that
# answers may be ranked second by fusion while still clearly matching.
EVIDENCE_HITS = 3
MAX_SENTENCES = 3
# Sentences within this cosine of the best one join the answer (at most MAX_SENTENCES).
# Measured on the dev set: 0.03 → 70.5 % of answers hold the expected fact (1.8 sentences on
# average), 0.05 → 74.4 % (2.2 sentences). Choosing sentences from the whole article instead of
# the best passage, or adding a lexical bonus, measured worse (64-69 %).
SENTENCE_MARGIN = 0.05
CANDIDATE_HITS = 10

TEXTS = {
    "mr": {
        "source": "स्रोत",
        "other_language_note": "(हे उत्तर इंग्रजी लेखातून दिले आहे; हा लेख मराठीत उपलब्ध नाही.)",
        "abstain": "माफ करा, या प्रश्नाचे उत्तर देणारा लेख माझ्याकडे सध्या नाही. तुमचा प्रश्न "
        "महानगरपालिकेच्या कर्मचाऱ्यांसाठी नोंदवला आहे. {helpline} मी कोणत्या विषयांवर उत्तर "
        "देऊ शकतो हे पाहण्यासाठी /topics पाठवा.",
        "helpline": "तातडीच्या मदतीसाठी ठाणे महानगरपालिकेच्या नागरिक हेल्पलाइनशी संपर्क साधा.",
        "confirm": "मला खात्री नाही की या प्रश्नाचे उत्तर देणारा लेख माझ्याकडे आहे. जवळचे लेख "
        "हे आहेत — तुम्हाला यापैकी कशाबद्दल विचारायचे आहे?",
        "empty": "कृपया तुमचा प्रश्न लिहा.",
    },
    "en": {
        "source": "Source",
        "other_language_note": "(This answer is from a Marathi article; it is not available "
        "in English.)",
        "abstain": "Sorry, I don't have an article that answers this yet. Your question has been "
        "noted for municipal staff. {helpline} Send /topics to see what I can answer.",
        "helpline": "For urgent help, contact Thane Municipal Corporation's citizen helpline.",
        "confirm": "I'm not sure I have an article that answers this. These are the closest "
        "ones; is your question about one of them?",
        "empty": "Please type your question.",
    },
}


@dataclass(frozen=True)
class Source:
    """The article an answer was taken from."""

    article_id: str
    title: str
    lang: str
    date: str
    source_url: str | None
    path: str


@dataclass(frozen=True)
class Answer:
    """What the citizen gets: ``text`` is ready to send, the rest is for buttons and logs."""

    question: str
    text: str
    language: str
    confidence: float
    abstained: bool
    sources: tuple[Source, ...] = ()
    sentences: tuple[str, ...] = ()
    from_other_language: bool = False
    article_key: str | None = None
    next_ordinal: int | None = None
    romanized: bool = False
    agreement: float | None = None
    suggestions: tuple[Source, ...] = ()


Verdict = Literal["answer", "confirm", "abstain"]


@dataclass(frozen=True)
class Retrieval:
    """A searched question: how it was read, its vectors, the hits and the index searched."""

    query: PreparedQuery
    vectors: np.ndarray
    hits: list[Hit]
    retriever: Retriever
    concepts: tuple[LatentVector, ...] = ()

    @functools.cached_property
    def confidence(self) -> float:
        """Best dense cosine among the top passages (0.0 with no hits)."""
        return max((h.dense_score for h in self.hits[:EVIDENCE_HITS]), default=0.0)

    @functools.cached_property
    def agreement(self) -> float | None:
        """Best latent-term cosine between a phrasing of the question and a top passage, or
        ``None`` when the model has no latent-term head or the index holds no concept vectors."""
        stored = self.retriever.snapshot.latent
        passages = [
            stored[h.chunk.vector_id]
            for h in self.hits[:EVIDENCE_HITS]
            if h.chunk.vector_id in stored
        ]
        if not self.concepts or not passages:
            return None
        return max(q.cosine(p) for q in self.concepts for p in passages)


def _source(article: StoredArticle) -> Source:
    return Source(
        article.id, article.title, article.lang, article.date, article.source, article.path
    )


def article_version(
    articles: Mapping[str, StoredArticle], article_id: str, lang: str
) -> StoredArticle | None:
    """Article ``article_id`` in ``lang`` when that version exists, else in the other
    language, else ``None`` (a key lookup per language, no scan)."""
    keys = [f"{article_id}/{lang}", *(f"{article_id}/{o}" for o in LANGUAGES if o != lang)]
    return next((articles[k] for k in keys if k in articles), None)


def abstain_threshold() -> float:
    """The confidence below which the engine abstains (``SAMVAD_ABSTAIN_BELOW`` overrides)."""
    return _env_float("SAMVAD_ABSTAIN_BELOW", ABSTAIN_BELOW)


def agreement_threshold() -> float:
    """The concept agreement below which the engine abstains (``SAMVAD_AGREEMENT_BELOW``)."""
    return _env_float("SAMVAD_AGREEMENT_BELOW", AGREEMENT_BELOW)


def confirm_thresholds() -> tuple[float, float]:
    """(confidence, agreement) below which the engine offers articles instead of answering
    (``SAMVAD_CONFIRM_BELOW`` / ``SAMVAD_CONFIRM_AGREEMENT_BELOW`` override)."""
    return (
        _env_float("SAMVAD_CONFIRM_BELOW", CONFIRM_BELOW),
        _env_float("SAMVAD_CONFIRM_AGREEMENT_BELOW", CONFIRM_AGREEMENT_BELOW),
    )


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    return float(value) if value else default


def _clears(retrieval: Retrieval, confidence_below: float, agreement_below: float) -> bool:
    """Whether the search found passages and both signals reach the given thresholds (an
    agreement of ``None``, a model without a latent-term head, is not checked)."""
    if not retrieval.hits or retrieval.confidence < confidence_below:
        return False
    agreement = retrieval.agreement
    return agreement is None or agreement >= agreement_below


def compose_text(
    sentences: list[str], article: StoredArticle, language: str, from_other_language: bool
) -> str:
    """The citizen-facing text: the sentences, then title, date and link, then any note."""
    words = TEXTS[language]
    lines = [" ".join(sentences), "", f"{words['source']}: {article.title} ({article.date})"]
    if article.source:
        lines.append(article.source)
    if from_other_language:
        lines.append(words["other_language_note"])
    return "\n".join(lines)


class AnswerEngine:
    """Answers questions from the current index; picks up a newly written index by itself."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        log: QuestionLog | None = None,
        threshold: float | None = None,
        agreement_below: float | None = None,
        confirm_below: tuple[float, float] | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.log = log
        self.threshold = abstain_threshold() if threshold is None else threshold
        self.agreement_below = agreement_threshold() if agreement_below is None else agreement_below
        self.confirm_below = confirm_thresholds() if confirm_below is None else confirm_below
        self.latent: LatentTermEncoder | None = latent_encoder_for(
            str(embedder.identity["model"]), embedder.dimension
        )
        self._lock = threading.Lock()
        self._retriever = Retriever(IndexSnapshot.require(settings.index_dir), embedder)

    @classmethod
    def from_settings(cls, settings: Settings) -> AnswerEngine:
        """Load the model and index named by ``settings``; log questions in its data folder.

        The model runs on one thread: a question is a few tokens, and a single thread keeps
        latency steady when several processes share the CPU (measured on 2 cores under load:
        p95 29 ms with one thread, 35 ms with two).
        """
        folder = find_model(settings)
        if folder is None:
            raise ModelUnavailableError(
                f"model '{settings.model}' is not on this machine yet; run 'samvad model' first"
            )
        embedder = Embedder(folder, name=settings.model, threads=1)
        return cls(settings, embedder, QuestionLog(settings.data_dir))

    @property
    def retriever(self) -> Retriever:
        """The retriever for the newest index generation (reloaded when the index changed)."""
        link = self.settings.index_dir / "current"
        try:
            newest = Path(os.readlink(link)).name
        except OSError:
            return self._retriever
        if newest != self._retriever.snapshot.generation:
            with self._lock:
                if newest != self._retriever.snapshot.generation:
                    snapshot = IndexSnapshot.load(self.settings.index_dir)
                    if snapshot is not None:
                        self._retriever = Retriever(snapshot, self.embedder)
        return self._retriever

    def search(
        self, question: str, top_k: int = CANDIDATE_HITS, mode: SearchMode = "hybrid"
    ) -> Retrieval:
        """Prepare, embed and search a question; returns everything the answer step needs."""
        query = prepare_query(question)
        concepts: tuple[LatentVector, ...] = ()
        if self.latent is not None:
            vectors, states = self.embedder.embed_with_token_states(list(query.phrasings), "query")
            concepts = tuple(self.latent.encode_many(states))
        else:
            vectors = self.embedder.embed_queries(list(query.phrasings))
        retriever = self.retriever
        hits = retriever.search(vectors, query.terms, top_k, mode, query.lexical_langs)
        return Retrieval(query, vectors, hits, retriever, concepts)

    def covers(self, retrieval: Retrieval) -> bool:
        """Whether an article may cover the question: both signals at or above the lower
        (abstain) thresholds. The engine then answers or, when unsure, offers articles."""
        return _clears(retrieval, self.threshold, self.agreement_below)

    def verdict(self, retrieval: Retrieval) -> Verdict:
        """``answer`` when both signals clear the higher thresholds, ``confirm`` (offer the
        closest articles) when they clear only the lower ones, else ``abstain``."""
        if not self.covers(retrieval):
            return "abstain"
        return "answer" if _clears(retrieval, *self.confirm_below) else "confirm"

    def answer(
        self,
        question: str,
        language: str | None = None,
        user_id: str | None = None,
        mode: SearchMode = "hybrid",
    ) -> Answer:
        """Answer ``question`` in ``language`` (default: the question's own language)."""
        return self.answer_with_passages(question, language, user_id, mode)[0]

    def answer_with_passages(
        self,
        question: str,
        language: str | None = None,
        user_id: str | None = None,
        mode: SearchMode = "hybrid",
        top_k: int = CANDIDATE_HITS,
    ) -> tuple[Answer, list[Hit]]:
        """:meth:`answer`, plus the best ``top_k`` passages it was chosen from (none for an
        empty question), from the same search."""
        question = " ".join(question.split())
        if not question:
            lang = language or "en"
            return Answer(question, TEXTS[lang]["empty"], lang, 0.0, abstained=True), []
        retrieval = self.search(question, top_k=max(top_k, CANDIDATE_HITS), mode=mode)
        passages = retrieval.hits[:top_k]
        query = retrieval.query
        lang = language if language in TEXTS else query.detected.lang
        confidence = retrieval.confidence
        verdict = self.verdict(retrieval)
        if verdict == "abstain":
            abstained = self._abstain(
                question, lang, confidence, user_id, query.detected.romanized, retrieval.agreement
            )
            return abstained, passages
        if verdict == "confirm":
            return self._offer(question, lang, retrieval, user_id), passages
        best = retrieval.hits[0].article
        article = article_version(retrieval.retriever.snapshot.articles, best.id, lang) or best
        result = self._from_article(question, lang, retrieval, article)
        if self.log is not None:
            self.log.record_question(
                question, lang, confidence, True, user_id, [s.article_id for s in result.sources]
            )
        return result, passages

    def _abstain(
        self,
        question: str,
        lang: str,
        confidence: float,
        user_id: str | None,
        romanized: bool,
        agreement: float | None,
        log: bool = True,
    ) -> Answer:
        if log and self.log is not None:
            self.log.record_question(question, lang, confidence, False, user_id)
        words = TEXTS[lang]
        helpline = os.environ.get(f"SAMVAD_HELPLINE_{lang.upper()}", "") or words["helpline"]
        text = words["abstain"].format(helpline=helpline)
        return Answer(
            question,
            text,
            lang,
            confidence,
            abstained=True,
            romanized=romanized,
            agreement=agreement,
        )

    def _offer(self, question: str, lang: str, retrieval: Retrieval, user_id: str | None) -> Answer:
        """Not sure: name the closest articles (in ``lang`` where that version exists) and log
        the question as unanswered, with the articles offered."""
        articles = retrieval.retriever.snapshot.articles
        offered: list[Source] = []
        for hit in retrieval.hits[:EVIDENCE_HITS]:
            if len(offered) < MAX_SUGGESTIONS and all(
                s.article_id != hit.article.id for s in offered
            ):
                offered.append(
                    _source(article_version(articles, hit.article.id, lang) or hit.article)
                )
        if self.log is not None:
            self.log.record_question(
                question,
                lang,
                retrieval.confidence,
                False,
                user_id,
                [s.article_id for s in offered],
            )
        listing = [f"{n}. {s.title} ({s.date})" for n, s in enumerate(offered, start=1)]
        return Answer(
            question,
            "\n".join([TEXTS[lang]["confirm"], *listing]),
            lang,
            retrieval.confidence,
            abstained=True,
            romanized=retrieval.query.detected.romanized,
            agreement=retrieval.agreement,
            suggestions=tuple(offered),
        )

    def answer_from_article(
        self,
        question: str,
        article_id: str | None,
        language: str | None = None,
        user_id: str | None = None,
    ) -> Answer:
        """Answer ``question`` from the article the citizen picked among the ones offered.

        The passage is the article's closest one to the question, in ``language`` (default:
        the question's) when that version exists. ``article_id=None`` (the citizen picked none
        of them), an empty question or an article that no longer exists gets the "no article"
        answer. The question is already in the log with the articles offered; the pick is
        recorded next to it (staff see it in ``samvad unanswered``).
        """
        question = " ".join(question.split())
        if question and self.log is not None:
            self.log.record_pick(question, article_id, user_id)
        if article_id is not None and question:
            retrieval = self.search(question)
            lang = language if language in TEXTS else retrieval.query.detected.lang
            article = article_version(retrieval.retriever.snapshot.articles, article_id, lang)
            if article is not None:
                return self._from_article(question, lang, retrieval, article)
        detected = prepare_query(question).detected if question else None
        lang = language if language in TEXTS else detected.lang if detected else "en"
        romanized = detected.romanized if detected else False
        return self._abstain(question, lang, 0.0, None, romanized, agreement=None, log=False)

    def _from_article(
        self, question: str, lang: str, retrieval: Retrieval, article: StoredArticle
    ) -> Answer:
        """Answer from ``article`` (the version chosen by :func:`article_version`): from the
        passage the search ranked first for that article when it is in this version, else the
        version's passage closest to the question."""
        snapshot = retrieval.retriever.snapshot
        chunks = [snapshot.chunks[v] for v in article.vector_ids]
        vectors = retrieval.vectors
        first = next((h for h in retrieval.hits if h.article.id == article.id), None)
        if first is not None and first.article.key == article.key:
            chunk = first.chunk
        else:
            chunk_vectors = np.vstack([snapshot.vectors.reconstruct(c.vector_id) for c in chunks])
            chunk = chunks[int(np.argmax((chunk_vectors @ vectors.T).max(axis=1)))]
        sentences = self.pick_sentences(chunk, vectors, snapshot)
        other = article.lang != lang
        next_ordinal = chunk.ordinal + 1 if chunk.ordinal + 1 < len(chunks) else None
        return Answer(
            question=question,
            text=compose_text(sentences, article, lang, other),
            language=lang,
            confidence=retrieval.confidence,
            abstained=False,
            sources=(_source(article),),
            sentences=tuple(sentences),
            from_other_language=other,
            article_key=article.key,
            next_ordinal=next_ordinal,
            romanized=retrieval.query.detected.romanized,
            agreement=retrieval.agreement,
        )

    @staticmethod
    def pick_sentences(
        chunk: StoredChunk, vectors: np.ndarray, snapshot: IndexSnapshot
    ) -> list[str]:
        """The chunk's sentences closest to the question: the best one, plus up to two more
        within ``SENTENCE_MARGIN`` of it, in the article's order."""
        if len(chunk.sentences) <= 1:
            return list(chunk.sentences)
        scores = (snapshot.sentence_vectors_of(chunk) @ vectors.T).max(axis=1)
        best = float(scores.max())
        ranked = [int(i) for i in np.argsort(-scores)[:MAX_SENTENCES]]
        keep = sorted(i for i in ranked if scores[i] >= best - SENTENCE_MARGIN)
        return [chunk.sentences[i] for i in keep]

    def more(self, article_key: str, ordinal: int, language: str) -> Answer | None:
        """The passage ``ordinal`` of an article (for "more"), or ``None`` past the end."""
        snapshot = self.retriever.snapshot
        article = snapshot.articles.get(article_key)
        if article is None or not 0 <= ordinal < len(article.vector_ids):
            return None
        chunk = snapshot.chunks[article.vector_ids[ordinal]]
        other = article.lang != language
        has_next = ordinal + 1 < len(article.vector_ids)
        return Answer(
            question="",
            text=compose_text(list(chunk.sentences), article, language, other),
            language=language,
            confidence=1.0,
            abstained=False,
            sources=(_source(article),),
            sentences=chunk.sentences,
            from_other_language=other,
            article_key=article.key,
            next_ordinal=ordinal + 1 if has_next else None,
        )

    def record_feedback(
        self, user_id: str | None, question: str, article_ids: list[str], helpful: bool
    ) -> None:
        """Keep a citizen's 👍/👎 next to the question and the articles cited."""
        if self.log is not None:
            self.log.record_feedback(question, article_ids, helpful, user_id)

    def topics(self, language: str) -> list[tuple[str, str]]:
        """(article id, title) of every article, in ``language`` where that version exists."""
        articles = self.retriever.snapshot.articles
        chosen: dict[str, StoredArticle] = {}
        for article in articles.values():
            if article.id not in chosen or article.lang == language:
                chosen[article.id] = article
        return sorted(((a.id, a.title) for a in chosen.values()), key=lambda t: t[1])
