"""Property-based tests of every input check and of questionnaire scoring: whatever a user
types (any Unicode, any size, any number) gets a clear verdict and never a crash."""

import math
import re
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from clinical import instruments
from data_layer import mood
from data_layer.core import db, validation
from data_layer.core.validation import InvalidInput
from tests.conftest import add_user

SETTINGS = settings(
    max_examples=120, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# What a browser can send: any Unicode scalar value (lone surrogates cannot travel as UTF-8).
any_char = st.characters(codec="utf-8")
any_text = st.text(any_char, max_size=300)
awkward_text = st.sampled_from(
    [
        "",
        " ",
        "\t\n",
        "\x00",
        "\u200b",
        "\u202eevil",
        "e\u0301",
        "👍🏽",
        "👨\u200d👩\u200d👧",
        "ǅ",
        "İ",
        "ß",
        "\U0010ffff",
        "Robert'); DROP TABLE users;--",
        "<script>alert(1)</script>",
    ]
)
text_inputs = any_text | awkward_text | st.lists(awkward_text, max_size=20).map("".join)


def long_text(min_size, max_size):
    """Text of a length in [min_size, max_size]: a random piece of Unicode repeated (cheap to draw)."""
    return st.tuples(st.text(any_char, min_size=1, max_size=40), st.integers(min_size, max_size)).map(
        lambda piece_length: (piece_length[0] * (piece_length[1] // len(piece_length[0]) + 1))[: piece_length[1]]
    )


USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{2,39}")


def is_message(value):
    return isinstance(value, str) and value.strip() != "" and value.endswith(".")


# ---------------------------------------------------------------- usernames, names, passwords


@SETTINGS
@given(text_inputs | st.from_regex(USERNAME, fullmatch=True) | st.none())
@example("abc")
@example("ab")
@example("a" * 40)
@example("a" * 41)
@example(".abc")
@example("ABC")
def test_a_username_is_accepted_exactly_when_it_follows_the_rule(username):
    message = validation.check_username(username)
    assert (message is None) == bool(username and USERNAME.fullmatch(username))
    assert message is None or is_message(message)


def test_a_username_with_a_trailing_newline_is_refused():
    assert validation.check_username("abc\n") is not None


@SETTINGS
@given(text_inputs | long_text(190, 260) | st.none())
@example("x" * 200)
@example("x" * 201)
@example("  ")
def test_a_display_name_is_accepted_when_not_blank_and_at_most_200_characters(name):
    message = validation.check_display_name(name)
    assert (message is None) == (bool((name or "").strip()) and len(name) <= validation.MAX_NAME_LENGTH)
    assert message is None or is_message(message)


@SETTINGS
@given(text_inputs | st.text(any_char, min_size=8, max_size=80) | st.none())
@example("a" * 10)
@example("a" * 9)
@example("a" * 72)
@example("a" * 73)
@example("é" * 36)  # 72 bytes
@example("é" * 37)  # 74 bytes
@example("🙂" * 19)  # 19 characters, 76 bytes: longer than bcrypt reads
def test_a_password_is_accepted_from_10_characters_up_to_72_bytes(password):
    message = validation.check_password(password)
    text = password or ""
    assert (message is None) == (
        len(text) >= validation.MIN_PASSWORD_LENGTH and len(text.encode()) <= validation.MAX_PASSWORD_BYTES
    )
    assert message is None or is_message(message)


# ---------------------------------------------------------------- dates

near_today = st.integers(-40, 40)


@SETTINGS
@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)),
    st.one_of(near_today.map(lambda days: timedelta(days=days)), st.dates().map(lambda d: d - date(2000, 1, 1))),
)
def test_an_entry_date_is_accepted_from_7_days_back_to_today(today, offset):
    try:
        entry_date = today + offset
    except OverflowError:
        assume(False)
    message = validation.check_entry_date(entry_date, today)
    days_back = (today - entry_date).days
    assert (message is None) == (0 <= days_back <= validation.DAYS_BACK_ALLOWED)
    if days_back < 0:
        assert "future" in message
    elif days_back > validation.DAYS_BACK_ALLOWED:
        assert "7 days back" in message


def test_a_missing_entry_date_is_refused():
    assert validation.check_entry_date(None, date.today()) == "Choose a date."


# ---------------------------------------------------------------- notes


@SETTINGS
@given(text_inputs | long_text(1990, 2000) | st.none())
@example("x" * 2000)
@example("🙂" * 2000)
@example("e\u0301" * 1000)
def test_any_text_up_to_2000_characters_is_an_accepted_note(note):
    assert validation.check_note(note) is None


@SETTINGS
@given(long_text(2001, 5000))
@example("x" * 2001)
def test_any_longer_note_is_refused_with_its_length(note):
    message = validation.check_note(note)
    assert is_message(message)
    assert "2,000" in message and f"{len(note):,}" in message


@pytest.fixture(scope="module")
def mood_client():
    """An in-memory database and a client, to check that the database agrees with the checks."""
    conn = db.connect(":memory:")
    cur = conn.cursor()
    yield cur, add_user(cur, "unicode.client", "Ünïcode Client 🙂", "client")
    conn.close()


