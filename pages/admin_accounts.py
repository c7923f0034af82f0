"""The admin's landing page: accounts, caseload and supervision links. No clinical data, except
a risk flag of a client with no current therapist (the admin is one of the clinic's safety
contacts), shown above everything until it is acknowledged."""

import streamlit as st

from data_layer import caseload, users
from data_layer.core.access import ROLES
from data_layer.core.validation import InvalidInput
from ops import maintenance
from ui.auth import require_role
from ui.db import cursor
from ui.safety import unassigned_risk_flags
from ui.widgets import (
    discharge_fields,
    escape_markdown,
    form_key,
    saved,
    show_field_errors,
    show_flash,
    with_error_slot,
)

principal = require_role("admin")
cur = cursor()

st.title("Accounts")
show_flash()
unassigned_risk_flags(cur, principal)
accounts = users.list_users(cur, principal)


def account_choices(role, active_only=True):
    """Return {user id: "Name (username)"} of the accounts with `role`."""
    chosen = accounts[accounts["role"] == role]
    if active_only:
        chosen = chosen[chosen["active"]]
    return {row.id: f"{row.display_name} ({row.username})" for row in chosen.itertuples()}


create_tab, caseload_tab, supervision_tab, maintain_tab = st.tabs(
    ["New account", "Client → therapist", "Therapist → supervisor", "Deactivate or reset"]
)

with create_tab:
    with st.form(form_key("create_user")):
        display_name, name_error = with_error_slot(st.text_input("Full name"))
        username, username_error = with_error_slot(
            st.text_input("Username", help="Lower-case letters, digits, dots, dashes.")
        )
        role, role_error = with_error_slot(st.selectbox("Role", ROLES))
        email, email_error = with_error_slot(st.text_input("Email (optional)", help="Where reminders and alerts go."))
        password, password_error = with_error_slot(
            st.text_input(
                "Initial password", type="password", help="At least 10 characters. Give it to the person in private."
            )
        )
        if st.form_submit_button("Create account", type="primary"):
            try:
                users.create_user(
                    cur,
                    principal,
                    username=username,
                    display_name=display_name,
                    role=role,
                    password=password,
                    email=email,
                )
            except InvalidInput as error:
                show_field_errors(
                    error.errors,
                    {
                        "display_name": name_error,
                        "username": username_error,
                        "role": role_error,
                        "password": password_error,
                        "email": email_error,
                    },
                )
            else:
                saved("create_user", f"Created the {role} account {escape_markdown(username.strip().lower())}.")


def link_form(name, member_label, members, head_label, heads, fields, link, message):
    """A form that links a member account to a head account; `link(member, head)` saves it.

    `fields` names the two fields (member, head) as the data layer's errors name them.
    """
    with st.form(form_key(name)):
        member, member_error = with_error_slot(st.selectbox(member_label, list(members), format_func=members.get))
        head, head_error = with_error_slot(st.selectbox(head_label, list(heads), format_func=heads.get))
        if st.form_submit_button("Link", type="primary"):
            try:
                link(member, head)
            except InvalidInput as error:
                show_field_errors(error.errors, dict(zip(fields, [member_error, head_error])))
            else:
                saved(name, message.format(member=escape_markdown(members[member]), head=escape_markdown(heads[head])))


with caseload_tab:
    link_form(
        "link_client",
        "Client",
        account_choices("client"),
        "Therapist",
        account_choices("therapist"),
        ("client_id", "therapist_id"),
        lambda client, therapist: caseload.link_client_to_therapist(
            cur, principal, client_id=client, therapist_id=therapist
        ),
        "{member} is now with {head}.",
    )
    st.caption("Linking a client who was discharged starts a new episode of care (a re-referral).")
    st.header("End an episode of care", anchor=False)
    st.caption("Usually the therapist discharges. Here for when they cannot, e.g. they have left the clinic.")
    clients = account_choices("client")
    with st.form(form_key("discharge")):
        client, client_error = with_error_slot(st.selectbox("Client", list(clients), format_func=clients.get))
        ended_on, reason, placeholders = discharge_fields()
        if st.form_submit_button("Discharge"):
            try:
                caseload.discharge_client(cur, principal, client_id=client, ended_on=ended_on, reason=reason)
            except InvalidInput as error:
                show_field_errors(error.errors, {"client_id": client_error, **placeholders})
            else:
                saved("discharge", f"{escape_markdown(clients[client])}'s episode ended on {ended_on:%d %b %Y}.")

with supervision_tab:
    link_form(
        "link_therapist",
        "Therapist",
        account_choices("therapist"),
        "Supervisor",
        account_choices("supervisor"),
        ("therapist_id", "supervisor_id"),
        lambda therapist, supervisor: caseload.link_therapist_to_supervisor(
            cur, principal, therapist_id=therapist, supervisor_id=supervisor
        ),
        "{member} is now supervised by {head}.",
    )

with maintain_tab:
    everyone = {
        row.id: f"{row.display_name} ({row.username}, {row.role}{'' if row.active else ', deactivated'})"
        for row in accounts.itertuples()
    }
    with st.form(form_key("maintain")):
        user_id, account_error = with_error_slot(st.selectbox("Account", list(everyone), format_func=everyone.get))
        new_password, password_error = with_error_slot(st.text_input("New password (for a reset)", type="password"))
        reset_column, deactivate_column, reactivate_column = st.columns(3)
        reset = reset_column.form_submit_button("Reset password")
        deactivate = deactivate_column.form_submit_button("Deactivate")
        reactivate = reactivate_column.form_submit_button("Reactivate")
        try:
            if reset:
                users.reset_password(cur, principal, user_id=user_id, new_password=new_password)
                saved(
                    "maintain", f"Password reset for {escape_markdown(everyone[user_id])}; their sessions have ended."
                )
            if deactivate:
                users.deactivate_user(cur, principal, user_id=user_id)
                saved("maintain", f"Deactivated {escape_markdown(everyone[user_id])}; their sessions have ended.")
            if reactivate:
                users.reactivate_user(cur, principal, user_id=user_id)
                saved("maintain", f"Reactivated {escape_markdown(everyone[user_id])}.")
        except InvalidInput as error:
            show_field_errors(error.errors, {"user_id": account_error, "new_password": password_error})

st.header("All accounts")
st.dataframe(
    accounts.drop(columns=["id"]),
    hide_index=True,
    column_config={
        "username": "Username",
        "display_name": "Name",
        "email": "Email",
        "role": "Role",
        "active": st.column_config.CheckboxColumn("Active"),
        "locked_until": st.column_config.DatetimeColumn("Locked until", format="D MMM HH:mm"),
        "created_at": st.column_config.DatetimeColumn("Created", format="D MMM YYYY"),
    },
)
st.header("Current links")
st.dataframe(
    caseload.list_links(cur, principal),
    hide_index=True,
    column_config={"kind": "Link", "person": "Who", "linked_to": "With", "since": st.column_config.DateColumn("Since")},
)

st.header("Backup")
st.caption(
    "A consistent snapshot of the whole database while the app runs (Parquet per table and a "
    "manifest). It holds clinical data: keep the backup folder private and copy it off this machine."
)
if st.button("Back up now"):
    folder, counts = maintenance.back_up_now(cur, principal)
    st.success(f"Backed up {sum(counts.values()):,} rows to {escape_markdown(str(folder))}.")
