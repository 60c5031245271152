"""Personal data is masked (``samvad.privacy``): what is found, what is kept, the log filter.

Fast: no model, no servers. Marathi and English messages side by side; property-based tests
(hypothesis) for the masking's invariants.
"""

from __future__ import annotations

import ast
import io
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bot.logs import configure_logging
from samvad import PersonalDataFilter, find_personal_data, mask, privacy
from samvad.privacy import Found, verhoeff_valid

ROOT = Path(__file__).resolve().parents[1]
TO_DEVANAGARI = str.maketrans("0123456789", "०१२३४५६७८९")
PLACEHOLDERS = ("[aadhaar]", "[phone]", "[email]", "[pan]", "[vehicle]")


def with_check_digit(first_eleven: str) -> str:
    """``first_eleven`` and the one digit that makes it Verhoeff-valid."""
    (number,) = [first_eleven + d for d in "0123456789" if verhoeff_valid(first_eleven + d)]
    return number


def spaced(number: str, sep: str = " ") -> str:
    return sep.join([number[:4], number[4:8], number[8:]])


def devanagari(text: str) -> str:
    return text.translate(TO_DEVANAGARI)


AADHAAR = with_check_digit("23456789012")  # 234567890124
AADHAAR_2 = with_check_digit("49876543210")
INVALID_AADHAAR = AADHAAR[:-1] + str((int(AADHAAR[-1]) + 1) % 10)


# (message, the personal data in it, its kind); English and Marathi side by side.
FOUND = [
    # Aadhaar
    (f"my Aadhaar {spaced(AADHAAR)} is not linked", spaced(AADHAAR), "aadhaar"),
    (f"माझा आधार {spaced(AADHAAR)} लिंक झालेला नाही", spaced(AADHAAR), "aadhaar"),
    (f"Aadhaar no. {AADHAAR}", AADHAAR, "aadhaar"),
    (f"आधार क्रमांक {AADHAAR} आहे", AADHAAR, "aadhaar"),
    (f"{spaced(AADHAAR_2, '-')} is my Aadhaar", spaced(AADHAAR_2, "-"), "aadhaar"),
    (f"{spaced(AADHAAR_2, '-')} हा माझा आधार", spaced(AADHAAR_2, "-"), "aadhaar"),
    (f"Aadhaar ({devanagari(spaced(AADHAAR))}).", devanagari(spaced(AADHAAR)), "aadhaar"),
    (f"आधार: {devanagari(AADHAAR)}.", devanagari(AADHAAR), "aadhaar"),
    (f"Aadhaar:{AADHAAR}, please check", AADHAAR, "aadhaar"),
    (f"आधार{AADHAAR_2}?", AADHAAR_2, "aadhaar"),
    # mobile numbers
    ("call me on 98200 12345", "98200 12345", "phone"),
    ("मला 98200 12345 वर फोन करा", "98200 12345", "phone"),
    ("my number is +91 98200 12345.", "+91 98200 12345", "phone"),
    ("माझा नंबर +91-9820012345 आहे", "+91-9820012345", "phone"),
    ("+919820012345 is on WhatsApp", "+919820012345", "phone"),
    ("+919820012345 वर व्हॉट्सॲप करा", "+919820012345", "phone"),
    ("mobile 09820012345", "09820012345", "phone"),
    ("मोबाइल 0 98200 12345", "0 98200 12345", "phone"),
    ("ring 91 7045 612 345!", "91 7045 612 345", "phone"),
    ("फोन ७०४५६१२३४५", "७०४५६१२३४५", "phone"),
    ("call +९१ ९८२०० १२३४५ today", "+९१ ९८२०० १२३४५", "phone"),
    ("नंबर: 982-001-2345;", "982-001-2345", "phone"),
    ("(6123456789) is my other phone", "6123456789", "phone"),
    ("दुसरा फोन (6123456789) आहे", "6123456789", "phone"),
    ("on 12/03/2026 8655443322 called", "8655443322", "phone"),
    # e-mail
    ("write to nagrik.thane+tax@example.co.in please", "nagrik.thane+tax@example.co.in", "email"),
    ("माझा ईमेल nagrik.thane@example.com आहे", "nagrik.thane@example.com", "email"),
    ("E-mail: Rahul_P99@Example.org.", "Rahul_P99@Example.org", "email"),
    ("ईमेलrahul@example.org", "rahul@example.org", "email"),
    # PAN
    ("my PAN is ABCDE1234F", "ABCDE1234F", "pan"),
    ("माझा पॅन abcde1234f आहे", "abcde1234f", "pan"),
    ("PAN:AAAPL1234C.", "AAAPL1234C", "pan"),
    ("पॅन (AAAPL1234C)", "AAAPL1234C", "pan"),
    # vehicle registration
    ("my car MH 04 AB 1234 was towed", "MH 04 AB 1234", "vehicle"),
    ("माझी गाडी MH04AB1234 उचलली", "MH04AB1234", "vehicle"),
    ("bike MH-04-AB-1234, Thane", "MH-04-AB-1234", "vehicle"),
    ("रिक्षा MH 4 A 123 ची तक्रार", "MH 4 A 123", "vehicle"),
    ("BH series 22 BH 1234 AA", "22 BH 1234 AA", "vehicle"),
    ("गाडी क्र. mh04ab1234.", "mh04ab1234", "vehicle"),
    ("scooter mh 05 cd 987", "mh 05 cd 987", "vehicle"),
]


