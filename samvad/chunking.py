"""Split an article into passages that respect paragraphs and Marathi/English sentence ends.

Each chunk keeps the article title (and the heading it sits under) for embedding, and gets a
stable id: the same article text always gives the same chunk ids.

>>> from samvad.chunking import split_sentences
>>> split_sentences("पाणीपुरवठा बंद राहील। Water will be off. Why? Ask!")
['पाणीपुरवठा बंद राहील।', 'Water will be off.', 'Why?', 'Ask!']
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from samvad.articles import Article

# A sentence ends at । ॥ . ? ! (possibly followed by closing quotes/brackets, which stay with
# it) and then white space. "10.5" and "www.example.org" do not split: no space follows the dot.
_SENTENCE_END = re.compile("(?<=[।॥.?!])([\"'\u201d\u2019)\\]]*)\\s+")
# A heading line; its closing hashes and spaces are taken off in code (:func:`_heading`): as
# regex quantifiers (``\s*#*\s*$``) they backtrack in cubic time on a long run of spaces.
_HEADING = re.compile(r"#{1,6}\s+(.*)")
DEFAULT_MAX_CHARS = 600


@dataclass(frozen=True)
class Chunk:
    """One passage of an article, ready to embed and to show."""

    chunk_id: str
    vector_id: int
    article_key: str
    ordinal: int
    heading: str
    sentences: tuple[str, ...]

    @property
    def text(self) -> str:
        """The passage as shown to a citizen."""
        return " ".join(self.sentences)


def split_sentences(text: str) -> list[str]:
    """Split text at Marathi and English sentence ends; never returns empty strings."""
    flat = " ".join(text.split())
    pieces = _SENTENCE_END.split(flat)  # sentence, its closing marks, sentence, …, sentence
    sentences = [s + closing for s, closing in zip(pieces[::2], [*pieces[1::2], ""], strict=True)]
    return [s.strip() for s in sentences if s.strip()]


def _heading(line: str) -> str | None:
    """The text of a Markdown heading line (``## Title ##`` → ``Title``), else ``None``."""
    match = _HEADING.fullmatch(line)
    return match.group(1).rstrip().rstrip("#").rstrip() if match else None


def vector_id_for(chunk_id: str) -> int:
    """Map a chunk id to a stable positive 63-bit integer for the FAISS id map."""
    digest = hashlib.blake2b(chunk_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") & 0x7FFF_FFFF_FFFF_FFFF


def _sections(body: str) -> list[tuple[str, list[str]]]:
    """Group the body into (heading, paragraphs) in reading order."""
    sections: list[tuple[str, list[str]]] = [("", [])]
    paragraph: list[str] = []

    def close_paragraph() -> None:
        if paragraph:
            sections[-1][1].append(" ".join(paragraph))
            paragraph.clear()

    for line in body.split("\n"):
        stripped = line.strip()
        heading = _heading(stripped)
        if heading is not None:
            close_paragraph()
            sections.append((heading, []))
        elif not stripped:
            close_paragraph()
        else:
            paragraph.append(stripped)
    close_paragraph()
    return [(h, paras) for h, paras in sections if paras]


def chunk_article(article: Article, max_chars: int = DEFAULT_MAX_CHARS) -> list[Chunk]:
    """Cut an article into chunks of whole sentences, at most ``max_chars`` where possible.

    Paragraphs are kept together when they fit; short neighbouring paragraphs under the same
    heading share a chunk; a sentence longer than ``max_chars`` becomes a chunk of its own.
    """
    groups: list[tuple[str, list[str]]] = []
    for heading, paragraphs in _sections(article.body):
        current: list[str] = []
        for paragraph in paragraphs:
            for sentence in split_sentences(paragraph):
                if current and len(" ".join([*current, sentence])) > max_chars:
                    groups.append((heading, current))
                    current = []
                current.append(sentence)
            if current and len(" ".join(current)) >= max_chars // 2:
                groups.append((heading, current))
                current = []
        if current:
            groups.append((heading, current))
    chunks = []
    for ordinal, (heading, sentences) in enumerate(groups):
        chunk_id = f"{article.key}#{ordinal}"
        chunks.append(
            Chunk(
                chunk_id=chunk_id,
                vector_id=vector_id_for(chunk_id),
                article_key=article.key,
                ordinal=ordinal,
                heading=heading,
                sentences=tuple(sentences),
            )
        )
    return chunks


def passage_for_embedding(article: Article, chunk: Chunk) -> str:
    """The text embedded for a chunk: title, heading, then the chunk itself."""
    parts = [article.title, chunk.heading, chunk.text]
    return "\n".join(p for p in parts if p)
