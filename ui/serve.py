"""The app's server: `python -m ui.serve [streamlit run options]`, what `make run` and the tests start.

`streamlit run app.py` runs no code of the app before a browser connects, so the database, and with it
the reminder scheduler and the backup socket (ui/db.py), would wait for the first page request. This
command opens the database first, through ui.db, and then runs Streamlit's own `streamlit run app.py`
in the same process, with the options given (e.g. `--server.port 8501`). Page scripts import ui.db from
sys.modules, the module this command already imported, so every session works on this connection: the
process keeps one DuckDB connection, and the scheduler ticks from the server's start.

A database another process holds (DuckDB lets one process open the file) does not stop the server:
the operator's log says which file and which holder (data_layer.core.db.connect), each visitor sees
"in use by another process", and the first page request after the file is free opens it and starts
the scheduler. A setting the app cannot run with is logged and shown on every page the same way. On SIGTERM Streamlit stops its server; then the scheduler stops and the connection is
closed (checkpointed), before the process exits.

Run it from the project's folder, as `streamlit run app.py` was.
"""

import logging
import sys
from pathlib import Path

from streamlit.web import cli

from data_layer.core.db import DatabaseLocked
from data_layer.core.settings import InvalidSetting
from ui import db

APP = Path(__file__).resolve().parents[1] / "app.py"


def main(options: list[str]) -> None:
    """Open the configured database (HOMEWORK_DB), then serve app.py with Streamlit's `run` command and
    `options`, until Streamlit stops (SIGTERM, SIGINT); return after closing the database."""
    try:
        db.cursor().close()
    except DatabaseLocked:
        pass  # logged for the operator by db.connect; visitors are told on each page request
    except InvalidSetting as error:
        # A setting the app cannot run with (e.g. HOMEWORK_TIMEZONE): said here for the operator, and
        # on each page request, which tries again (app.py shows the message).
        logging.getLogger(__name__).error("The app cannot open its database: %s", error)
    try:
        # standalone_mode=False: click returns here instead of exiting, so the database gets closed.
        cli.main(["run", str(APP), *options], prog_name="streamlit", standalone_mode=False)
    finally:
        db.close_connections()


if __name__ == "__main__":
    main(sys.argv[1:])