@pytest.mark.slow
@SETTINGS
@given(note=text_inputs | long_text(1995, 2005))
@example(note="🙂" * 2000)
@example(note="\x00")
def test_a_note_the_check_accepts_is_stored_verbatim_and_a_refused_one_not_at_all(mood_client, note):
    cur, client = mood_client
    (before,) = cur.execute("SELECT count(*) FROM mood_logs").fetchall()[0]
    if validation.check_note(note) is None:
        log_id = mood.log_mood(cur, client, log_date=date.today(), mood=5, note=note)
        stored = cur.execute("SELECT note FROM mood_logs WHERE id = ?", [log_id]).fetchall()
        assert stored == [(note or None,)]
    else:
        with pytest.raises(InvalidInput) as refused:
            mood.log_mood(cur, client, log_date=date.today(), mood=5, note=note)
        assert set(refused.value.errors) == {"note"}
        assert cur.execute("SELECT count(*) FROM mood_logs").fetchall() == [(before,)]


# ---------------------------------------------------------------- whole numbers

ranges = st.tuples(st.integers(-1000, 1000), st.integers(0, 1000)).map(lambda r: (r[0], r[0] + r[1]))


@SETTINGS
@given(ranges, st.integers())
@example((0, 10), 11)
@example((0, 10), -1)
@example((1, 5), 2**63)
def test_a_whole_number_is_accepted_exactly_inside_its_range(bounds, value):
    low, high = bounds
    message = validation.check_whole_number(value, low, high, "Mood")
    if low <= value <= high:
        assert message is None
    else:
        assert message == f"Mood is a whole number from {low} to {high}."


@SETTINGS
@given(ranges, st.floats(allow_nan=True, allow_infinity=True))
@example((0, 10), 5.0)
@example((0, 10), 5.5)
@example((0, 10), math.nan)
@example((0, 10), math.inf)
@example((0, 10), -0.0)
def test_a_fraction_or_a_non_number_is_refused(bounds, value):
    low, high = bounds
    message = validation.check_whole_number(value, low, high, "Minutes")
    if math.isfinite(value) and value.is_integer() and low <= value <= high:
        assert message is None
    else:
        assert message == f"Minutes is a whole number from {low} to {high}."


@pytest.mark.parametrize("value", [True, False])
def test_a_yes_or_no_is_not_a_number(value):
    assert validation.check_whole_number(value, 0, 10, "Mood") is not None


def test_nothing_entered_is_no_error():
    assert validation.check_whole_number(None, 0, 10, "Mood") is None


def test_an_integer_too_large_for_a_float_is_refused_with_the_message():
    assert validation.check_whole_number(10**400, 0, 10, "Mood") is not None


# ---------------------------------------------------------------- questionnaires


def complete_answers(instrument):
    n = len(instruments.ITEMS[instrument])
    return st.lists(st.integers(0, 3), min_size=n, max_size=n)


valid_questionnaires = st.sampled_from(sorted(instruments.ITEMS)).flatmap(
    lambda name: st.tuples(st.just(name), complete_answers(name))
)


def expected_band(instrument, total):
    return [name for lowest, name in instruments.BANDS[instrument] if total >= lowest][-1]


@SETTINGS
@given(valid_questionnaires)
def test_every_complete_questionnaire_has_a_total_and_a_band(questionnaire):
    instrument, answers = questionnaire
    total = instruments.score(instrument, answers)
    assert total == sum(answers) and 0 <= total <= instruments.MAX_TOTAL[instrument]
    assert instruments.band(instrument, total) == expected_band(instrument, total)


@SETTINGS
@given(st.sampled_from(sorted(instruments.ITEMS)), st.integers(0, 27))
def test_every_total_in_range_has_its_band(instrument, total):
    assume(total <= instruments.MAX_TOTAL[instrument])
    band = instruments.band(instrument, total)
    assert band == expected_band(instrument, total)
    assert band in {name for _, name in instruments.BANDS[instrument]}


@SETTINGS
@given(st.sampled_from(sorted(instruments.ITEMS)), st.integers())
def test_a_total_out_of_range_is_refused(instrument, total):
    assume(not 0 <= total <= instruments.MAX_TOTAL[instrument])
    with pytest.raises(ValueError, match="total is between 0 and"):
        instruments.band(instrument, total)


def spoiled(instrument):
    """Answers that are not a complete set of 0-3: a wrong length, a gap, or a bad answer."""
    n = len(instruments.ITEMS[instrument])
    bad_answer = (
        st.integers().filter(lambda a: a not in instruments.ANSWERS)
        | st.floats(allow_nan=True).filter(lambda a: a not in instruments.ANSWERS)
        | st.none()
        | text_inputs
    )
    wrong_length = st.lists(st.integers(0, 3), max_size=12).filter(lambda answers: len(answers) != n)
    one_bad = st.tuples(complete_answers(instrument), st.integers(0, n - 1), bad_answer).map(
        lambda t: t[0][: t[1]] + [t[2]] + t[0][t[1] + 1 :]
    )
    return wrong_length | one_bad


@pytest.mark.slow
@SETTINGS
@given(st.sampled_from(sorted(instruments.ITEMS)).flatmap(lambda name: st.tuples(st.just(name), spoiled(name))))
def test_an_incomplete_or_spoiled_questionnaire_is_refused(questionnaire):
    instrument, answers = questionnaire
    with pytest.raises(ValueError):
        instruments.score(instrument, answers)


def test_an_unknown_instrument_is_refused_with_value_error():
    with pytest.raises(ValueError):
        instruments.band("PHQ-8", 3)


def test_a_fractional_total_is_refused():
    with pytest.raises(ValueError):
        instruments.band("PHQ-9", 4.5)
