"""The engine with the real model and index: typed answers, languages, citations, "more",
offers and refusals."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from samvad import (
    Answer,
    AnswerEngine,
    Lang,
    build_index,
    plain_text,
    read_catalog,
    text,
)
from samvad.index_store import IndexSnapshot
from samvad.model import Embedder
from samvad.question_log import QuestionLog
from tests.conftest import index_dev_corpus

pytestmark = pytest.mark.slow

SEED = "tmc-japan-mlit-smart-city-agreement"


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> AnswerEngine:
    """An engine over the fictional corpus plus the real articles, logging to a temp folder."""
    settings, _ = index_dev_corpus(tmp_path_factory.mktemp("engine"), embedder)
    return AnswerEngine(settings, embedder, QuestionLog(settings.data_dir, salt="test"))


def article_sentences(engine: AnswerEngine, key: str) -> set[str]:
    snapshot = engine.index.current().snapshot
    return {s for v in snapshot.articles[key].vector_ids for s in snapshot.chunks[v].sentences}


@pytest.mark.parametrize(
    ("question", "lang"),
    [
        ("ठाणे महानगरपालिकेने जपानसोबत कोणता करार केला?", "mr"),
        ("Which Japanese ministry signed an agreement with Thane Municipal Corporation?", "en"),
        ("thane mahanagarpalikene japan sobat konta karar kela?", "mr"),
    ],
    ids=["marathi", "english", "romanized"],
)
def test_seed_article_answers_in_the_askers_language(
    engine: AnswerEngine, question: str, lang: str
) -> None:
    answer = engine.answer(question)
    assert answer.outcome == "answered" and answer.citation is not None
    assert answer.language == lang
    assert answer.citation.article_id == SEED
    assert answer.citation.language == lang
    assert not answer.citation.other_language


@pytest.mark.parametrize(
    ("question", "lang", "article", "fact"),
    [
        ("घोडबंदरला पाणी नेमकं कोणत्या दिवशी बंद असणार आहे?", "mr", "water-cut-ghodbunder", "12"),
        ("On which date is water supply shut in Ghodbunder?", "en", "water-cut-ghodbunder", "12"),
        ("pani kadhi band aahe ghodbunder la?", "mr", "water-cut-ghodbunder", "12"),
    ],
    ids=["marathi", "english", "romanized"],
)
def test_answer_is_extractive_and_cited(
    engine: AnswerEngine, question: str, lang: str, article: str, fact: str
) -> None:
    answer = engine.answer(question)
    assert answer.citation is not None and answer.citation.article_id == article
    assert answer.language == lang
    assert 1 <= len(answer.sentences) <= 3
    key = f"{article}/{answer.citation.language}"
    assert set(answer.sentences) <= article_sentences(engine, key)
    assert fact in " ".join(answer.sentences)
    assert f"{text('source', lang)}: {answer.citation.title}" in plain_text(answer)


@pytest.mark.parametrize(
    ("question", "lang"),
    [
        ("how many new electric buses is TMT getting", "en"),
        ("झाड तोडण्याच्या परवानगीसाठी अर्जाचं शुल्क किती आहे?", "mr"),
    ],
    ids=["english-asks-marathi-only", "marathi-asks-english-only"],
)
def test_other_language_article_is_used_and_said(
    engine: AnswerEngine, question: str, lang: str
) -> None:
    answer = engine.answer(question)
    assert answer.outcome == "answered" and answer.citation is not None
    assert answer.citation.other_language
    assert answer.language == lang
    assert answer.citation.language != lang
    assert text("other_language_note", lang) in plain_text(answer)


@pytest.mark.parametrize("language", ["mr", "en"])
def test_chosen_language_wins_over_the_questions(engine: AnswerEngine, language: Lang) -> None:
    question = "मालमत्ता कर लवकर भरला तर किती सूट मिळते?"
    answer = engine.answer(question, language=language)
    assert answer.language == language
    assert answer.citation is not None and answer.citation.language == language


@pytest.mark.parametrize(
    ("question", "outcome"),
    [("asdfgh qwerty", "refused"), ("jkjkjk lllll ???", "refused"), ("", "empty")],
    ids=["gibberish", "more-gibberish", "empty"],
)
def test_gibberish_is_refused_and_nothing_is_empty(
    engine: AnswerEngine, question: str, outcome: str
) -> None:
    answer = engine.answer(question, language="en")
    assert answer.outcome == outcome
    assert answer.citation is None and answer.offers == () and answer.sentences == ()
    assert answer.language == "en"


@pytest.mark.parametrize(
    ("question", "lang"),
    [
        ("passport renewal kasa karaycha?", "mr"),
        ("शेअर बाजारात आत्ता कोणते शेअर घ्यावेत?", "mr"),
        ("how do I apply for a US tourist visa", "en"),
    ],
    ids=["romanized", "marathi", "english"],
)
def test_neighbouring_topic_abstains_on_concept_agreement(
    engine: AnswerEngine, question: str, lang: str
) -> None:
    """The cosine alone would answer these (it clears its threshold); the shared concepts don't."""
    answer = engine.answer(question)
    assert answer.outcome == "refused" and answer.citation is None and answer.offers == ()
    assert answer.language == lang
    assert answer.signals.confidence >= engine.thresholds.abstain_below
    agreement = answer.signals.agreement
    assert agreement is not None and agreement < engine.thresholds.agreement_below


