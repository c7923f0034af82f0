"""Settings read from the environment, in one place."""
import os
from pathlib import Path

DEFAULT_DATABASE_PATH = "data/homework.duckdb"


def database_path() -> Path:
    """Return the DuckDB file path: $HOMEWORK_DB, or data/homework.duckdb."""
    return Path(os.environ.get("HOMEWORK_DB") or DEFAULT_DATABASE_PATH)

DEFAULT_CRISIS_TEXT = (
    "If you are thinking about harming yourself or feel you cannot keep yourself safe, "
    "please get help now: call 999 or go to A&E in an emergency; call NHS 111 and choose "
    "the mental health option; or call Samaritans free, any time, on 116 123. "
    "Your therapist has been told about your answer."
)


def crisis_text():
    """Return the crisis resources shown at once when PHQ-9 item 9 is above 0.

    Set $HOMEWORK_CRISIS_TEXT to the clinic's own emergency numbers.
    """
    return os.environ.get("HOMEWORK_CRISIS_TEXT") or DEFAULT_CRISIS_TEXT


def backup_directory():
    """Return the one directory backups may be written into: $HOMEWORK_BACKUP_DIR, or backups/.

    The admin's "Back up now", `make backup` and the backup socket all refuse targets outside it.
    """
    return Path(os.environ.get("HOMEWORK_BACKUP_DIR") or "backups")
