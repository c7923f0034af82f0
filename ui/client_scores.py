"""The client page's Questionnaires tab: every PHQ-9 and GAD-7 the client took, and the episode's pairs."""

import streamlit as st


def show_questionnaires(record):
    """The Questionnaires tab of `record` (ui.client_record.ClientRecord)."""
    if record.scores.empty:
        st.info("No questionnaires yet.")
        return
    st.dataframe(
        record.scores.drop(columns=["questionnaire_id"]),
        hide_index=True,
        column_config={
            "taken_on": st.column_config.DateColumn("Date"),
            "instrument": "Questionnaire",
            "total": "Total",
            "band": "Band",
            **{f"item_{n}": f"Q{n}" for n in range(1, 10)},
            "difficulty": "Difficulty",
        },
    )
    outcome = record.outcome
    if outcome["pairs"]:
        st.caption(
            f"{outcome['pairs']} PHQ-9/GAD-7 pairs in this episode; first pair PHQ-9 "
            f"{outcome['phq9_first']:g}, GAD-7 {outcome['gad7_first']:g}; last pair PHQ-9 "
            f"{outcome['phq9_last']:g}, GAD-7 {outcome['gad7_last']:g}."
        )
