"""History at scale in headless Chromium against a real ``textport demo`` holding
imported backups: the host pages history (it never replays it), and the browser searches
it, pages a long thread up to its first text, shows an MMS picture, and paints what it
cached when the host is gone."""

from __future__ import annotations

import contextlib
import mimetypes
import re
import signal
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, Route, expect

from tests.e2e.browser import WAIT, chromium, conversations, open_conversation, open_paired
from tests.e2e.demo import Demo, running_demo, textport
from textport.host.web import DIST
from textport.transports.sim import DEE

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "tests" / "samples" / "sms-backup-restore"
LABELS = "items => items.map((item) => item.getAttribute('aria-label'))"
SENDER_OF_THE_PICTURE = "+15550000003"
"""Who sent sample_mms.xml's image.png ("Contact C" there; sms_and_mms.xml names the number
otherwise, and the conversation keeps the name it was imported with first)."""


def _thread_page() -> int:
    """Messages per thread page, as the web client asks for them (web/src/client/pager.ts)."""
    source = (ROOT / "web" / "src" / "client" / "pager.ts").read_text()
    match = re.search(r"^export const THREAD_PAGE = (\d+);$", source, re.MULTILINE)
    assert match, "pager.ts no longer says THREAD_PAGE"
    return int(match.group(1))


THREAD_PAGE = _thread_page()


def _rows(data: Path, query: str, *args: object) -> list[tuple[object, ...]]:
    """Read the host's database (read-only, while the host runs)."""
    uri = f"{(data / 'textport.db').as_uri()}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
        return db.execute(query, args).fetchall()


def _open(page: Page, data: Path, peers: str) -> None:
    """Open the conversation with ``peers``: by its title (its name, else its numbers) and
    snippet, as two imported conversations may have the same name."""
    name, snippet = _rows(data, "SELECT name, snippet FROM conversations WHERE peers = ?", peers)[0]
    title = str(name or peers.replace(",", ", "))
    item = re.compile(f"^{re.escape(title)},.*: {re.escape(str(snippet))}$")
    conversations(page).get_by_role("listitem", name=item).get_by_role("button", name=title).click()


def _longest(data: Path) -> tuple[int, str, int]:
    """The longest seeded conversation: its id, title and size (Dee writes on her own, so
    her thread could grow while it is compared)."""
    conv, title, count = _rows(
        data,
        "SELECT c.id, coalesce(c.name, c.peers), count(*) FROM messages m "
        "JOIN conversations c ON c.id = m.conv WHERE c.peers != ? "
        "GROUP BY c.id ORDER BY count(*) DESC LIMIT 1",
        DEE,
    )[0]
    return int(str(conv)), str(title), int(str(count))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """The demo with its seeded months of texts, and two backups imported while it runs."""
    data = tmp_path_factory.mktemp("history") / "data"
    with running_demo(data) as demo:
        for sample in ("sms_and_mms.xml", "sample_mms.xml"):
            imported = textport("import", "--data", str(data), str(SAMPLES / sample))
            assert imported.returncode == 0, imported.stderr
        yield demo


@pytest.fixture(scope="module")
def page(demo: Demo) -> Iterator[Page]:
    """A browser paired after the imports: it is reset and pages everything it shows."""
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1200, "height": 800})
        open_paired(page, demo.link)
        yield page


def test_search_finds_an_imported_text_and_opens_its_thread_at_it(page: Page) -> None:
    page.get_by_role("searchbox", name="Search").fill("Body text 18")
    results = page.get_by_role("list", name="Search results")
    hit = results.get_by_role("listitem", name=re.compile(r": Body text 18$"))
    expect(hit).to_have_count(1, timeout=WAIT)
    expect(hit.locator("mark").first).to_have_text(re.compile("Body|text|18"))

    hit.get_by_role("button").click()
    thread = page.get_by_role("list", name="Messages")
    found = thread.locator("li.bubble").filter(
        has=page.locator("p.body", has_text=re.compile(r"^Body text 18$"))
    )
    expect(found).to_have_class(re.compile(r"\bhit\b"), timeout=WAIT)
    expect(found).to_be_in_viewport()
    page.get_by_role("searchbox", name="Search").fill("")