@pytest.mark.parametrize(
    ("question", "article"),
    [
        ("कुत्रा चावला तर रेबीजचं इंजेक्शन मोफत कुठे मिळेल?", "stray-dog-sterilisation-drive"),
        ("how many new electric buses is TMT getting", "tmt-new-routes-february"),
    ],
    ids=["marathi", "english-about-marathi-article"],
)
def test_answers_carry_the_concept_agreement(
    engine: AnswerEngine, question: str, article: str
) -> None:
    answer = engine.answer(question)
    assert answer.citation is not None and answer.citation.article_id == article
    agreement = answer.signals.agreement
    assert agreement is not None and agreement >= engine.thresholds.agreement_below


@pytest.mark.parametrize(
    "question",
    ["ठाणे महानगरपालिकेने जपानसोबत कोणता करार केला?", "how many new electric buses is TMT getting"],
    ids=["marathi", "english"],
)
def test_the_margin_is_the_top_passage_over_the_next_article(
    engine: AnswerEngine, question: str
) -> None:
    """Over the first passage of another article among the hits; with none (every hit from
    the seed article), over nothing: the top cosine itself."""
    retrieval = engine.search(question)
    top = retrieval.hits[0]
    rival = next((h.dense_score for h in retrieval.hits if h.article.id != top.article.id), 0.0)
    assert retrieval.signals.margin == pytest.approx(top.dense_score - rival)
    assert engine.answer(question).signals.margin == pytest.approx(retrieval.signals.margin)


TAX = "property-tax-rebate-2026"
DOGS = "stray-dog-sterilisation-drive"
POOL = "swimming-pool-new-timings"
TAX_BILL_MR = "यंदाचं घरपट्टीचं बिल अजून घरी आलं नाही, ते कधीपर्यंत येतं?"
INCOME_TAX_EN = "how to file income tax return online"
DRIVING_LICENCE = "driving licence renew karaycha ahe RTO madhe kay process"
DOGS_EN = "When is the stray dog sterilisation drive happening in Thane?"
POOL_EN = "evening timings of the vartak nagar swimming pool"


def test_english_question_about_a_marathi_only_article_is_answered_with_its_date(
    engine: AnswerEngine,
) -> None:
    """The search lexicon ties "stray" and "dog" to the Marathi article's words, so the
    question is answered from it (it used to be only offered), with the dates."""
    answer = engine.answer(DOGS_EN)
    assert answer.outcome == "answered" and answer.citation is not None
    assert answer.citation.article_id == DOGS and answer.citation.language == "mr"
    assert any("३१ मे" in sentence for sentence in answer.sentences)


