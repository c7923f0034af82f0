"""Settings read from the environment, in one place.

Every environment variable the app and its commands read is a `Setting` in SETTINGS, read
when asked for (not at import), so a test can set one per test. README.md's configuration
table lists the same variables with the same defaults; tests/data_layer/test_settings.py keeps them in step.
"""

import os
from datetime import timedelta
from pathlib import Path
from typing import Generic, NamedTuple, TypeVar

from data_layer.core import validation
from data_layer.core.postgres import is_postgres_url

DEFAULT_CRISIS_TEXT = (
    "If you are thinking about harming yourself or feel you cannot keep yourself safe, "
    "please get help now: call 999 or go to A&E in an emergency; call NHS 111 and choose "
    "the mental health option; or call Samaritans free, any time, on 116 123. "
    "Your therapist has been told about your answer."
)

# The type of a setting's default: str, or None for a setting with no value by default. A setting
# with a text default always has a value (`value` returns str).
Default = TypeVar("Default", bound=str | None)


class Setting(NamedTuple, Generic[Default]):
    """One environment variable, and the value used when it is unset or empty (None: no value)."""

    name: str
    default: Default

    def value(self) -> str | Default:
        """Return the variable's value, or the default when it is unset or empty."""
        return os.environ.get(self.name) or self.default


DATABASE = Setting("HOMEWORK_DB", "data/homework.duckdb")
COOKIE_KEY = Setting("HOMEWORK_COOKIE_KEY", None)
IDLE_MINUTES = Setting("HOMEWORK_IDLE_MINUTES", "30")
LOGIN_SLEEP_SECONDS = Setting("HOMEWORK_LOGIN_SLEEP_SECONDS", "0.7")
BACKUP_DIRECTORY = Setting("HOMEWORK_BACKUP_DIR", "backups/")
CRISIS_TEXT = Setting("HOMEWORK_CRISIS_TEXT", DEFAULT_CRISIS_TEXT)
ADMIN_PASSWORD = Setting("HOMEWORK_ADMIN_PASSWORD", None)
SMTP_HOST = Setting("HOMEWORK_SMTP_HOST", None)
SMTP_PORT = Setting("HOMEWORK_SMTP_PORT", "587")
SMTP_SECURITY = Setting("HOMEWORK_SMTP_SECURITY", "starttls")
SMTP_USER = Setting("HOMEWORK_SMTP_USER", None)
SMTP_PASSWORD = Setting("HOMEWORK_SMTP_PASSWORD", None)
MAIL_FROM = Setting("HOMEWORK_MAIL_FROM", "homework@localhost")
PUBLIC_URL = Setting("HOMEWORK_PUBLIC_URL", "http://localhost:8501")
TIME_ZONE = Setting("HOMEWORK_TIMEZONE", "UTC")
SETTINGS = (
    DATABASE,
    COOKIE_KEY,
    IDLE_MINUTES,
    LOGIN_SLEEP_SECONDS,
    BACKUP_DIRECTORY,
    CRISIS_TEXT,
    ADMIN_PASSWORD,
    SMTP_HOST,
    SMTP_PORT,
    SMTP_SECURITY,
    SMTP_USER,
    SMTP_PASSWORD,
    MAIL_FROM,
    PUBLIC_URL,
    TIME_ZONE,
)
SMTP_SECURITY_CHOICES = ("starttls", "tls", "none")


class InvalidSetting(ValueError):
    """An environment variable holds a value the app cannot run with; the message names it and says
    what it takes."""


def database_path() -> Path | str:
    """Return $HOMEWORK_DB (default data/homework.duckdb): a DuckDB file's path, or in server mode
    a PostgreSQL URL, kept as the string it is."""
    value = DATABASE.value()
    return value if is_postgres_url(value) else Path(value)


def cookie_key() -> str | None:
    """Return the key that signs login cookies, $HOMEWORK_COOKIE_KEY, or None when it is not set.

    ui/auth.py then falls back to `cookie_key` in .streamlit/secrets.toml.
    """
    return COOKIE_KEY.value()


def idle_limit() -> timedelta:
    """Return how long a session may sit unused: $HOMEWORK_IDLE_MINUTES, default 30 minutes."""
    return timedelta(minutes=float(IDLE_MINUTES.value()))


def login_sleep_seconds() -> float:
    """Return the pause after each failed login: $HOMEWORK_LOGIN_SLEEP_SECONDS, default 0.7.

    It stays on in production and in the browser tests; AppTest tests set it to 0.
    """
    return float(LOGIN_SLEEP_SECONDS.value())


def crisis_text() -> str:
    """Return the crisis resources shown at once when PHQ-9 item 9 is above 0.

    Set $HOMEWORK_CRISIS_TEXT to the clinic's own emergency numbers.
    """
    return CRISIS_TEXT.value()


def backup_directory() -> Path:
    """Return the one directory backups may be written into: $HOMEWORK_BACKUP_DIR, or backups/.

    The admin's "Back up now", `make backup` and the backup socket all refuse targets outside it.
    """
    return Path(BACKUP_DIRECTORY.value())


def admin_password() -> str | None:
    """Return the first administrator's password for ops.new_clinic,
    $HOMEWORK_ADMIN_PASSWORD, or None (then the command asks at the prompt)."""
    return ADMIN_PASSWORD.value()


def clinic_time_zone() -> str:
    """Return the clinic's time zone, $HOMEWORK_TIMEZONE (an IANA name such as Europe/London;
    default UTC): reminders of clients who chose no zone of their own go by it.

    Raises InvalidSetting for a name that is not an IANA time zone.
    """
    name = TIME_ZONE.value().strip()
    if validation.check_time_zone(name) is not None:
        raise InvalidSetting(
            f"{TIME_ZONE.name} must be an IANA time zone name such as Europe/London or UTC, not {name!r}."
        )
    return name


class MailSettings(NamedTuple):
    """How reminders leave the machine: the SMTP server, how to reach it, and what mail says."""

    host: str | None
    port: int
    security: str
    user: str | None
    password: str | None
    sender: str
    public_url: str


def mail_settings() -> MailSettings:
    """Return the mail settings: $HOMEWORK_SMTP_HOST (none: no mail server, nothing is sent),
    $HOMEWORK_SMTP_PORT (587), $HOMEWORK_SMTP_SECURITY (starttls, tls or none),
    $HOMEWORK_SMTP_USER and $HOMEWORK_SMTP_PASSWORD (none: no login), $HOMEWORK_MAIL_FROM
    (homework@localhost) and $HOMEWORK_PUBLIC_URL (http://localhost:8501, the link in a reminder).

    Raises ValueError for a security that is none of the three or a port that is not a number.
    """
    security = SMTP_SECURITY.value().strip().lower()
    if security not in SMTP_SECURITY_CHOICES:
        raise ValueError(f"{SMTP_SECURITY.name} must be one of {', '.join(SMTP_SECURITY_CHOICES)}, not {security!r}")
    return MailSettings(
        host=SMTP_HOST.value(),
        port=int(SMTP_PORT.value()),
        security=security,
        user=SMTP_USER.value(),
        password=SMTP_PASSWORD.value(),
        sender=MAIL_FROM.value(),
        public_url=PUBLIC_URL.value(),
    )
