"""Each role's pages through Streamlit's AppTest (the whole app, see the `app` fixture)."""

import pytest

from tests.conftest import PASSWORD, logged_in, open_page
from ui.widgets import escape_markdown

HOME = {
    "client": ("client_a", "Today", "pages/client_today.py"),
    "therapist": ("therapist_a", "Caseload", "pages/therapist_caseload.py"),
    "supervisor": ("supervisor_a", "Cohort", "pages/supervisor_cohort.py"),
    "admin": ("admin", "Accounts", "pages/admin_accounts.py"),
}


def titles(app):
    return [title.value for title in app.title]


@pytest.mark.parametrize("role", HOME)
def test_each_role_lands_on_its_own_home_page(app, role):
    username, title, _ = HOME[role]
    logged_in(app, username)
    assert not app.exception
    assert titles(app) == [title]


@pytest.mark.parametrize("role", HOME)
def test_other_roles_pages_cannot_be_opened(app, role):
    logged_in(app, HOME[role][0])
    for other, (_, _, page) in HOME.items():
        if other != role:
            with pytest.raises(ValueError):
                open_page(app, page)


def test_client_home_lists_their_assignments_only(app):
    logged_in(app, "client_a")
    headings = [heading.value for heading in app.subheader]
    assert "Thought record" in headings
    assert "Foreign homework Bee" not in headings
    assert "0 of 3 this week" in [bar.proto.text for bar in app.get("progress")]


def test_therapist_home_lists_their_caseload_only(app):
    logged_in(app, "therapist_a")
    table = app.dataframe[0].value
    assert list(table["Client"]) == ["Alice Client"]


def test_supervisor_therapists_page_counts_clients_per_therapist(app):
    logged_in(app, "supervisor_a")
    open_page(app, "pages/supervisor_therapists.py")
    table = app.dataframe[0].value
    assert dict(zip(table["therapist"], table["active_clients"])) == {"Tom Therapist": "<5"}


def submit_login(app, username, password):
    fields = {field.label: field for field in app.text_input}
    fields["Username"].input(username)
    fields["Password"].input(password)
    next(button for button in app.button if button.label == "Log in").click()
    return app.run()


@pytest.mark.slow
def test_login_form_logs_in_and_wrong_password_says_so(app):
    app.run()
    assert not app.exception
    submit_login(app, "client_a", "wrong-password")
    assert "The username or password is incorrect." in [error.value for error in app.error]
    assert titles(app) == ["Log in"]  # the login page
    submit_login(app, "client_a", PASSWORD)
    assert not app.exception
    assert titles(app) == ["Today"]
    assert not [field for field in app.text_input if field.label == "Password"]


@pytest.mark.slow
def test_locked_account_says_until_when(app):
    app.run()
    for _ in range(5):
        submit_login(app, "client_a", "wrong-password")
    assert any("locked until" in error.value for error in app.error)
    submit_login(app, "client_a", PASSWORD)
    assert any("locked until" in error.value for error in app.error)
    assert titles(app) == ["Log in"]  # the login page


def test_admin_creates_an_account_and_bad_input_keeps_the_form(app):
    logged_in(app, "admin")
    fields = {field.label: field for field in app.text_input}
    fields["Full name"].input("Casey New")
    fields["Username"].input("casey")
    fields["Initial password"].input("short")
    fields["Email (optional)"].input("casey@clinic")
    create = next(button for button in app.button if button.label == "Create account")
    create.click().run()
    errors = [error.value for error in app.error]
    assert "Use at least 10 characters." in errors
    assert "Enter an email address like name@example.org, or leave it empty." in errors
    fields = {field.label: field for field in app.text_input}
    assert fields["Full name"].value == "Casey New" and fields["Email (optional)"].value == "casey@clinic"
    fields["Initial password"].input("a-long-enough-password")
    fields["Email (optional)"].input("casey@clinic.org")
    next(button for button in app.button if button.label == "Create account").click().run()
    assert not app.exception
    assert "Created the client account casey." in [success.value for success in app.success]
    assert "casey" in list(app.dataframe[0].value["username"])


def test_therapist_opening_a_client_outside_the_caseload_is_refused_and_audited(app, cur, world):
    app.session_state["open_client_id"] = world.client_b.user_id
    logged_in(app, "therapist_a")
    open_page(app, "pages/therapist_client.py")
    assert "You do not have access to this (view_client_record)." in [error.value for error in app.error]
    assert "Foreign Client Bee" not in [title.value for title in app.title]
    denied = cur.execute(
        "SELECT count(*) FROM audit_log WHERE action = 'view_client_record' AND outcome = 'denied'"
    ).fetchone()
    assert denied == (1,)
    app.run()  # the refused id is forgotten: the next run opens one of their own clients
    assert [title.value for title in app.title] == ["Alice Client"]


def test_logout_shows_the_login_form_and_ends_the_session(app, cur):
    logged_in(app, "client_a")
    open_sessions = "SELECT count(*) FROM login_sessions WHERE ended_at IS NULL"
    assert cur.execute(open_sessions).fetchone() == (1,)
    app.sidebar.button(key="logout_button").click().run()
    assert not app.exception
    assert titles(app) == ["Log in"]  # the login page
    assert "You have logged out." in [info.value for info in app.info]
    assert [field.label for field in app.text_input] == ["Username", "Password"]
    assert cur.execute(open_sessions).fetchone() == (0,)
    assert cur.execute("SELECT end_reason FROM login_sessions").fetchall() == [("logout",)]
    app.run()  # the ended session stays ended
    assert titles(app) == ["Log in"]  # the login page


def test_admin_links_a_client_to_another_therapist(app, cur, world):
    logged_in(app, "admin")
    client_box = next(box for box in app.selectbox if box.label == "Client")
    therapist_box = next(box for box in app.selectbox if box.label == "Therapist")
    client_box.set_value(world.client_b.user_id)
    therapist_box.set_value(world.therapist_a.user_id)
    next(button for button in app.button if button.label == "Link").click().run()
    assert not app.exception
    message = (
        f"{escape_markdown('Foreign Client Bee (client_b)')} is now with "
        f"{escape_markdown('Tom Therapist (therapist_a)')}."
    )
    assert message in [m.value for m in app.success]
    current = cur.execute(
        "SELECT therapist_id FROM caseload WHERE client_id = ? AND ended_on IS NULL", [world.client_b.user_id]
    ).fetchall()
    assert current == [(world.therapist_a.user_id,)]