@pytest.mark.parametrize(("message", "value", "kind"), FOUND, ids=lambda v: str(v)[:24])
def test_each_kind_is_found_and_masked(message: str, value: str, kind: str) -> None:
    start = message.index(value)
    assert find_personal_data(message) == [Found(kind, start, start + len(value))]  # type: ignore[arg-type]
    assert mask(message) == message.replace(value, f"[{kind}]")


@pytest.mark.parametrize(
    ("message", "masked"),
    [
        (
            f"Aadhaar {spaced(AADHAAR)}, mobile 98200 12345, mail a.b@example.com",
            "Aadhaar [aadhaar], mobile [phone], mail [email]",
        ),
        (
            f"आधार {devanagari(AADHAAR)} आणि मोबाइल ९८२०० १२३४५ आणि पॅन ABCDE1234F",
            "आधार [aadhaar] आणि मोबाइल [phone] आणि पॅन [pan]",
        ),
        ("9820012345,9876543210", "[phone],[phone]"),
        ("98200 12345 / 98201 12345", "[phone] / [phone]"),
        ("mh04ab1234@example.com", "[email]"),  # one finding where two overlap
    ],
)
def test_several_in_one_message(message: str, masked: str) -> None:
    assert mask(message) == masked


KEPT = [
    # dates and times
    "the bill is due on 12/03/2026",
    "बिल 12/03/2026 पर्यंत भरा",
    "meeting on 2026-03-12 at 10:30",
    "सभा १२ मार्च २०२६ रोजी सकाळी १०:३० वाजता",
    "from 12-03-2026 to 15-03-2026",
    "open 9 am to 5 pm, 10.30 to 17.30",
    # amounts and percentages
    "property tax ₹ 1,20,000",
    "मालमत्ता कर ₹ 1,20,000 आहे",
    "fine Rs. 5000",
    "दंड रु. 5000",
    "10 टक्के सूट",
    "a 10% rebate on ₹9820012345",
    "Rs 7000000000 for the project",
    # helplines, landlines, emergency numbers
    "call the helpline 022-2536 4410",
    "हेल्पलाइन 022-2536 4410 वर फोन करा",
    "toll-free 1800 222 108",
    "टोल फ्री 1800-222-108",
    "dial 155304",
    "पोलीस 100, रुग्णवाहिका 108, आपत्कालीन 112",
    "landline 022 25364410",
    "Pune office 020-26123456",
    # years, wards, articles, sections, counts
    "in 2026 the ward 12 office moved",
    "प्रभाग क्र. 12 मध्ये 2026 साली",
    "Article 243 and section 144",
    "कलम 144 लागू",
    "the tax for 2023 2024 2025 is due",  # three years, though Verhoeff-valid
    "one or 2 in 2026",
    "same as 12 of 2026",
    "up 2 to 100 people",
    "12345 people, 1,00,000 trees",
    # numbers that are neither
    f"consumer number {INVALID_AADHAAR}",  # 12 digits, fails the Verhoeff check
    f"ग्राहक क्रमांक {devanagari(INVALID_AADHAAR)}",
    f"ref {spaced(INVALID_AADHAAR)}",
    "ticket 5820012345",  # 10 digits not starting 6-9
    "12345 678901",
    "no personal data: [phone] [aadhaar]",
    "",
]


@pytest.mark.parametrize("message", KEPT, ids=lambda v: v[:24])
def test_what_is_not_personal_data_is_kept(message: str) -> None:
    assert find_personal_data(message) == []
    assert mask(message) == message


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("2363", True),  # the textbook example
        ("2364", False),
        ("२३६३", True),
        (AADHAAR, True),
        (spaced(AADHAAR), True),
        (devanagari(AADHAAR), True),
        (INVALID_AADHAAR, False),
        ("", False),
        ("12a4", False),
        ("0", True),
    ],
)
def test_verhoeff(number: str, valid: bool) -> None:
    assert verhoeff_valid(number) is valid