def test_a_long_thread_pages_up_to_its_first_text_without_gaps_or_duplicates(
    page: Page, demo: Demo
) -> None:
    conv, title, count = _longest(demo.data)
    assert count > THREAD_PAGE, "the demo's longest thread fits one page"
    open_conversation(page, title)
    thread = page.get_by_role("list", name="Messages")
    bubbles = thread.locator("li.bubble")
    expect(bubbles).to_have_count(THREAD_PAGE, timeout=WAIT)
    older = thread.get_by_role("status").filter(has_text="Loading older messages…")

    pages = 1
    while older.count() > 0:
        shown = bubbles.count()
        thread.evaluate("list => list.scrollTo(0, 0)")
        page.wait_for_function(
            "([list, shown]) => list.querySelectorAll('li.bubble').length > shown",
            arg=[thread.element_handle(), shown],
            timeout=WAIT,
        )
        pages += 1
        assert pages <= count // THREAD_PAGE + 1, "more pages than the thread holds"
    assert pages == -(-count // THREAD_PAGE)

    ids = bubbles.evaluate_all("items => items.map((item) => Number(item.dataset.msg))")
    bodies = thread.locator("li.bubble p.body").all_text_contents()
    rows = _rows(demo.data, "SELECT id, body FROM messages WHERE conv = ? ORDER BY at, id", conv)
    assert ids == [row[0] for row in rows]
    assert bodies == [row[1] for row in rows]


def test_an_imported_picture_shows_inline(page: Page, demo: Demo) -> None:
    _open(page, demo.data, SENDER_OF_THE_PICTURE)
    thread = page.get_by_role("list", name="Messages")
    # exact: while its bytes load, a placeholder is named "image.png (loading)".
    picture = thread.get_by_role("img", name="image.png", exact=True)
    expect(picture).to_be_visible(timeout=WAIT)
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=picture.element_handle(), timeout=WAIT
    )
    # The other attachments of the sample are files to download, with their names.
    document = re.compile(r"^Download document\.pdf \(\d+ bytes\)$")
    expect(thread.get_by_text(document)).to_be_visible()


def test_a_reload_paints_the_cached_list_and_threads_with_the_host_gone(
    page: Page, demo: Demo
) -> None:
    items = conversations(page).get_by_role("listitem")
    labels = items.evaluate_all(LABELS)
    _, longest, count = _longest(demo.data)

    demo.process.send_signal(signal.SIGTERM)
    demo.process.wait(15)

    # Nothing answers now: the page itself comes from the built client (as from the
    # browser's cache); the relay and the host are gone.
    def serve(route: Route) -> None:
        path = route.request.url.split("/", 3)[3].split("#")[0].split("?")[0] or "index.html"
        file = DIST / path
        if not file.resolve().is_relative_to(DIST.resolve()) or not file.is_file():
            route.fulfill(status=404)
            return
        kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        route.fulfill(status=200, body=file.read_bytes(), content_type=kind)

    page.route(f"http://127.0.0.1:{demo.port}/**", serve)
    page.reload()
    expect(items).to_have_count(len(labels), timeout=WAIT)
    assert items.evaluate_all(LABELS) == labels
    # The thread open before the reload (the picture's) is open again; the long one that
    # was paged to its start shows all of it.
    thread = page.get_by_role("list", name="Messages")
    expect(thread.get_by_role("img", name="image.png", exact=True)).to_be_visible(timeout=WAIT)
    open_conversation(page, longest)
    expect(thread.locator("li.bubble")).to_have_count(count)
    expect(page.get_by_text("Can't reach the relay — retrying…")).to_be_visible(timeout=WAIT)
