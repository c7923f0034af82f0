"""Small shared widgets: user text shown inertly, field errors, messages that survive a rerun."""

import re
import uuid
from datetime import date, datetime, timedelta

import pandas as pd
import streamlit as st

from clinical.compliance import last_complete_weeks
from clinical.episodes import DISCHARGE_REASONS
from data_layer.core.validation import DAYS_BACK_ALLOWED

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


def with_error_slot(value, place=st):
    """Return (value, slot): a field's value and an empty slot drawn under it in `place`.

    Draw the field in the call: `title, title_error = with_error_slot(st.text_input("Title"))`;
    the slot then takes the field's message (show_field_errors) right under it.
    """
    return value, place.empty()


def flash(message):
    """Keep a success message (Markdown: escape any user text in it) for the next run."""
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


def submission_token(form_name):
    """Return the id of the form's current submission: the same across reruns until reset_form.

    The data layer stores it with the entry, so a double click writes nothing twice.
    """
    key = f"token_{form_key(form_name)}"
    if key not in st.session_state:
        st.session_state[key] = uuid.uuid4().hex
    return st.session_state[key]


def day_label(day):
    """Return "Today", "Yesterday" or e.g. "Mon 23 Nov" for a date or a pandas Timestamp."""
    if isinstance(day, datetime):  # pandas Timestamps are datetimes
        day = day.date()
    age = (date.today() - day).days
    return {0: "Today", 1: "Yesterday"}.get(age, f"{day:%a %d %b}")


def entry_date_input(label, key=None):
    """A choice of today and the 7 days before it (for the day they forgot to log)."""
    today = date.today()
    days = [today - timedelta(days=back) for back in range(DAYS_BACK_ALLOWED + 1)]
    return st.selectbox(label, days, format_func=day_label, key=key)


def saved(form_name, message):
    """After a successful save: keep the message, empty the form, and show the new state."""
    flash(message)
    reset_form(form_name)
    st.rerun()


def saved_here(place, message, form_name=None):
    """After a client's save: show `message` in `place` in the form's stead (see `show_saved`), with
    a toast; empty form `form_name` (default: `place`) and show the new state.

    On a phone a message at the top of the page lands above the screen; in the form's place it is
    where the client is looking. `message` is Markdown: escape any user text in it.
    """
    st.session_state[f"saved_{place}"] = message
    st.session_state["saved_toast"] = message
    reset_form(form_name or place)
    st.rerun()


def show_saved(place, again):
    """In `place`, after `saved_here`: show the confirmation and a button `again` that brings the
    form back; return True while it is shown (draw no form then). It survives reruns."""
    key = f"saved_{place}"
    message = st.session_state.get(key)
    if message is None:
        return False
    toast = st.session_state.pop("saved_toast", None)
    with st.container(key=key):
        if toast:
            st.toast(toast, icon=":material/check_circle:")
        st.success(message, icon=":material/check_circle:")
        st.button(again, key=f"again_{place}", on_click=st.session_state.pop, args=(key, None))
        if toast:
            _scroll_into_view(key)
    return True


# Runs once, in the browser, when the confirmation first appears. It holds no user text: only a
# container key made of the code's own names and ids (checked), never anything typed.
_SCROLL_SCRIPT = """<script>
(() => {
  const started = Date.now();
  const scroll = () => {
    const target = document.querySelector(".st-key-KEY");
    const app = document.querySelector("[data-testid=stApp]");
    if (target && app && app.dataset.testScriptState === "notRunning") {
      setTimeout(() => target.scrollIntoView({block: "center"}), 150);
    } else if (Date.now() - started < 5000) {
      setTimeout(scroll, 100);
    }
  };
  scroll();
})();
</script>"""


def _scroll_into_view(key):
    """Scroll the page so that the container `key` is on screen, once the run is over.

    A form that shrinks into its confirmation (an open expander, a long form) leaves the page
    where it was, so the confirmation can land above a phone's screen.
    """
    if not re.fullmatch(r"[A-Za-z0-9_]+", key):
        raise ValueError(f"not a container key: {key!r}")
    st.html(_SCROLL_SCRIPT.replace("KEY", key), unsafe_allow_javascript=True)


def confirm_delete(name, description, delete):
    """A delete button that asks once more before calling `delete()`; return True once deleted."""
    pending = f"confirm_{name}"
    if not st.session_state.get(pending):
        if st.button("Delete this entry", key=f"ask_{name}"):
            st.session_state[pending] = True
            st.rerun()
        return False
    st.warning(f"Delete {description}? This cannot be undone.")
    yes, no = st.columns(2)
    if no.button("Keep it", key=f"keep_{name}"):
        st.session_state[pending] = False
        st.rerun()
    if yes.button("Yes, delete", key=f"delete_{name}", type="primary"):
        st.session_state[pending] = False
        delete()
        return True
    return False


def optional_int(value):
    """Return an optional number from a DataFrame (NaN or NA when empty) as int or None, for widgets."""
    return None if pd.isna(value) else int(value)


def text_or_empty(value):
    """Return optional text from a DataFrame (NaN or None when empty) as a string, never "nan"."""
    return "" if pd.isna(value) else str(value)


RECENT_COMPLIANCE_LABEL = "Homework, last 4 weeks"


def recent_compliance_metric(column, recent):
    """Show "Homework, last 4 weeks" from one row of data_layer.reports.metrics.recent_compliance in `column`.

    A percentage, or "no homework set" when nothing was expected (never 0%).
    """
    first_day, last_day = last_complete_weeks(date.today())
    column.metric(
        RECENT_COMPLIANCE_LABEL,
        recent_compliance_text(recent["compliance_4w"]),
        help=f"The 4 complete weeks from {first_day:%a %d %b} to {last_day:%a %d %b}. "
        "This week is still in progress, so it is not counted yet.",
    )


def recent_compliance_text(compliance):
    """Return a 4-week compliance (0-1, NaN when nothing was expected) as e.g. "83%" or "no homework set"."""
    return "no homework set" if pd.isna(compliance) else f"{compliance:.0%}"


def discharge_fields():
    """Draw the fields of a discharge form (inside the form): the episode's last day and the reason.

    Returns (ended_on, reason, placeholders): placeholders by field for show_field_errors.
    """
    left, right = st.columns(2)
    ended_on, ended_error = with_error_slot(
        left.date_input("Last day of the episode", value=date.today(), max_value=date.today(), format="DD/MM/YYYY"),
        left,
    )
    reason, reason_error = with_error_slot(
        right.selectbox(
            "Reason",
            list(DISCHARGE_REASONS),
            index=None,
            format_func=DISCHARGE_REASONS.get,
            placeholder="Choose a reason",
        ),
        right,
    )
    return ended_on, reason, {"ended_on": ended_error, "reason": reason_error}


def entry_choices(entries, label):
    """Return {entry id: label} for a chooser of entries, every label distinct.

    `entries`: {id: row with created_at}, newest first; `label(row)` its text. The time it was
    entered is added, and a repeat still alike gets " (2)", " (3)", ...: a chooser whose labels
    repeat would pick the first of them, and an edit of the other would be lost.
    """
    labels, seen = {}, {}
    for entry_id, row in entries.items():
        text = f"{label(row)}, entered {row.created_at:%H:%M}"
        seen[text] = seen.get(text, 0) + 1
        labels[entry_id] = text if seen[text] == 1 else f"{text} ({seen[text]})"
    return labels
