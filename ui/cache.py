"""Dashboard results cached by principal, arguments, day and data version (docs/architecture.md).

`cached(function, cur, principal, **arguments)` takes the data-layer function itself: the cache
key names it (module and qualified name), and the function object goes along unhashed and is
called on a miss only. The access check and the audit happen outside the cache on every call;
a cached result is only ever served to the principal it was computed for, and never after a write
or on another day (the scopes follow caseload and supervision links in force today).
"""
from datetime import date

import streamlit as st

from data_layer import access, audit, db, settings


@st.cache_data(show_spinner=False, max_entries=512, ttl=3600)
def _cached_call(key, principal, database, data_version, today, arguments, _function, _cur):
    """Return `_function(_cur, principal, **arguments)`; `key` names `_function` for the cache,
    which hashes neither `_function` nor `_cur` (leading underscore)."""
    return _function(_cur, principal, **dict(arguments))


def cached(function, cur, principal, **arguments):
    """Return `function(cur, principal, **arguments)`, from the cache when nothing was written since."""
    if principal.role not in function.allowed_roles:
        access.deny(cur, principal, function.__name__, detail=f"role {principal.role}")
    if "client_id" in arguments:
        access.require_client(cur, principal, arguments["client_id"], function.__name__)
    else:
        audit.record_event(cur, principal, function.__name__)
    return _cached_call(f"{function.__module__}.{function.__qualname__}", principal,
                        str(settings.database_path()), db.data_version(), date.today(),
                        tuple(sorted(arguments.items())), _function=function, _cur=cur)
