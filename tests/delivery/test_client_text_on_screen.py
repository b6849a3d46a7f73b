"""Client text is inert end to end: a client types markup, terminal escapes, a right-to-left
override, NUL, an over-long line and bytes that are not UTF-8 into the real portal's pages
(`portal-tui serve`, driven over HTTP as a browser would): their name and their matter's
through an intake form, a message reply, a form answer, an uploaded file's name. `portal-tui
sync` brings it all into the firm, and the staff app, in a real terminal (tmux), shows it on
every screen that shows client text. Not one byte the app writes to the terminal obeys the
client: no OSC (title, clipboard, hyperlink), no clear-screen, no colour, no bidi override, no
NUL; the markup did not quit the app; the escapes are on screen as visible placeholders. The
firm database keeps every character the client typed."""

from __future__ import annotations

import contextlib
import re
import shutil
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from portal_tui.domain import FormRule, ItemKind
from portal_tui.repository import CLIENT_PORTAL_FOLDER, Repository
from portal_tui.repository.portal_client import PortalClient
from portal_tui.service.pages.portal import REPLY_MAX
from portal_tui.tui.activities.activities_pane import ACTIVITIES
from portal_tui.tui.matter.matter_details import SECTIONS

from ..tmux import TIMEOUT_S, Terminal, joined, kill_server, start, terminal_env
from .support import (
    Browser,
    Service,
    activate_clients,
    build_firm,
    csrf_of,
    deliver_all,
    portal_tui,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

ESC = "\x1b"
# What a hostile client types, field by field. Each holds what the terminal would obey.
CLIENT_NAME = f"Eve [bold]Byrne[/bold] {ESC}[2J{ESC}]0;title\x07 \u202eevil"
MATTER_NAME = f"[@click=app.quit]Quit[/] [link=https://x.test]link[/link] {ESC}[31mRED"
DESCRIPTION = (
    f"About [/] unbalanced\n{ESC}]52;c;aGk=\x07 clipboard\n"
    f"{ESC}]8;;https://x.test{ESC}\\hyper{ESC}]8;;{ESC}\\ {ESC}[31mRED{ESC}[0m end"
)
STORY = f"Story [bold]b[/] {ESC}]0;title\x07 and \u202edrow"
REPLY = (
    f"Reply [bold]not bold[/bold] [@click=app.quit]x[/] {ESC}[2J {ESC}]0;title\x07 "
    f"{ESC}]52;c;aGk=\x07 {ESC}]8;;https://x.test{ESC}\\x{ESC}]8;;{ESC}\\ "
    f"{ESC}[31mRED{ESC}[0m \u202eevil NUL\x00here"
)
# The longest line a reply may carry (REPLY_MAX), shown cut; a longer one is refused.
LONG_LINE = "Long" + "w" * (REPLY_MAX - 8) + "tail"
FILENAME = f"scan {ESC}[2J{ESC}]0;title\x07 [link=https://x.test]x[/] \u202efdp.exe.pdf"

# The placeholders the screens show for them (client_text.inert).
SHOWN_NAME = "Eve [bold]Byrne[/bold] ␛[2J␛]0;title␇ \ufffdevil"
SHOWN_MATTER = "[@click=app.quit]Quit[/] [link=https://x.test]link[/link] ␛[31mRED"

# What would have obeyed the client, byte for byte, had it reached the terminal.
OBEYED = [
    b"\x1b]",  # any OSC: a title (0), the clipboard (52), a hyperlink (8, markup's [link] too)
    b"\x1b[2J",
    b"\x1b[31mRED",
    "\u202e".encode(),
    b"\x00",
]


def _form_fields() -> list[dict[str, object]]:
    return [
        {"key": "name", "label": "Your name", "type": "text", "target": "client.name"},
        {"key": "matter", "label": "Matter name", "type": "text", "target": "matter.name"},
        {"key": "about", "label": "About", "type": "multiline", "target": "matter.description"},
        {"key": "story", "label": "Your story", "type": "multiline"},
    ]


def _post_raw(browser: Browser, path: str, body: bytes, content_type: str) -> httpx.Response:
    return browser.http.post(path, content=body, headers={"Content-Type": content_type})


def _urlencoded(fields: dict[str, str], *, raw_tail: str = "") -> bytes:
    """A form body as a browser encodes it; `raw_tail` is appended as it is (percent-escapes a
    browser would never send: a lone surrogate's bytes)."""
    return ("&".join(f"{quote(k)}={quote(v)}" for k, v in fields.items()) + raw_tail).encode()


def _multipart(csrf: str, filename: bytes) -> tuple[bytes, str]:
    """An upload written byte for byte, as a browser sends it: the name raw (RFC 7578 4.2)."""
    boundary = "b0undary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{csrf}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="'
    ).encode()
    body += filename + b'"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4 scan\r\n'
    body += f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