@pytest.mark.parametrize(
    ("question", "lang", "offered"),
    [
        (TAX_BILL_MR, "mr", TAX),
        (INCOME_TAX_EN, "en", TAX),
        (DRIVING_LICENCE, "mr", "hawker-licence-registration"),
        (POOL_EN, "en", POOL),
    ],
    ids=[
        "marathi-in-scope",
        "english-neighbour",
        "romanized-neighbour",
        "english-right-one-second",
    ],
)
def test_unsure_question_offers_the_closest_articles_and_is_logged(
    engine: AnswerEngine, question: str, lang: str, offered: str
) -> None:
    """When the engine is not sure it answers nothing: it names the closest articles (in the
    asker's language where that version exists) for the citizen to pick."""
    answer = engine.answer(question, user_id="citizen-7")
    retrieval = engine.search(question)
    assert engine.verdict(retrieval) == "offer"
    assert answer.outcome == "offered" and answer.citation is None and answer.sentences == ()
    assert answer.language == lang
    ids = [o.article_id for o in answer.offers]
    assert offered in ids and len(ids) == len(set(ids)) <= 3
    assert tuple(ids) == retrieval.offered  # what the fit counts as offered is what is offered
    for offer in answer.offers:
        versions = {
            k.split("/")[1]
            for k in engine.index.current().snapshot.articles
            if k.startswith(f"{offer.article_id}/")
        }
        assert offer.language == (lang if lang in versions else versions.pop())
    assert engine.log is not None
    logged = engine.log.unanswered(limit=1)[0]
    assert logged.question == question and logged.offered == tuple(ids)


@pytest.mark.parametrize(
    ("question", "article", "language", "fact"),
    [
        (TAX_BILL_MR, TAX, "mr", "१५ मे"),
        (INCOME_TAX_EN, TAX, "en", "2%"),
        (POOL_EN, POOL, "en", None),
    ],
    ids=["marathi", "english", "english-from-marathi-article"],
)
def test_picked_article_answers_from_that_article_and_the_pick_is_recorded(
    engine: AnswerEngine, question: str, article: str, language: str, fact: str | None
) -> None:
    assert engine.log is not None
    user = f"picker-{language}-{article}"
    offered = engine.answer(question, user_id=user)
    assert article in [o.article_id for o in offered.offers]
    logged = len(engine.log.unanswered())
    answer = engine.answer_from_article(question, article, user_id=user)
    assert answer.outcome == "answered" and answer.language == language
    source = answer.citation
    assert source is not None and source.article_id == article
    assert set(answer.sentences) <= article_sentences(engine, f"{article}/{source.language}")
    assert source.other_language == (source.language != language)
    if fact is not None:
        assert fact in " ".join(answer.sentences)
    else:
        assert source.other_language and source.language == "mr"
    rows = engine.log.unanswered()
    assert len(rows) == logged  # the pick is not a new question
    assert (rows[0].question, rows[0].picked) == (question, article)


@pytest.mark.parametrize(
    ("article_id", "language"),
    [(None, "mr"), (None, "en"), ("no-such-article", "en")],
    ids=["none-of-these-marathi", "none-of-these-english", "article-since-removed"],
)
def test_picking_none_or_a_removed_article_says_there_is_no_article(
    engine: AnswerEngine, article_id: str | None, language: Lang
) -> None:
    assert engine.log is not None
    user = f"none-picker-{language}-{article_id}"
    engine.answer(INCOME_TAX_EN, language, user_id=user)
    logged = len(engine.log.unanswered())
    answer = engine.answer_from_article(INCOME_TAX_EN, article_id, language, user_id=user)
    assert answer.outcome == "refused" and answer.citation is None and answer.offers == ()
    assert answer.language == language
    rows = engine.log.unanswered()
    assert len(rows) == logged
    assert (rows[0].question, rows[0].picked) == (INCOME_TAX_EN, article_id or "")


