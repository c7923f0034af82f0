"""Input checks shared by the data-layer modules, and the error that names the bad fields."""

import re
import zoneinfo
from collections.abc import Mapping
from datetime import date
from numbers import Real

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_BYTES = 72  # bcrypt reads no further than this
MAX_NAME_LENGTH = 200
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{2,39}$")
# An address a mail server can be given: a local part of printable characters without spaces, quotes,
# angle brackets, commas or another @ (no quoted forms, which clinics do not use), then a domain of
# dot-separated labels ending in a top-level one of letters. CR and LF never pass, so an address can
# never add a header to the email it is written into (ops/mailer.py).
EMAIL_PATTERN = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
# The IANA time zone names a clinic or a client may choose: those zoneinfo knows. 'localtime' is
# this machine's own zone file, not a name, and DuckDB's ICU (which the scheduler converts times
# with, in SQL) does not know it.
TIME_ZONES = frozenset(zoneinfo.available_timezones() - {"localtime"})


class InvalidInput(ValueError):
    """One or more fields are wrong; `errors` maps each field name to a message for the user."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{field}: {message}" for field, message in self.errors.items()))


def raise_if_any(errors: Mapping[str, str]) -> None:
    """Raise InvalidInput when `errors` (field -> message) is not empty."""
    if errors:
        raise InvalidInput(errors)


def check_username(username: str | None) -> str | None:
    """Return an error message for a bad username, or None."""
    if not USERNAME_PATTERN.fullmatch(username or ""):
        return (
            "Use 3 to 40 characters: lower-case letters, digits, dots, dashes or "
            "underscores, starting with a letter or digit."
        )
    return None


def check_time_zone(name: object) -> str | None:
    """Return an error message for a name that is not an IANA time zone (TIME_ZONES), or None."""
    if name not in TIME_ZONES:
        return "Choose a time zone from the list, e.g. Europe/London."
    return None


def check_email(email: str | None) -> str | None:
    """Return an error message for an address that is given but is no email address (EMAIL_PATTERN;
    dots neither first, last nor doubled in its local part), or None; empty means no address."""
    address = (email or "").strip()
    if not address:
        return None
    local = address.split("@", 1)[0]
    if not EMAIL_PATTERN.fullmatch(address) or local.startswith(".") or local.endswith(".") or ".." in local:
        return "Enter an email address like name@example.org, or leave it empty."
    return None


def check_display_name(name: str) -> str | None:
    """Return an error message for an empty or over-long display name, or None."""
    if not (name or "").strip():
        return "Enter a name."
    if len(name) > MAX_NAME_LENGTH:
        return f"Use at most {MAX_NAME_LENGTH} characters."
    return None


def check_password(password: str) -> str | None:
    """Return an error message for a too short or too long password, or None."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        return f"Use at most {MAX_PASSWORD_BYTES} bytes (about {MAX_PASSWORD_BYTES} plain letters)."
    return None


MAX_NOTE_LENGTH = 2000
MAX_MINUTES = 600
DAYS_BACK_ALLOWED = 7


def check_entry_date(entry_date: date | None, today: date) -> str | None:
    """Return an error for a date in the future or more than 7 days back, or None."""
    if entry_date is None:
        return "Choose a date."
    if entry_date > today:
        return "That date is in the future."
    if (today - entry_date).days > DAYS_BACK_ALLOWED:
        return f"Entries can be made up to {DAYS_BACK_ALLOWED} days back."
    return None


def check_note(note: str | None) -> str | None:
    """Return an error for a note over 2,000 characters, or None."""
    if note is not None and len(note) > MAX_NOTE_LENGTH:
        return f"Keep the note to {MAX_NOTE_LENGTH:,} characters (it has {len(note):,})."
    return None


def check_whole_number(value: object, low: int, high: int, what: str) -> str | None:
    """Return an error unless `value` is None or a whole number from low to high."""
    if value is None:
        return None
    message = f"{what} is a whole number from {low} to {high}."
    if isinstance(value, bool) or not isinstance(value, Real):
        return message
    # typeshed gives numbers.Real neither comparisons nor __int__ (python/mypy#3186): a gap in its stubs.
    if not low <= value <= high or value != int(value):  # type: ignore[operator, call-overload]
        return message
    return None


def errors_of(**messages: str | None) -> dict[str, str]:
    """Return the messages that are not None, by field name."""
    return {field: message for field, message in messages.items() if message}


MAX_TITLE_LENGTH = 200


def check_title(title: str) -> str | None:
    """Return an error for an empty or over-long title, or None."""
    if not (title or "").strip():
        return "Give the homework a title."
    if len(title) > MAX_TITLE_LENGTH:
        return f"Keep the title to {MAX_TITLE_LENGTH} characters."
    return None