@pytest.fixture
def browser(service: Service) -> Iterator[Browser]:
    opened = Browser(service.base)
    try:
        yield opened
    finally:
        opened.close()


def test_hostile_client_text_through_portal_and_sync_is_shown_never_obeyed(
    env: dict[str, str], service: Service, firm_url: str, browser: Browser, tmp_path: Path
) -> None:
    firm = build_firm(firm_url, [1])
    repo = firm.repo
    client = firm.clients[0]
    m = client.matters[0]
    repo.add_invoice(m, number="INV-1", issued_on=date(2026, 1, 5), lines=[("Advice", "1", 100)])
    form = repo.add_form("Intake", fields=_form_fields(), rule=FormRule.ASSOCIATE, matter_id=m)
    repo.share(ItemKind.FORM, form, confirmed=True)
    portal = PortalClient(service.base, service.token, document_content=repo.document_content)
    try:
        activate_clients(firm, service, portal)
        deliver_all(repo, portal)
    finally:
        portal.close()

    browser.log_in(client.email)
    messages = f"/m/{m}/messages"

    # What cannot travel in UTF-8 is refused with a clear 400, or arrives replaced: never 500.
    csrf = csrf_of(browser.get(messages).text)
    raw = _post_raw(
        browser,
        messages,
        b"csrf=" + csrf.encode() + b"&body=bad\xff\xfebytes",
        "application/x-www-form-urlencoded",
    )
    assert raw.status_code == 400, raw.text[:300]
    assert "The form could not be read. Go back, reload the page and try again." in raw.text
    too_long = browser.submit(messages, {"body": "x" * 100_000})
    assert too_long.status_code == 400
    assert f"Messages can be at most {REPLY_MAX:,} characters long." in too_long.text

    # The client's reply, and the longest line one may hold.
    for body in (REPLY, LONG_LINE):
        sent = browser.submit(messages, {"body": body})
        assert sent.status_code == 200 and "Your message was sent." in sent.text

    # The intake form: their name, their matter's name and description, a story — and a lone
    # surrogate's bytes percent-encoded, which decode to replacement characters.
    page = f"/m/{m}/forms/{form}"
    answers = {
        "csrf": csrf_of(browser.get(page).text),
        "field-name": CLIENT_NAME,
        "field-matter": MATTER_NAME,
        "field-about": DESCRIPTION,
    }
    submitted = _post_raw(
        browser,
        page,
        _urlencoded(answers, raw_tail="&field-story=" + quote(STORY) + "%ED%A0%80"),
        "application/x-www-form-urlencoded",
    )
    assert submitted.status_code == 200 and "Your form was submitted" in submitted.text

    # Two uploads: the hostile name in raw UTF-8, and a name that is not UTF-8 at all.
    documents = f"/m/{m}/documents"
    for name in (FILENAME.encode(), b"not\xff\xfeutf8.pdf"):
        body, ctype = _multipart(csrf_of(browser.get(documents).text), name)
        uploaded = _post_raw(browser, documents, body, ctype)
        assert uploaded.status_code == 200, uploaded.text[:300]

    # `portal-tui sync`, as cron runs it.
    settings = {
        **env,
        "PORTAL_TUI_DATABASE_URL": firm_url,
        "PORTAL_TUI_PORTAL_URL": service.base,
        "PORTAL_TUI_PORTAL_TOKEN": service.token,
    }
    synced = portal_tui(settings, "sync")
    assert synced.returncode == 0, synced.stderr
    # Two replies, a form, two uploads, and the client's first views of the form and thread.
    assert "7 change(s) from clients applied" in synced.stdout, synced.stdout

    _assert_stored_exactly(repo, client.id, m, form)
    # Shared back, so that Preview as client lists the client's file by its name.
    (upload,) = [d for d in repo.list_documents(matter_id=m).rows if d.name == FILENAME]
    repo.share(ItemKind.DOCUMENT, upload.id, confirmed=True)
    firm.close()

    written = tmp_path / "written.bin"
    socket = tmp_path / "tmux.sock"
    term = start(socket, terminal_env(settings, tmp_path), "--staff-user admin")
    try:
        term.record(written)
        _walk_every_screen(term, tmp_path / "screens.txt")
    finally:
        kill_server(socket)

    data = written.read_bytes()
    assert "␛[2J".encode() in data, "the capture saw the client's text, made visible"
    # The app's own OSC, the only one: the mouse pointer's shape (Textual).
    data = re.sub(rb"\x1b\]22;[a-z-]+\x07", b"", data)
    for sequence in OBEYED:
        assert sequence not in data, sequence
    assert b"wtail" not in data  # the longest line, cut for display


