"""Facts about this clinic's database as a whole."""

import duckdb

from data_layer.core import db
from data_layer.core.access import ROLES, Principal, allowed_roles


@allowed_roles("login", *ROLES)
def is_demo(cur: duckdb.DuckDBPyConnection, principal: Principal) -> bool:
    """Return True when the database holds the generated demo clinic. Open to every role."""
    (demo,) = db.one_row(cur.execute("SELECT demo FROM clinic_settings"))
    return demo