def test_an_aadhaar_number_never_starts_with_0_or_1() -> None:
    for first in "01":
        number = with_check_digit(first + AADHAAR[1:11])
        assert mask(f"Aadhaar {number}") == f"Aadhaar {number}"


@pytest.mark.parametrize(
    "message",
    [
        f"Aadhaar {spaced(AADHAAR)} and 98200 12345 and a@b.co",
        "[phone]98200 12345",
        "a@b.cd@e.fg",
        "9820012345-9820012345",
        "mh04ab1234 ABCDE1234F 22 BH 1234 AA",
    ],
)
def test_masking_is_idempotent(message: str) -> None:
    once = mask(message)
    assert mask(once) == once


# --- property-based tests -------------------------------------------------------------------

SEPARATORS = st.sampled_from([" ", "-", " - ", "\u00a0"])
DIGITS = st.sampled_from(["ascii", "devanagari"])
# Around a value: any text without digits or "@" (it would be more data, or glue to the value).
AROUND = st.text(
    alphabet=st.characters(exclude_categories=("Nd", "Cs"), exclude_characters="@"),
    max_size=30,
)
DEVANAGARI = st.characters(min_codepoint=0x0900, max_codepoint=0x097F)
# Zero-width space / non-joiner / joiner, right-to-left mark and override, BOM, Arabic letters.
INVISIBLE_AND_RTL = st.sampled_from(["\u200b", "\u200c", "\u200d", "\u200f", "\u202e", "\ufeff"])
DENSE = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("0123456789" + devanagari("0123456789") + " -.+@_abcmhMHBHxyz₹[]")),
        DEVANAGARI,
        INVISIBLE_AND_RTL,
        st.characters(min_codepoint=0x0600, max_codepoint=0x06FF),
    ),
    max_size=60,
)
BOUNDED = settings(max_examples=150, deadline=None)


def _in_script(number: str, script: str) -> str:
    return devanagari(number) if script == "devanagari" else number


@st.composite
def aadhaar_numbers(draw: st.DrawFn) -> str:
    first = draw(st.sampled_from("23456789"))
    rest = draw(st.text(alphabet="0123456789", min_size=10, max_size=10))
    number = with_check_digit(first + rest)
    groups = [number[:4], number[4:8], number[8:]]
    assume(not all(g.startswith(("19", "20")) for g in groups))  # three years: kept
    sep = draw(st.one_of(st.just(""), SEPARATORS))
    return _in_script(sep.join(groups), draw(DIGITS))


@st.composite
def mobile_numbers(draw: st.DrawFn) -> str:
    first = draw(st.sampled_from("6789"))
    body = first + draw(st.text(alphabet="0123456789", min_size=9, max_size=9))
    sizes = draw(st.sampled_from([(10,), (5, 5), (3, 3, 4), (4, 3, 3), (4, 6)]))
    sep = draw(SEPARATORS)
    groups, position = [], 0
    for size in sizes:
        groups.append(body[position : position + size])
        position += size
    prefix = draw(st.sampled_from(["", "+91 ", "+91", "+91-", "91", "91 ", "0", "0 "]))
    return _in_script(prefix + sep.join(groups), draw(DIGITS))


LOCAL = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABC0123456789._+-", min_size=1, max_size=20)
LABEL = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=10)
TLD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=6)
EMAILS = st.builds(
    lambda local, labels, tld: f"{local}@{'.'.join(labels)}.{tld}",
    LOCAL,
    st.lists(LABEL, min_size=1, max_size=3),
    TLD,
)


@BOUNDED
@given(before=AROUND, value=st.one_of(aadhaar_numbers(), mobile_numbers(), EMAILS), after=AROUND)
def test_mask_removes_the_value_and_keeps_the_text_around_it(
    before: str, value: str, after: str
) -> None:
    # ": " before the value: it is no amount ("Rs 9820012345") and no "+" joins it.
    left, right = before + ": ", " " + after
    masked = mask(left + value + right)
    assert masked.startswith(left) and masked.endswith(right)
    assert masked[len(left) : len(masked) - len(right)] in PLACEHOLDERS
    assert value not in masked


@BOUNDED
@given(st.one_of(st.text(), DENSE))
def test_mask_is_idempotent_on_any_text(text: str) -> None:
    once = mask(text)
    assert mask(once) == once


@BOUNDED
@given(st.one_of(st.text(), DENSE))
def test_findings_are_in_bounds_in_order_and_do_not_overlap(text: str) -> None:
    found = find_personal_data(text)
    end = 0
    for item in found:
        assert end <= item.start < item.end <= len(text)
        end = item.end