def _assert_stored_exactly(repo: Repository, client_id: int, matter_id: int, form: int) -> None:
    """The firm keeps every character the client typed; only NUL, which no database holds, is
    kept as its visible symbol U+2400, and bytes that were not UTF-8 as U+FFFD."""
    replies = sorted(r.body for r in repo.list_messages(matter_id=matter_id).rows if r.from_client)
    assert replies == sorted([REPLY.replace("\x00", "\u2400"), LONG_LINE])
    assert repo.client(client_id).name == CLIENT_NAME
    matter = repo.matter(matter_id)
    assert (matter.name, matter.description) == (MATTER_NAME, DESCRIPTION)
    (submission,) = repo.form_submissions(form)
    story = submission.answers["story"]
    assert story.startswith(STORY) and set(story[len(STORY) :]) == {"\ufffd"}, ascii(story)
    assert submission.answers["name"] == CLIENT_NAME
    names = {d.name for d in repo.list_documents(matter_id=matter_id).rows if d.from_client}
    assert FILENAME in names
    (mangled,) = names - {FILENAME}
    assert mangled.startswith("not") and mangled.endswith("utf8.pdf") and "\ufffd" in mangled
    folders = {d.folder_name for d in repo.list_documents(matter_id=matter_id).rows}
    assert folders == {CLIENT_PORTAL_FOLDER}


MATTER_SECTIONS = [label for _, label in SECTIONS]
ACTIVITY_LISTS = [label for _, label in ACTIVITIES]
_STATUS = re.compile(r"^ (Matters|Matter Details|Activities)\b")


def _status(screen: str) -> str:
    """The status line: where the user is, and what the highlighted row is."""
    lines = [line.strip() for line in screen.splitlines() if _STATUS.match(line)]
    return lines[-1] if lines else ""


