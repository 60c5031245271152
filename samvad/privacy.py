"""Personal data in what citizens type, found and masked before anything is stored or logged.

Citizens write "my Aadhaar 2345 6789 0123 is not linked" or "call me on 98200 12345". Samvad
never needs those values to answer, so the bot masks a message before it goes to Rasa, the
engine masks a question before it searches and logs it, and :class:`PersonalDataFilter` masks
log lines. Each value becomes a typed placeholder: ``[aadhaar]``, ``[phone]``, ``[email]``,
``[pan]`` or ``[vehicle]``.

>>> base = "23456789012"  # an Aadhaar number is 11 digits and a Verhoeff check digit
>>> aadhaar = next(base + d for d in "0123456789" if verhoeff_valid(base + d))
>>> spaced = f"{aadhaar[:4]} {aadhaar[4:8]} {aadhaar[8:]}"
>>> mask(f"My Aadhaar {spaced} is not linked, call me on +91 98200 12345")
'My Aadhaar [aadhaar] is not linked, call me on [phone]'
>>> mask("माझा ईमेल nagrik.thane@example.com आणि पॅन ABCDE1234F आहे")
'माझा ईमेल [email] आणि पॅन [pan] आहे'
>>> mask("गाडी क्र. MH-04-AB-1234, मोबाइल ९८२०० १२३४५")
'गाडी क्र. [vehicle], मोबाइल [phone]'
>>> [(f.kind, f.start, f.end) for f in find_personal_data("PAN abcde1234f")]
[('pan', 4, 14)]

What is kept as typed: dates (12/03/2026, १२ मार्च २०२६), amounts (₹ 1,20,000, Rs. 5000),
times, years, ward and article numbers, landlines and helplines (022-2536 4410, 1800 222 108,
155304, 100, 112), and 12-digit numbers whose last digit is not their Verhoeff check digit:

>>> mask("Helpline 022-2536 4410 or 1800 222 108; ward 12; bill ₹ 1,20,000 due 12/03/2026")
'Helpline 022-2536 4410 or 1800 222 108; ward 12; bill ₹ 1,20,000 due 12/03/2026'
>>> mask(base + "0") == base + "0" and not verhoeff_valid(base + "0")  # fails the check
True

What it does NOT catch: names, addresses, property / consumer / account numbers (a 10-digit
one that starts with 6-9 is masked as a phone number, a Verhoeff-valid 12-digit one as an
Aadhaar number), numbers spelled out in words ("nine eight two…"), e-mail addresses written
as "name at gmail dot com", vehicle numbers in Devanagari letters (एमएच ०४), and numbers
broken up in unusual ways (98 20 01 23 45). Masking is a safety net, not anonymisation.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Literal

PersonalDataKind = Literal["aadhaar", "phone", "email", "pan", "vehicle"]


@dataclass(frozen=True)
class Found:
    """One piece of personal data: what it is and where (``text[start:end]``)."""

    kind: PersonalDataKind
    start: int
    end: int


# --- Verhoeff (the check digit of Aadhaar numbers) -------------------------------------------

_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0),
    (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5),
    (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)
_ASCII_DIGITS = str.maketrans("०१२३४५६७८९", "0123456789")


def verhoeff_valid(digits: str) -> bool:
    """Whether ``digits`` (ASCII or Devanagari; spaces and hyphens ignored) end in their
    Verhoeff check digit.

    >>> verhoeff_valid("2363"), verhoeff_valid("2364"), verhoeff_valid("२३६३"), verhoeff_valid("")
    (True, False, True, False)
    """
    plain = re.sub(r"[ \u00a0-]", "", digits).translate(_ASCII_DIGITS)
    if not plain or not plain.isascii() or not plain.isdigit():
        return False
    check = 0
    for position, digit in enumerate(reversed(plain)):
        check = _D[check][_P[position % 8][int(digit)]]
    return check == 0


# --- Patterns -------------------------------------------------------------------------------

DIGIT = "[0-9\u0966-\u096f]"  # ASCII or Devanagari
# Between digit groups: a space, or a hyphen / dash (with or without spaces around it).
SEP = "(?:[ \u00a0\u202f]?[-\u2010-\u2013][ \u00a0\u202f]?|[ \u00a0\u202f])"
# Not the tail or head of a longer number (a digit, or a digit joined by a hyphen or point).
NOT_AFTER_DIGIT = f"(?<!{DIGIT})(?<!{DIGIT}[-.\u2010-\u2013])"
NOT_BEFORE_DIGIT = f"(?![-.\u2010-\u2013]?{DIGIT})"

_AADHAAR = re.compile(
    rf"{NOT_AFTER_DIGIT}[2-9\u0968-\u096f]{DIGIT}{{3}}{SEP}?{DIGIT}{{4}}{SEP}?{DIGIT}{{4}}"
    rf"{NOT_BEFORE_DIGIT}"
)
_MOBILE_BODY = (
    f"[6-9\u096c-\u096f](?:{DIGIT}{{9}}|{DIGIT}{{4}}{SEP}{DIGIT}{{5}}"
    f"|{DIGIT}{{2}}{SEP}{DIGIT}{{3}}{SEP}{DIGIT}{{4}}|{DIGIT}{{3}}{SEP}{DIGIT}{{3}}{SEP}{DIGIT}{{3}}"
    f"|{DIGIT}{{3}}{SEP}{DIGIT}{{6}})"
)
_PHONE = re.compile(
    rf"{NOT_AFTER_DIGIT}(?:(?:\+[ \u00a0]?)?[9\u096f][1\u0967]{SEP}?|[0\u0966]{SEP}?)?"
    rf"{_MOBILE_BODY}{NOT_BEFORE_DIGIT}"
)
# The local part starts where its run of characters starts: the same matches, in linear time.
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}", re.ASCII
)
_PAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{5}[0-9]{4}[A-Z](?![A-Za-z0-9])", re.ASCII | re.I)

# The state and union territory codes of registration numbers (old and new: OR / OD, UA / UK).
STATE_CODES = (
    "AN", "AP", "AR", "AS", "BR", "CG", "CH", "DD", "DL", "DN", "GA", "GJ", "HP", "HR", "JH",
    "JK", "KA", "KL", "LA", "LD", "MH", "ML", "MN", "MP", "MZ", "NL", "OD", "OR", "PB", "PY",
    "RJ", "SK", "TG", "TN", "TR", "TS", "UA", "UK", "UP", "WB",
)  # fmt: skip
# State codes that are also English or romanized Marathi words: lower-case and spaced out
# ("one or 2 in 2026", "ka 2 ..."), they are words, not a vehicle number.
_WORDLIKE_STATES = frozenset({"an", "as", "or", "up", "ga", "ka", "la"})
_PLATE_SEP = "[ \u00a0-]?"
_NOT_ALNUM_BEFORE = "(?<![A-Za-z0-9\u0966-\u096f])"
_NOT_ALNUM_AFTER = "(?![A-Za-z0-9\u0966-\u096f])"
_VEHICLE = re.compile(
    rf"{_NOT_ALNUM_BEFORE}(?:(?P<state>{'|'.join(STATE_CODES)}){_PLATE_SEP}{DIGIT}{{1,2}}"
    rf"{_PLATE_SEP}[A-Z]{{1,3}}{_PLATE_SEP}{DIGIT}{{1,4}}"
    rf"|{DIGIT}{{2}}{_PLATE_SEP}BH{_PLATE_SEP}{DIGIT}{{4}}{_PLATE_SEP}[A-Z]{{1,2}})"
    rf"{_NOT_ALNUM_AFTER}",
    re.ASCII | re.I,
)
# An amount, not a number to mask: "₹ 9820012345", "Rs. 700000000000".
_CURRENCY_BEFORE = re.compile(r"(?:₹|\brs\.?|\binr|रु\.?|रुपये)\s*$", re.I)

# On the same start, the first of these wins (a Verhoeff-valid 91… is an Aadhaar number).
_PRIORITY: tuple[PersonalDataKind, ...] = ("email", "aadhaar", "phone", "pan", "vehicle")


def _aadhaar_shaped(number: str) -> bool:
    """Verhoeff-valid, and not three years in a row ("2023 2024 2025")."""
    groups = re.split(SEP, number.translate(_ASCII_DIGITS))
    if len(groups) == 3 and all(g.startswith(("19", "20")) for g in groups):
        return False
    return verhoeff_valid(number)


def _candidates(text: str) -> list[Found]:
    found: list[Found] = []
    for match in _EMAIL.finditer(text):
        found.append(Found("email", match.start(), match.end()))
    numbers: tuple[tuple[PersonalDataKind, re.Pattern[str]], ...] = (
        ("aadhaar", _AADHAAR),
        ("phone", _PHONE),
    )
    for kind, pattern in numbers:
        for match in pattern.finditer(text):
            if _CURRENCY_BEFORE.search(text, max(0, match.start() - 8), match.start()):
                continue
            if kind == "aadhaar" and not _aadhaar_shaped(match.group()):
                continue
            found.append(Found(kind, match.start(), match.end()))
    for match in _PAN.finditer(text):
        found.append(Found("pan", match.start(), match.end()))
    for match in _VEHICLE.finditer(text):
        state = match.group("state")
        plate = match.group()
        if state and state.lower() in _WORDLIKE_STATES and " " in plate and not plate.isupper():
            continue
        found.append(Found("vehicle", match.start(), match.end()))
    return found


def find_personal_data(text: str) -> list[Found]:
    """The personal data in ``text``: non-overlapping, in order. Where two findings overlap
    they become one, of the kind of the one that starts first (the longer on the same start).

    >>> find_personal_data("write to a.b@example.org today")
    [Found(kind='email', start=9, end=24)]
    """
    order = {kind: rank for rank, kind in enumerate(_PRIORITY)}
    ranked = sorted(_candidates(text), key=lambda f: (f.start, f.start - f.end, order[f.kind]))
    merged: list[Found] = []
    for found in ranked:
        if merged and found.start < merged[-1].end:
            last = merged[-1]
            if found.end > last.end:
                merged[-1] = Found(last.kind, last.start, found.end)
            continue
        merged.append(found)
    return merged


def _mask_once(text: str, found: list[Found]) -> str:
    parts: list[str] = []
    position = 0
    for item in found:
        parts += [text[position : item.start], f"[{item.kind}]"]
        position = item.end
    parts.append(text[position:])
    return "".join(parts)


def mask(text: str) -> str:
    """``text`` with each piece of personal data replaced by ``[kind]``; idempotent.

    Masking again until nothing is found keeps ``mask(mask(t)) == mask(t)`` even when taking
    one value out leaves another whole; it ends because every finding holds a digit or an
    ``@`` and a placeholder holds neither.

    >>> mask("no personal data here: ward 12, 10 टक्के")
    'no personal data here: ward 12, 10 टक्के'
    """
    while found := find_personal_data(text):
        text = _mask_once(text, found)
    return text


class PersonalDataFilter(logging.Filter):
    """Mask personal data in log records: the message (with its arguments merged in), the
    formatted traceback and the stack; put it on a handler so every record it writes is masked.

    >>> import io
    >>> stream = io.StringIO()
    >>> handler = logging.StreamHandler(stream)
    >>> handler.addFilter(PersonalDataFilter())
    >>> demo = logging.getLogger("samvad.privacy.demo")
    >>> demo.addHandler(handler)
    >>> demo.warning("question: %s", "call 9820012345")
    >>> demo.removeHandler(handler)
    >>> stream.getvalue()
    'question: call [phone]\\n'
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep what we can, masked
            message = f"{record.msg} {record.args}"
        record.msg, record.args = mask(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        if record.stack_info:
            record.stack_info = mask(record.stack_info)
        return True


# What a question needs: a few hundred characters. More is cut (and the citizen told), so a
# pasted text costs what a question costs in Rasa's NLU, the embedding and the logs.
MAX_MESSAGE_CHARS = 500


@dataclass(frozen=True)
class Accepted:
    """What Samvad keeps of a message: ``text`` masked and at most :data:`MAX_MESSAGE_CHARS`
    long; ``cut`` when the rest was left out."""

    text: str
    cut: bool = False


def accept(text: str, limit: int = MAX_MESSAGE_CHARS) -> Accepted:
    """Mask ``text`` and keep at most ``limit`` characters of it, cut between words.

    Only a bounded head is ever read, whatever the message's length.

    >>> accept("pani kadhi yenar? call 9820012345")
    Accepted(text='pani kadhi yenar? call [phone]', cut=False)
    >>> long = accept("पाणी " * 300)
    >>> long.cut, len(long.text) <= MAX_MESSAGE_CHARS, long.text.endswith("पाणी")
    (True, True, True)
    """
    head = mask(text[: 2 * limit])
    if len(head) <= limit and len(text) <= 2 * limit:
        return Accepted(head)
    kept = head[: limit + 1]
    space = kept.rfind(" ")
    kept = kept[:space] if space > limit // 2 else kept[:limit]
    return Accepted(mask(kept.rstrip()), cut=True)
