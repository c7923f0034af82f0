"""The client page's clinical support checklist (issue #17), drawn under the timeline: for a client
who is not on track (the warning saying why is above the timeline, ui.tracking.show_track), a
form to tick what was reviewed and note what was changed; and the checklists already made in
this episode."""

import streamlit as st

from clinical.support_checklist import SUPPORT_ITEMS, item_labels
from data_layer import checklists
from data_layer.core.validation import MAX_NOTE_LENGTH, InvalidInput
from ui.cache import cached
from ui.widgets import (
    escape_markdown,
    form_key,
    plain_text,
    saved,
    show_field_errors,
    submission_token,
    with_error_slot,
)

FORM = "support_checklist"


def show_support_checklist(cur, principal, record, not_on_track):
    """Draw the checklist section of `record` (ui.client_record.ClientRecord): the checklist form
    while the client is `not_on_track`, and the checklists of this episode, if any. Nothing at
    all otherwise. The confirmation of a save is the page's flash message (ui.widgets.saved),
    at the top of the page.
    """
    earlier = cached(checklists.list_support_checklists, cur, principal, client_id=record.client_id)
    if not not_on_track and earlier.empty:
        return
    st.header("Clinical support checklist", anchor=False)
    if not_on_track:
        _checklist_form(cur, principal, record.client_id)
    else:
        st.caption("Not flagged as not on track now. The checklists of this episode stay in the record.")
    _earlier_checklists(earlier)


def _checklist_form(cur, principal, client_id):
    key = form_key(FORM)
    with st.form(key):
        st.caption(
            "Review these with the client, tick what you reviewed and note what you changed. "
            "The flag stays until the client's scores are back inside the expected band."
        )
        ticked = [item for item, label in SUPPORT_ITEMS.items() if st.checkbox(label, key=f"{key}_{item}")]
        reviewed_error = st.empty()
        changes, changes_error = with_error_slot(
            st.text_area(
                "What did you change?",
                max_chars=MAX_NOTE_LENGTH,
                placeholder="e.g. Made the homework smaller; agreed to ask the GP about a medication review",
                key=f"{key}_changes",
            )
        )
        if st.form_submit_button("Save checklist", type="primary"):
            try:
                checklists.record_support_checklist(
                    cur,
                    principal,
                    client_id=client_id,
                    reviewed=ticked,
                    changes=changes,
                    submission_id=submission_token(FORM),
                )
            except InvalidInput as error:
                show_field_errors(error.errors, {"reviewed": reviewed_error, "changes": changes_error})
            else:
                count = len(ticked)
                saved(FORM, f"Clinical support checklist saved: {count} item{'s' if count > 1 else ''} reviewed.")


def _earlier_checklists(earlier):
    if earlier.empty:
        return
    latest = earlier["recorded_at"].iloc[0]
    with st.expander(f"Checklists in this episode: {len(earlier)}, the latest on {latest:%d %b %Y}"):
        for checklist in earlier.itertuples():
            reviewed = ", ".join(item_labels(checklist.reviewed))
            st.markdown(f"**{checklist.recorded_at:%d %b %Y}**, reviewed: {escape_markdown(reviewed)}")
            if checklist.changes:
                plain_text(f"Changed: {checklist.changes}")
            else:
                st.caption("No change noted.")