@pytest.mark.parametrize("lang", ["mr", "en"], ids=["marathi", "english"])
def test_refusal_is_in_the_askers_language_and_logged(engine: AnswerEngine, lang: str) -> None:
    question = "क्रिकेट विश्वचषक कोणी जिंकला?" if lang == "mr" else "Who won the cricket world cup?"
    answer = engine.answer(question, user_id="citizen-42")
    assert answer.outcome == "refused" and answer.language == lang
    assert "/topics" in plain_text(answer)
    assert engine.log is not None
    logged = engine.log.unanswered(limit=1)[0]
    assert (logged.question, logged.language) == (question, lang)
    assert logged.user_hash is not None and "citizen-42" not in logged.user_hash


def test_more_walks_through_the_article(engine: AnswerEngine) -> None:
    answer = engine.answer("What does the monsoon control room do?")
    assert answer.continuation is not None
    key = answer.continuation.article_key
    seen = set()
    ordinal: int | None = answer.continuation.next_ordinal
    while ordinal is not None:
        more = engine.more(key, ordinal, answer.language)
        assert more is not None and more.kind == "more" and more.sentences not in seen
        seen.add(more.sentences)
        ordinal = more.continuation.next_ordinal if more.continuation else None
    assert engine.more(key, 999, answer.language) is None


@pytest.mark.parametrize("language", ["mr", "en"])
def test_catalogue_titles_prefer_the_users_language(engine: AnswerEngine, language: Lang) -> None:
    catalog = read_catalog(engine.settings.index_dir)
    snapshot = engine.index.current().snapshot
    assert catalog is not None and catalog.generation == snapshot.generation
    titles = catalog.titles(language)
    assert len(titles) == len({a.id for a in snapshot.articles.values()})
    assert snapshot.articles[f"{SEED}/{language}"].title in titles


def test_engine_picks_up_a_new_index_by_itself(engine: AnswerEngine, tmp_path: Path) -> None:
    settings = engine.settings
    before = engine.index.current().snapshot.generation
    extra = settings.knowledge_dir / "library-hours.en.md"
    extra.write_text(
        "---\nid: library-hours\nlang: en\ntitle: Central library opening hours\n"
        "date: 2026-02-01\n---\nThe central municipal library opens at 7 am from 1 March.\n",
        "utf-8",
    )
    try:
        build_index(settings, engine.embedder)
        answer: Answer = engine.answer("What time does the central library open?")
        assert engine.index.current().snapshot.generation != before
        assert answer.citation is not None and answer.citation.article_id == "library-hours"
    finally:
        extra.unlink()
        build_index(settings, engine.embedder)
    assert "library-hours/en" not in IndexSnapshot.require(settings.index_dir).articles


@pytest.mark.parametrize(
    "question",
    ["मालमत्ता कर ऑनलाइन कसा भरायचा?", "How do I pay property tax online?"],
    ids=["marathi", "english"],
)
@pytest.mark.parametrize("mode", ["sentences", "hybrid"])
def test_the_engine_ranks_by_the_configured_search_mode(
    engine: AnswerEngine, embedder: Embedder, question: str, mode: str
) -> None:
    configured = AnswerEngine(replace(engine.settings, search_mode=mode), embedder)
    assert configured.mode == mode
    chosen = [h.chunk.vector_id for h in configured.search(question).hits]
    assert chosen == [h.chunk.vector_id for h in engine.search(question, mode=mode).hits]


