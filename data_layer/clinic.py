"""Facts about this clinic's database as a whole."""

from data_layer.core.access import ROLES, allowed_roles


@allowed_roles("login", *ROLES)
def is_demo(cur, principal):
    """Return True when the database holds the generated demo clinic. Open to every role."""
    (demo,) = cur.execute("SELECT demo FROM clinic_settings").fetchone()
    return demo
