"""Settings read from the environment, in one place."""
import os
from pathlib import Path

DEFAULT_DATABASE_PATH = "data/homework.duckdb"


def database_path() -> Path:
    """Return the DuckDB file path: $HOMEWORK_DB, or data/homework.duckdb."""
    return Path(os.environ.get("HOMEWORK_DB") or DEFAULT_DATABASE_PATH)