def _walk_every_screen(term: Terminal, keep: Path) -> None:
    """Every screen that shows the client's text, by keys as a user would; each screen as
    shown is kept in `keep` (for the one reading a failure).

    Textual moves the focus a moment after the key that asks for it, so a key sent at once
    would go to the widget focused before: each step waits for what shows the focus has
    moved (the status line names the highlighted section, or a list's row once the list has
    the focus), and a navigation key that changed nothing is sent again."""
    screens: list[str] = []

    def see(what: str, test: Callable[[str], bool]) -> str:
        shown = term.wait_for(lambda s: test(joined(s)), what)
        screens.append(f"== {what}\n{shown}")
        keep.write_text("\n".join(screens))
        return shown

    def go_to(prefix: str, order: list[str], target: str) -> None:
        """Move a navigation list's highlight to `target`, reading where it is from the
        status line (`prefix` + the highlighted label). Only a key that moved it shows the
        list has the focus: a `target` already named is left and come back to."""
        deadline = time.monotonic() + TIMEOUT_S
        tries, moved = 0, False
        while True:
            line = _status(term.screen())
            here = next((o for o in order if line.startswith(prefix + o)), None)
            if here == target and moved:
                see(f"{prefix}{target}", lambda s: True)
                return
            assert time.monotonic() < deadline, f"cannot reach {target}: at {line!r}"
            if here is None or here == target:  # not named yet, or not by a key: move
                ends = (order[0], order[-1])
                key = "Down" if (here != ends[1] and tries % 2 == 0) or here == ends[0] else "Up"
            else:
                key = "Down" if order.index(here) < order.index(target) else "Up"
            tries += 1
            term.keys(key)
            with contextlib.suppress(AssertionError):  # the key went elsewhere: again
                term.wait_for(lambda s, was=line: _status(s) != was, "a move", timeout=1.0)
                moved = True

    def back(what: str, test: Callable[[str], bool]) -> None:
        """Esc, and wait for it to be taken: two at once would read as one Alt+Esc."""
        term.keys("Escape")
        see(what, test)

    def back_to_matters() -> None:
        # Esc goes up one level: from inside a section (its footer says "esc Tabs") to the
        # matter's tabs, and from there out of the matter.
        if "esc Tabs" in joined(term.screen()):
            back("the matter's tabs", lambda s: "esc Tabs" not in s and "esc Back" in s)
        back("the Matters list", lambda s: "Summary" not in s and "Details" in s)

    def open_section(section: str, test: Callable[[str], bool], inside: str) -> str:
        """From the Matters list: open the matter, highlight its `section`, check the
        screen, and move into it (`inside` shows once the focus is there)."""
        term.keys("Enter")
        see("the Summary", lambda s: "Client: Eve" in s)
        go_to("Matter Details > 2026-0001 > ", MATTER_SECTIONS, section)
        shown = see(section, test)
        term.keys("Enter")
        see(f"the focus in {section}", lambda s: inside in s)
        return shown

    # Matters: the client's and the matter's names in the list, and on the status line.
    see("the status line", lambda s: f"Matters > 2026-0001 {SHOWN_MATTER} (portal ON)" in s)
    term.keys("Enter")
    summary = see("the Summary", lambda s: "␛[31mRED␛[0m end" in s)
    assert f"Client: {SHOWN_NAME}" in joined(summary)
    assert "About [/] unbalanced ␛]52;c;aGk=␇ clipboard" in joined(summary)
    back_to_matters()

    # Documents: the uploads by their names, and the share history's title.
    open_section(
        "Documents", lambda s: "scan ␛[2J␛]0;title␇ [link=" in s, "> Documents | Not shared"
    )
    term.keys("Down")
    see("the hostile upload", lambda s: "> Documents | Shared" in s)  # (shared back, above)
    term.keys("h")
    see("its share history", lambda s: "Share history: scan ␛[2J" in s and "Reading" not in s)
    back("the Documents again", lambda s: "Share history" not in s)
    back_to_matters()

    # Messages: the thread and the reply in full; the longest line cut for display.
    open_section(
        "Messages",
        lambda s: "Reply [bold]not bold[/bold] [@click=app.quit]x[/]" in s,
        "> Messages | From the client",
    )
    see("the long line, cut", lambda s: "Longwww" in s)
    term.keys("Up")
    reply = see("the reply in full", lambda s: "␛]52;c;aGk=␇" in s and "NUL␀here" in s)
    assert "␛]8;;https://x.test␛\\x␛]8;;␛\\ ␛[31mRED␛[0m \ufffdevil" in joined(reply)
    back_to_matters()

    # Forms: the submission's answers, and what they changed.
    open_section("Forms", lambda s: "Intake" in s, "> Forms | ")
    term.keys("Enter")
    answers = see("the submission", lambda s: "Story [bold]b[/] ␛]0;title␇ and \ufffddrow" in s)
    assert SHOWN_NAME in joined(answers)
    back("the Forms again", lambda s: "Submissions:" not in s)
    back_to_matters()

    # Client Portal > Preview as client: the matter's name, the client's shared file. The
    # focus lands on the portal's switch, which says nothing on the status line: `p` is
    # sent until it is the section's.
    open_section("Client Portal", lambda s: "Preview as client" in s, "Client Portal")
    for _ in range(10):
        term.keys("p")
        with contextlib.suppress(AssertionError):
            term.wait_for(lambda s: "What each active contact" in s, "the preview", timeout=1.0)
            break
    see("the preview", lambda s: f"2026-0001 {SHOWN_MATTER}" in s and "scan ␛[2J" in s)
    back("the Client Portal again", lambda s: "What each active contact" not in s)
    back_to_matters()

    # Activities: the client's name on the invoices, the reply among the messages (each list
    # shows as its name is highlighted).
    term.keys("2")  # Activities open on their first list, Invoices, focused
    see("the Invoices", lambda s: "INV-1" in s and "Eve [bold]Byrne" in s)
    term.keys("t")  # back to Activities' own lists
    go_to("Activities > ", ACTIVITY_LISTS, "Messages")
    see("the Messages", lambda s: "Reply [bold]not bold" in s and "Longwww" in s)

    # The app is still running (no markup quit it): it quits when asked.
    assert "EXIT=" not in term.screen()
    term.keys("q")
    term.wait_for(lambda s: "EXIT=0" in s, "the app to quit")
