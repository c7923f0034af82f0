"""The app's one DuckDB connection per database file, and a cursor per script run."""
import streamlit as st

from data_layer import backup_service, db, settings


@st.cache_resource(show_spinner=False)
def _connection(path):
    # One connection per file for the whole process; DuckDB connections are not
    # thread-safe, so each script run works on its own cursor (DESIGN.md).
    conn = db.connect(path)
    # `make backup` asks this process for snapshots while it holds the file.
    backup_service.serve(conn, path)
    return conn


def cursor():
    """Return a fresh cursor on the configured database (HOMEWORK_DB)."""
    return _connection(str(settings.database_path())).cursor()