@pytest.mark.parametrize(
    "question",
    [
        "घोडबंदरला पाणी नेमकं कोणत्या दिवशी बंद असणार आहे?",
        "On which date is water supply shut in Ghodbunder?",
        "pani kadhi band aahe ghodbunder la?",
        "how to get a caste certificate in Thane",
        "पासपोर्टसाठी पोलीस व्हेरिफिकेशन किती दिवसांत होतं?",
        "paneer butter masala recipe please",
    ],
    ids=["marathi", "english", "romanized", "neighbour-en", "neighbour-mr", "far-off"],
)
def test_the_calibrated_chance_answers_at_its_band_and_offers_around_the_lower_thresholds(
    engine: AnswerEngine, embedder: Embedder, question: str
) -> None:
    alone = AnswerEngine(replace(engine.settings, decision="thresholds"), embedder)
    chosen = AnswerEngine(replace(engine.settings, decision="calibrated"), embedder)
    calibrated, plain = chosen.answer(question), alone.answer(question)
    assert chosen.calibration is not None and alone.calibration is None
    chance = calibrated.signals.chance
    assert chance is not None and plain.signals.chance is None
    assert calibrated.signals.confidence == pytest.approx(plain.signals.confidence)
    assert calibrated.signals.coverage == pytest.approx(plain.signals.coverage)
    bands = chosen.calibration.bands
    if chance >= bands.answer_at:  # sure: answered, under the lower thresholds too
        assert calibrated.outcome == "answered"
    elif plain.outcome == "refused":  # under the lower thresholds: the offer band decides
        assert calibrated.outcome == ("offered" if chance >= bands.offer_at else "refused")
    else:  # over them and not sure: offered
        assert calibrated.outcome == "offered"


@pytest.mark.parametrize(
    ("question", "article"),
    [
        ("घोडबंदरला पाणी नेमकं कोणत्या दिवशी बंद असणार आहे?", "water-cut-ghodbunder"),
        ("On which date is water supply shut in Ghodbunder?", "water-cut-ghodbunder"),
        ("pani kadhi band aahe ghodbunder la?", "water-cut-ghodbunder"),
    ],
    ids=["marathi", "english", "romanized"],
)
def test_the_article_that_answers_covers_more_of_the_question_than_another(
    engine: AnswerEngine, question: str, article: str
) -> None:
    retrieval = engine.search(question)
    retriever = engine.index.current()
    covered = retriever.coverage(retrieval.query.words, article)
    assert covered is not None and retrieval.hits[0].article.id == article
    assert retrieval.signals.coverage == pytest.approx(covered)
    others = {h.article.id for h in retrieval.hits} - {article}
    shares = [retriever.coverage(retrieval.query.words, o) for o in others]
    assert shares and all(share is not None and share < covered for share in shares)


def test_the_chance_is_not_used_in_a_search_mode_it_was_not_fitted_in(
    engine: AnswerEngine, embedder: Embedder
) -> None:
    chosen = AnswerEngine(replace(engine.settings, decision="calibrated"), embedder)
    assert chosen.calibration is not None and chosen.calibration.search_mode == "sentences"
    assert chosen.search("When will water come in Ghodbunder?").signals.chance is not None
    retrieval = chosen.search("When will water come in Ghodbunder?", mode="hybrid")
    assert retrieval.calibration is None and retrieval.signals.chance is None


@pytest.mark.parametrize(
    ("question", "phrasing", "article"),
    [
        ("electric charging station kuthe aahe", "इलेक्ट्रिक चार्जिंग स्टेशन", "ev-charging-stations"),
        ("property tax online bharla tar sut milel ka", "प्रॉपर्टी टॅक्स", "property-tax-rebate-2026"),
    ],
    ids=["charging station", "property tax"],
)
def test_the_engine_writes_a_romanized_questions_english_words_as_loanwords(
    engine: AnswerEngine, question: str, phrasing: str, article: str
) -> None:
    assert engine.search(question).query.phrasings[1].startswith(phrasing)
    answer = engine.answer(question)
    assert answer.outcome == "answered" and answer.citation is not None
    assert answer.citation.article_id == article