@BOUNDED
@given(aadhaar_numbers())
def test_changing_one_digit_of_an_aadhaar_number_fails_the_check(number: str) -> None:
    plain = "".join(c for c in number if c.isdigit())
    for position, digit in enumerate(plain.translate(str.maketrans("०१२३४५६७८९", "0123456789"))):
        changed = list(plain)
        changed[position] = str((int(digit) + 1) % 10)
        assert not verhoeff_valid("".join(changed))


# --- logs -----------------------------------------------------------------------------------


def _logged(*args: object, exc: BaseException | None = None) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(PersonalDataFilter())
    log = logging.getLogger("tests.privacy")
    log.addHandler(handler)
    log.propagate = False
    try:
        if exc is None:
            log.warning(*args)
        else:
            try:
                raise exc
            except BaseException:
                log.exception(*args)
    finally:
        log.removeHandler(handler)
        log.propagate = True
    return stream.getvalue()


def test_the_log_filter_masks_message_arguments() -> None:
    line = _logged("question from %s: %s", "u1", f"आधार {spaced(AADHAAR)}, फोन 98200 12345")
    assert line == "question from u1: आधार [aadhaar], फोन [phone]\n"
    assert _logged("%(q)s", {"q": "mail a.b@example.com"}) == "mail [email]\n"


def test_the_log_filter_masks_the_traceback() -> None:
    text = _logged("engine failed", exc=ValueError(f"bad question: PAN ABCDE1234F, {AADHAAR}"))
    assert "ValueError: bad question: PAN [pan], [aadhaar]" in text
    assert "ABCDE1234F" not in text and AADHAAR not in text


def test_the_log_filter_masks_exc_text_already_formatted() -> None:
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "call %s", ("9820012345",), None)
    record.exc_text = "Traceback …\nKeyError: 'a.b@example.com'"
    assert PersonalDataFilter().filter(record)
    assert record.getMessage() == "call [phone]"
    assert record.exc_text == "Traceback …\nKeyError: '[email]'"


def test_the_bots_logging_masks_and_still_redacts_the_token() -> None:
    root = logging.getLogger()
    saved, level = list(root.handlers), root.level
    token = "7700123456:AAE-samvad-unit-test-token-Q1w2E3r4T5y6U7i8"
    try:
        configure_logging("INFO", [token])
        (handler,) = root.handlers
        assert any(isinstance(f, PersonalDataFilter) for f in handler.filters)
        stream = io.StringIO()
        handler.setStream(stream)  # type: ignore[attr-defined]
        logging.getLogger("bot.test").info("update %s via %s", "call 9820012345", token)
        line = stream.getvalue()
        assert "call [phone] via [REDACTED]" in line and "9820012345" not in line
        assert "AAE-samvad" not in line
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved:
            root.addHandler(handler)
        root.setLevel(level)


def test_the_action_servers_logs_are_masked_even_where_logging_is_not_configured() -> None:
    """Like rasa-sdk's Sanic worker: nothing configured, so warnings go to logging.lastResort."""
    script = (
        "import logging\n"
        "import actions.actions\n"
        "log = logging.getLogger('actions.actions')\n"
        "log.warning('asked: %s', 'call 9820012345')\n"
        "try:\n"
        "    raise RuntimeError('mail a.b@example.com')\n"
        "except RuntimeError:\n"
        "    log.exception('engine failed')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "asked: call [phone]" in done.stderr
    assert "RuntimeError: mail [email]" in done.stderr
    assert "9820012345" not in done.stderr and "a.b@example.com" not in done.stderr


def test_the_privacy_module_needs_only_the_standard_library() -> None:
    """Rasa's input channel (``connectors/masked_rest.py``) loads it in Rasa's environment,
    which has none of the engine's dependencies."""
    source = Path(privacy.__file__).read_text(encoding="utf-8")
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert imported - {"__future__"} <= sys.stdlib_module_names


@pytest.mark.parametrize(
    ("text", "cut"),
    [
        ("घोडबंदरला पाणी कधी येणार? माझा नंबर ९८२०० १२३४५", False),
        ("When will water come? call 98200 12345", False),
        ("पाणी कधी येणार? " * 200, True),
        ("When will water come? " * 200 + "call 98200 12345", True),
        ("x" * 100_000, True),
    ],
)
def test_accept_masks_and_caps(text: str, cut: bool) -> None:
    accepted = privacy.accept(text)
    assert accepted.cut == cut
    assert len(accepted.text) <= privacy.MAX_MESSAGE_CHARS
    assert "12345" not in accepted.text and "१२३४५" not in accepted.text
