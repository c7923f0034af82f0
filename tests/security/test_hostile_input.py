"""Hostile text in every free-text field: stored and read back byte for byte, and shown as inert
text (never HTML, never Markdown) on the pages, in the CSV export and in the printable summary."""

import csv
import io
import re
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path

import plotly.graph_objects as go
import pytest

from data_layer import homework, measures, mood, paused, users
from data_layer.core.validation import MAX_NAME_LENGTH, MAX_NOTE_LENGTH, MAX_TITLE_LENGTH, InvalidInput
from data_layer.reports import export
from tests.conftest import logged_in, open_page
from ui.exports import csv_bytes, session_summary_html
from ui.navigation import APP_CSS, PAGES, TOUCH_CSS, close_menu_script

# 20 characters a unit, so that cutting it at 200 or 2,000 ends it the same way (no trailing space,
# which titles, names and acknowledgement notes trim on purpose).
LONG = "<b>x</b>é😀[a](b)'--;" * (MAX_NOTE_LENGTH // 20)
PAYLOADS = {
    "script": "<script>alert(1)</script>",
    "img": "<img src=x onerror=alert(1)>",
    "markdown-link": "[x](javascript:alert(1))",
    "sql-or": "' OR 1=1--",
    "sql-copy": "'); COPY users TO 'x'--",
    "duckdb-file": "read_text('/etc/passwd')",
    "long": LONG,
    # Right-to-left override and mark, zero-width joiner and space, emoji sequences, combining marks.
    "unicode": (
        "\u202eevil\u202c \u200fשלום\u200f 👩\u200d👩\u200d👧 e\u0301 Z\u0334\u0321\u035da\u0337 "
        "\u200b\u2066x\u2069 🏳\ufe0f\u200d🌈 \U0001d54f"
    ),
}
assert len(LONG) == MAX_NOTE_LENGTH
MARKDOWN_SPECIALS = set("\\`*_{}[]()<>#+-.!|~$:")


def limited(payload, limit):
    """The payload cut to a field's limit (titles and names take 200 characters, notes 2,000)."""
    return payload[:limit]


# Each free-text field: (limit, store(cur, world, text) -> key, read(cur, world, key) -> stored text).
def _homework_note(cur, world, text):
    return homework.log_homework(
        cur, world.client_a, assignment_id=world.assignment_a, log_date=date.today(), status="done", note=text
    )


def _read_homework_note(cur, world, log_id):
    logs = homework.list_homework_logs(cur, world.client_a, client_id=world.client_a.user_id, since=date.today())
    return logs.set_index("homework_log_id").loc[log_id, "note"]


def _mood_note(cur, world, text):
    return mood.log_mood(cur, world.client_a, log_date=date.today(), mood=5, note=text)


def _read_mood_note(cur, world, log_id):
    logs = mood.list_mood_logs(cur, world.client_a, client_id=world.client_a.user_id, since=date.today())
    return logs.set_index("mood_log_id").loc[log_id, "note"]


def _assignment(cur, world, title="Walk", instructions=""):
    return homework.create_assignment(
        cur,
        world.therapist_a,
        client_id=world.client_a.user_id,
        title=title,
        category="other",
        schedule="weekly",
        times_per_week=2,
        starts_on=date.today(),
        instructions=instructions,
    )


def _read_assignment(cur, world, assignment_id, column):
    assignments = homework.list_assignments(cur, world.therapist_a, client_id=world.client_a.user_id)
    return assignments.set_index("assignment_id").loc[assignment_id, column]


def _display_name(cur, world, text):
    username = f"new{cur.execute('SELECT count(*) FROM users').fetchone()[0]}"
    return users.create_user(
        cur, world.admin, username=username, display_name=text, role="client", password="a-long-enough-password"
    )


def _read_display_name(cur, world, user_id):
    return users.list_users(cur, world.admin).set_index("id").loc[user_id, "display_name"]


def _risk_note(cur, world, text):
    measures.submit_questionnaire(cur, world.client_a, instrument="PHQ-9", answers=[0] * 8 + [1])
    flags = measures.list_risk_flags(cur, world.therapist_a, client_id=world.client_a.user_id)
    flag_id = int(flags.loc[flags["acknowledged_at"].isna(), "risk_flag_id"].iloc[0])
    measures.acknowledge_risk_flag(cur, world.therapist_a, risk_flag_id=flag_id, note=text)
    return flag_id


def _read_risk_note(cur, world, flag_id):
    flags = measures.list_risk_flags(cur, world.therapist_a, client_id=world.client_a.user_id)
    return flags.set_index("risk_flag_id").loc[flag_id, "note"]


def _break_reason(cur, world, text):
    return paused.add_paused_period(
        cur,
        world.client_a,
        client_id=world.client_a.user_id,
        starts_on=date.today(),
        ends_on=date.today() + timedelta(days=1),
        reason=text,
    )


def _read_break_reason(cur, world, period_id):
    periods = paused.list_paused_periods(cur, world.client_a, client_id=world.client_a.user_id)
    return periods.set_index("paused_period_id").loc[period_id, "reason"]


FIELDS = {
    "homework log note": (MAX_NOTE_LENGTH, _homework_note, _read_homework_note),
    "mood note": (MAX_NOTE_LENGTH, _mood_note, _read_mood_note),
    "assignment title": (
        MAX_TITLE_LENGTH,
        lambda cur, world, text: _assignment(cur, world, title=text),
        lambda cur, world, key: _read_assignment(cur, world, key, "title"),
    ),
    "assignment instructions": (
        MAX_NOTE_LENGTH,
        lambda cur, world, text: _assignment(cur, world, instructions=text),
        lambda cur, world, key: _read_assignment(cur, world, key, "instructions"),
    ),
    "display name": (MAX_NAME_LENGTH, _display_name, _read_display_name),
    "risk acknowledgement note": (MAX_NOTE_LENGTH, _risk_note, _read_risk_note),
    "break reason": (MAX_NOTE_LENGTH, _break_reason, _read_break_reason),
}


@pytest.mark.slow
@pytest.mark.parametrize("field", FIELDS)
def test_every_free_text_field_stores_hostile_text_byte_for_byte(cur, world, field):
    limit, store, read = FIELDS[field]
    for name, payload in PAYLOADS.items():
        text = limited(payload, limit)
        key = store(cur, world, text)
        stored = read(cur, world, key)
        assert stored.encode("utf-8") == text.encode("utf-8"), (field, name)
    # Nothing ran: the tables are all there and no file was written.
    assert cur.execute("SELECT count(*) FROM users WHERE username = 'admin'").fetchone() == (1,)
    assert cur.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'users'").fetchone() == (1,)
    assert not Path("x").exists()


@pytest.mark.parametrize("field", FIELDS)
def test_one_character_over_the_limit_is_refused_not_cut(cur, world, field):
    limit, store, _ = FIELDS[field]
    with pytest.raises(InvalidInput):
        store(cur, world, LONG[: limit - 1] + "😀" + "x")


# ---------------------------------------------------------------- the pages


# Elements whose text Streamlit renders as Markdown, and which of them are headings.
MARKDOWN_KINDS = {"markdown", "caption", "title", "header", "subheader", "success", "error", "info", "warning"}
HEADINGS = {"title", "header", "subheader"}


def markdown_bodies(app):
    """(kind, text) of every element whose text Streamlit renders as Markdown: bodies and labels."""
    found = []
    for root in (app.main, app.sidebar):
        for node in root:
            if node.type in MARKDOWN_KINDS:
                found.append((node.type, node.value))
            label = getattr(node, "label", None)
            if isinstance(label, str) and label:
                found.append((f"{node.type} label", label))
    return found


def unescaped(body):
    return re.sub(r"\\([\\`*_{}\[\]()<>#+\-.!|~$:])", r"\1", body)


def assert_no_element_allows_html(app):
    markdowns = [node for root in (app.main, app.sidebar) for node in root if node.type in ("markdown", "caption")]
    assert markdowns
    assert not [node.value for node in markdowns if node.proto.allow_html]
    # The only raw HTML is the app's own style sheets and menu script, never anything holding user text.
    menu_scripts = {close_menu_script(path) for path in ["", *(Path(page).stem for page, _, _ in PAGES["client"])]}
    assert all(node.proto.body in {APP_CSS, TOUCH_CSS, *menu_scripts} for node in app.get("html"))
    assert not app.get("iframe")


def assert_shown_inertly(app, payload, expected_body=None, skip=()):
    """`payload` is on screen exactly as typed, and nowhere as live Markdown (except in `skip` kinds)."""
    bodies = [(kind, body) for kind, body in markdown_bodies(app) if kind not in skip]
    texts = [text.value for text in app.text]
    shown = [body for _, body in bodies if unescaped(body) == (expected_body or payload)]
    plain = [text for text in texts if payload in text]
    assert shown or plain, payload
    if MARKDOWN_SPECIALS & set(payload):
        assert not [body for _, body in bodies if payload in body], payload


@pytest.fixture
def hostile_client(cur, world):
    """client_a with every payload as a homework note, mood note and break reason, and as the
    instructions and title of an assignment; therapist_a has acknowledged flags with them."""
    for number, payload in enumerate(PAYLOADS.values()):
        homework.log_homework(
            cur, world.client_a, assignment_id=world.assignment_a, log_date=date.today(), status="partly", note=payload
        )
        mood.log_mood(cur, world.client_a, log_date=date.today(), mood=number, note=payload)
        paused.add_paused_period(
            cur,
            world.client_a,
            client_id=world.client_a.user_id,
            starts_on=date.today() + timedelta(days=number),
            ends_on=date.today() + timedelta(days=number),
            reason=payload,
        )
        _assignment(cur, world, title=limited(payload, MAX_TITLE_LENGTH), instructions=payload)
        _risk_note(cur, world, payload)
    return PAYLOADS


def test_the_clients_entries_show_hostile_text_as_typed(app, hostile_client):
    logged_in(app, "client_a")
    open_page(app, "pages/client_entries.py")
    assert not app.exception
    assert_no_element_allows_html(app)
    for payload in hostile_client.values():
        assert_shown_inertly(app, payload)
        assert any(payload in text.value for text in app.text), "the break reason, as plain text"
    assert list(hostile_client.values())[-1] in [area.value for area in app.text_area], "the edit form"


@pytest.mark.slow
def test_the_clients_other_pages_show_hostile_instructions_and_titles_inertly(app, hostile_client):
    logged_in(app, "client_a")
    assert not app.exception
    assert_no_element_allows_html(app)
    for payload in hostile_client.values():
        # The instructions. Titles and names are checked by test_names_and_titles_are_never_live_markdown.
        assert_shown_inertly(app, payload, skip=HEADINGS)
    open_page(app, "pages/client_progress.py")
    assert not app.exception
    assert_no_element_allows_html(app)


@pytest.mark.slow
def test_the_therapists_client_page_shows_hostile_text_inertly(app, hostile_client):
    logged_in(app, "therapist_a")
    open_page(app, "pages/therapist_client.py")
    assert not app.exception
    assert [title.value for title in app.title] == ["Alice Client"]
    assert_no_element_allows_html(app)
    for payload in hostile_client.values():
        assert_shown_inertly(app, payload)  # the risk acknowledgement notes
        assert_shown_inertly(app, payload, expected_body=f"Thought record: {payload}")  # homework notes
        assert any(payload in text.value for text in app.text), "the break reason, as plain text"
        assert limited(payload, MAX_TITLE_LENGTH) in set(app.dataframe[0].value["Homework"])


@pytest.mark.slow
def test_the_csv_export_holds_hostile_text_unchanged_and_formula_safe(cur, world, hostile_client):
    formulas = ["=HYPERLINK(\"http://example.invalid\",\"x\")", "+1+1", "-2+3", "@SUM(A1)"]
    for formula in formulas:
        mood.log_mood(cur, world.client_a, log_date=date.today(), mood=5, note=formula)
    record = export.export_client_record(cur, world.therapist_a, client_id=world.client_a.user_id)
    rows = list(csv.DictReader(io.StringIO(csv_bytes(record).decode("utf-8-sig"))))
    notes = [row["Note"] for row in rows]
    for payload in hostile_client.values():
        assert notes.count(payload) == 4  # homework log, mood, break, instructions
        assert limited(payload, MAX_TITLE_LENGTH) in [row["Homework"] for row in rows]
    for formula in formulas:
        assert "'" + formula in notes and formula not in notes


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.text = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, tuple(name for name, _ in attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parsed(document):
    parser = Tags()
    parser.feed(document)
    return parser


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_the_printable_summary_escapes_every_piece_of_user_text(payload):
    figure = go.Figure()

    def summary(text):
        return session_summary_html(text, text, [(text, text)], figure, [(text, text), ("1 Jan", text)])

    benign, hostile = parsed(summary("plain words")), parsed(summary(payload))
    assert hostile.tags == benign.tags  # no element or attribute came from the text
    assert "".join(hostile.text).count(payload) >= 6  # shown, literally, everywhere it was put
    if "<" in payload:
        assert payload not in summary(payload)


@pytest.mark.slow
def test_the_admin_creates_accounts_with_hostile_names_through_the_form(app, cur, world):
    logged_in(app, "admin")
    for number, (name, payload) in enumerate(PAYLOADS.items()):
        fields = {field.label: field for field in app.text_input}
        fields["Full name"].input(limited(payload, MAX_NAME_LENGTH))
        fields["Username"].input(f"hostile{number}")
        fields["Initial password"].input("a-long-enough-password")
        next(button for button in app.button if button.label == "Create account").click().run()
        assert not app.exception, name
        assert f"Created the client account hostile{number}." in [message.value for message in app.success], name
    stored = dict(cur.execute("SELECT username, display_name FROM users WHERE username LIKE 'hostile%'").fetchall())
    assert stored == {
        f"hostile{number}": limited(payload, MAX_NAME_LENGTH) for number, payload in enumerate(PAYLOADS.values())
    }
    assert_no_element_allows_html(app)
    shown = set(app.dataframe[0].value["display_name"])
    assert set(stored.values()) <= shown  # in the accounts table, which renders no Markdown or HTML


# ---------------------------------------------------------------- names and titles as Markdown

TRACKER = "![t](https://tracker.example/pixel.png)"


@pytest.mark.slow
def test_names_and_titles_are_never_live_markdown(app, cur, world):
    cur.execute("UPDATE users SET display_name = ? WHERE id = ?", [f"Alice {TRACKER}", world.client_a.user_id])
    cur.execute("UPDATE assignments SET title = ? WHERE id = ?", [f"Walk {TRACKER}", world.assignment_a])
    measures.submit_questionnaire(cur, world.client_a, instrument="PHQ-9", answers=[0] * 8 + [1])  # a flag
    live = []
    logged_in(app, "client_a")
    live += [body for _, body in markdown_bodies(app) if TRACKER in body]
    logged_in(app, "therapist_a")
    live += [body for _, body in markdown_bodies(app) if TRACKER in body]
    open_page(app, "pages/therapist_client.py")
    live += [body for _, body in markdown_bodies(app) if TRACKER in body]
    assert not app.exception
    assert not live
