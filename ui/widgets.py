"""Small shared widgets: user text shown inertly, field errors, messages that survive a rerun."""
import re

import streamlit as st

_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:])")


def escape_markdown(text):
    """Return `text` with every Markdown special character escaped, so it shows as typed."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", str(text))


def plain_text(text):
    """Show user-entered text exactly as typed: no Markdown, links or HTML are interpreted."""
    st.markdown(escape_markdown(text))


def show_field_errors(errors, placeholders):
    """Put each message of `errors` (field -> message) in its field's placeholder.

    Messages for fields without a placeholder are shown together where this is called.
    """
    for field, message in errors.items():
        target = placeholders.get(field)
        (target.error if target is not None else st.error)(message)


def flash(message):
    """Keep a success message for the next run (forms rerun after saving)."""
    st.session_state["flash"] = message


def show_flash():
    """Show and forget the message kept by `flash`, if any."""
    message = st.session_state.pop("flash", None)
    if message:
        st.success(message)


def form_key(name):
    """Return the current key of form `name`; `reset_form(name)` gives it a fresh, empty one."""
    return f"{name}_{st.session_state.get(f'form_version_{name}', 0)}"


def reset_form(name):
    """Empty form `name` on the next run (its widgets get new keys)."""
    st.session_state[f"form_version_{name}"] = st.session_state.get(f"form_version_{name}", 0) + 1
