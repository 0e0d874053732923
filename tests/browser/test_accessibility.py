"""Accessibility: axe-core over every screen, for every role, in Thai and in English.

axe-core (the npm package, pinned in tests/browser/package.json; ``npm ci --prefix
tests/browser`` installs it) is added to every page Chromium opens, before the page's own
scripts, through the DevTools protocol, so each page keeps the Content Security Policy
users get (no inline or foreign script; none at all on the print view). Every rule axe
runs by default is run (WCAG 2.0-2.2 A and AA, and its best practices); a violation of
impact ``critical`` or ``serious`` fails, and so does a page without its landmarks (the
print view had no ``<main>``), each named by rule, impact, the offending elements'
selectors and the pages' addresses. Every screen is also laid out at 375 px and must not
scroll sideways or offer a tap target under 44 px (conftest's phone check).

Thai is the full sweep; English (``?lang=en``, kept by its cookie) covers the main
screens of every role. One server and one browser; each person keeps one page. The
screens checked are listed in ``test-artifacts/accessibility-screens.txt``.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from typing import Any, Protocol

import pytest

from tests.browser.conftest import DESKTOP, PHONE, ROOT, LiveServer, Person, check_phone_layout
from tests.conftest import PASSWORD, SEED_CSV, seed_memo_fields
from workflow import acting, actions, admin
from workflow.accounts import find_user
from workflow.content import document_hash

pytestmark = [
    pytest.mark.browser,
    # As in test_browser_memo_flow: a connection the browser drops mid-file leaves a file
    # for the garbage collector, reported as an "unraisable" warning in whichever test runs.
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

AXE = ROOT / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
FAILING_IMPACTS = frozenset({"critical", "serious"})
# Rules that fail whatever axe calls their impact ("moderate"): every page has its one
# main landmark and all its content in landmarks, so screen-reader users can jump to it.
ALSO_FAILING = frozenset({"landmark-one-main", "region", "landmark-no-duplicate-main"})
# Rules whose "needs review" results fail too: axe cannot tell whether an aria-label on a
# plain element with text is read (it is not, by most screen readers), but it never should be.
REVIEWED = frozenset({"aria-prohibited-attr"})
LISTED = ROOT / "test-artifacts" / "accessibility-screens.txt"

RUN_AXE = """
async (reviewed) => {
  const result = await axe.run(document, {resultTypes: ['violations', 'incomplete']});
  const found = result.violations.concat(
    result.incomplete.filter(v => reviewed.includes(v.id) || reviewed.includes('*')));
  return found.map(v => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl.split('?')[0],
    nodes: v.nodes.map(n => ({
      target: n.target.map(t => Array.isArray(t) ? t.join(' >>> ') : String(t)).join(' '),
      summary: (n.failureSummary || '').replace(/\\s+/g, ' ').trim(),
    })),
  }));
}
"""


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.is_file():
        pytest.skip(
            f"axe-core is not installed ({AXE} is missing): run npm ci --prefix tests/browser"
        )
    return AXE.read_text(encoding="utf-8")


def failing(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v for v in violations if v["impact"] in FAILING_IMPACTS or v["id"] in ALSO_FAILING]


class HasPage(Protocol):
    page: Any


@dataclass
class PageOnly:
    """Enough of a Person for Sweep.check: a page."""

    page: Any


@dataclass
class Sweep:
    """What was checked, and what failed, grouped by rule and element so that a problem
    of the layout shows once with every page it is on."""

    checked: list[str] = field(default_factory=list)
    # (rule id, impact, help, help URL) -> (selector, axe's summary) -> pages
    violations: dict[tuple[str, str, str, str], dict[tuple[str, str], list[str]]] = field(
        default_factory=dict
    )
    layout: list[str] = field(default_factory=list)

    def check(self, person: HasPage, where: str) -> None:
        """Check the page ``person`` is on now: axe at desktop width, then the 375 px layout."""
        page = person.page
        page.wait_for_load_state("load")
        url = page.url
        for violation in failing(page.evaluate(RUN_AXE, sorted(REVIEWED))):
            rule = (violation["id"], violation["impact"], violation["help"], violation["helpUrl"])
            for node in violation["nodes"]:
                pages = self.violations.setdefault(rule, {}).setdefault(
                    (node["target"], node["summary"]), []
                )
                pages.append(f"{where} {url}")
        page.set_viewport_size(PHONE)
        try:
            check_phone_layout(page, f"{where} {url}")
        except AssertionError as problem:
            self.layout.append(str(problem).split("\nassert")[0])
        finally:
            page.set_viewport_size(DESKTOP)
        self.checked.append(f"{where} {re.sub(r'^https?://[^/]+', '', url)}")

    def visit(self, person: Person, path: str, where: str, status: int = 200) -> None:
        """Open ``path`` as ``person``, make sure it is the screen meant (by its status),
        and check it."""
        response = person.page.goto(path)
        got = response.status if response is not None else None
        assert got == status, f"{where}: {path} answered {got}, expected {status}"
        self.check(person, where)

    def report(self) -> str:
        lines = []
        for (rule, impact, help_text, help_url), elements in self.violations.items():
            lines.append(f"{rule} ({impact}): {help_text} <{help_url}>")
            for (target, summary), pages in elements.items():
                lines.append(f"  element {target}\n    {summary[:400]}")
                lines.append(f"    on {len(pages)} page(s): " + "; ".join(pages[:6]))
                if len(pages) > 6:
                    lines.append(f"    ... and {len(pages) - 6} more")
        lines += [f"375 px layout: {problem}" for problem in self.layout]
        return "Accessibility problems:\n" + "\n".join(lines)


@dataclass
class Memos:
    """The memos every screen is shown with, one per state worth seeing, by name."""

    ids: dict[str, int]
    hashes: dict[str, str]
    head_id: int


def set_up_memos(server: LiveServer) -> Memos:
    """Memos in every state, written by the officer (one by the head), with attachments,
    an earlier round, urgency and secrecy; an API token, an authorisation in force and a
    deactivated account for the admin's pages."""

    def work(session: Any) -> Memos:
        officer, head, palad, mayor, keeper = (
            find_user(session, name) for name in ("officer", "head", "palad", "mayor", "admin")
        )
        assert officer and head and palad and mayor and keeper
        csv = SEED_CSV.read_bytes()

        def memo(author: Any = officer, submit: bool = True, **fields: str) -> int:
            memo_id: int = actions.create_memo(session, author, **(seed_memo_fields() | fields)).id
            if author is officer:
                actions.add_attachment(session, memo_id, officer, "ita-measures-2565.csv", csv)
            if submit:
                actions.submit(session, memo_id, author)
            return memo_id

        ids = {
            "draft": memo(submit=False, subject="ร่างรายงานผลการประเมิน ITA"),
            "pending_head": memo(urgency="most_urgent"),
            "pending_palad": memo(subject="ขออนุมัติจัดซื้อวัสดุสำนักงาน"),
            "pending_mayor": memo(secrecy="confidential", subject="รายงานการสอบข้อเท็จจริง"),
            "returned": memo(subject="ขอความเห็นชอบแผนอัตรากำลัง"),
            "signed": memo(),
            "rejected": memo(subject="ขออนุมัติเดินทางไปราชการต่างประเทศ"),
            "withdrawn": memo(subject="ขอยกเลิกคำสั่งเดิม"),
            "by_head": memo(author=head, subject="รายงานผลการฝึกอบรม"),
        }
        # pending_palad went round once: returned, resubmitted, endorsed.
        actions.return_memo(session, ids["pending_palad"], head, "กรุณาแนบใบเสนอราคา")
        actions.submit(session, ids["pending_palad"], officer)
        for name in ("pending_palad", "pending_mayor", "signed", "rejected"):
            actions.endorse(session, ids[name], head, "เห็นควรพิจารณา")
        for name in ("pending_mayor", "signed", "rejected"):
            actions.endorse(session, ids[name], palad, "เห็นควรทราบ")
        actions.sign(session, ids["signed"], mayor, "acknowledged", "ทราบ ดำเนินการต่อไป")
        actions.reject(session, ids["rejected"], mayor, "ไม่มีงบประมาณ")
        actions.return_memo(session, ids["returned"], head, "กรุณาแก้ไขตัวเลขในข้อ 2")
        actions.withdraw(session, ids["withdrawn"], officer)

        admin.create_token(session, keeper, head, "รายงานประจำเดือน")
        today = datetime.date.today()
        acting.add_authorisation(
            session,
            keeper,
            keeper.organisation,
            palad,
            "head_of_office",
            "ปฏิบัติราชการแทน",
            "คำสั่ง อบต.ควนขนุน ที่ 12/2569",
            today,
            today + datetime.timedelta(days=7),
        )
        retired = admin.add_user(
            session,
            keeper,
            keeper.organisation,
            username="retired",
            full_name="นายสมชาย เกษียณ",
            position="เจ้าพนักงานธุรการ",
            role="officer",
            password=PASSWORD,
        )
        admin.set_active(session, keeper, retired, False)
        session.flush()
        hashes = {
            name: document_hash(actions.get_memo(session, ids[name], officer))
            for name in ("signed", "pending_palad")
        }
        return Memos(ids=ids, hashes=hashes, head_id=head.id)

    memos: Memos = server.run(work)
    return memos


def sign_in(person: Person, language: str) -> None:
    page = person.page
    page.goto(f"/login?lang={language}")
    page.fill("input[name=username]", person.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/(admin/users)?$"))


def submit_and_wait(page: Any, button: str) -> None:
    with page.expect_navigation():
        page.click(button)


class Screens:
    """Every screen one person sees, in one language. ``full`` (Thai) shows the memo in
    each state and the print view; English shows the main screens."""

    def __init__(self, sweep: Sweep, person: Person, memos: Memos, language: str) -> None:
        self.sweep = sweep
        self.person = person
        self.page = person.page
        self.memos = memos
        self.full = language == "th"
        self.where = f"[{person.username} {language}]"

    def visit(self, path: str, what: str, status: int = 200) -> None:
        self.sweep.visit(self.person, path, f"{self.where} {what}", status)

    def check(self, what: str) -> None:
        self.sweep.check(self.person, f"{self.where} {what}")

    def lists(self) -> None:
        self.visit("/memos", "all memos")
        self.visit("/memos?q=คุณธรรม&state=signed", "all memos searched")
        self.visit("/memos?q=nothing-matches-this", "all memos, none found")
        self.visit("/memos/999999", "error 404", status=404)

    def memo_pages(self, names: list[str]) -> None:
        """The memo in each state given (the first also in English); the print view and
        the verify page (matching and not) of the signed memo."""
        for name in names if self.full else [*names[:1], "signed"]:
            self.visit(f"/memos/{self.memos.ids[name]}", f"memo {name}")
        signed = self.memos.ids["signed"]
        if self.full:
            self.visit(f"/memos/{signed}/print", "print view signed")
        self.visit(f"/memos/{signed}/verify?h={self.memos.hashes['signed']}", "verify (matches)")
        self.visit(f"/memos/{signed}/verify?h={'0' * 64}", "verify (differs)")

    def officer(self) -> None:
        ids = self.memos.ids
        self.visit("/", "inbox")
        self.visit("/memos/mine", "my memos")
        self.lists()
        self.memo_pages(
            [
                *("draft", "returned", "pending_head", "pending_palad", "pending_mayor"),
                *("signed", "rejected", "withdrawn"),
            ]
        )
        self.visit(f"/memos/{ids['draft']}/edit", "edit draft")
        if self.full:
            self.visit(f"/memos/{ids['returned']}/edit", "edit returned")
            self.visit(f"/memos/{ids['draft']}/print", "print view draft")
            self.visit(f"/memos/{ids['pending_palad']}/print", "print view earlier round")
        self.visit("/admin/users", "error 403", status=403)
        # The new memo, refused by the server (the browser's own check switched off: 422
        # with the fields' messages), then saved: the memo page with its flash message.
        page = self.page
        self.visit("/memos/new", "new memo")
        page.fill("[name=to]", "")
        page.evaluate("() => { document.querySelector('form.memo-form').noValidate = true; }")
        submit_and_wait(page, "form.memo-form button[type=submit]")
        assert page.locator(".field-error").count() >= 1, "the refused form shows no errors"
        self.check("new memo refused (422)")
        page.fill("[name=to]", "นายกองค์การบริหารส่วนตำบลควนขนุน")
        page.fill("[name=subject]", "ทดสอบการเข้าถึง")
        submit_and_wait(page, "form.memo-form button[type=submit]")
        assert page.locator(".flashes").count() == 1, "no flash message after saving"
        self.check("memo saved (flash)")
        # A form sent without its CSRF token: 400.
        self.visit("/memos/new", "new memo")
        page.evaluate("() => document.querySelector('input[name=csrf_token]').remove()")
        page.fill("[name=subject]", "ไม่มีโทเค็น")
        submit_and_wait(page, "form.memo-form button[type=submit]")
        assert page.locator("main h1").count() == 1
        self.check("error 400")

    def reviewer(self, waiting: str, own: list[str]) -> None:
        self.visit("/", "inbox")
        # The count in the navigation is read with its meaning ("3 waiting"), not bare.
        inbox = self.page.get_by_role("link", name=re.compile(r"รอพิจารณา \d+ เรื่อง|\d+ waiting"))
        assert inbox.count() == 1, "the inbox link's name does not say what its count means"
        self.visit("/memos/mine", "my memos")
        self.visit("/memos/new", "new memo")
        self.lists()
        self.memo_pages([waiting, "signed", "rejected", "returned", *own])
        self.visit("/admin/users", "error 403", status=403)
        # A stale page: the form carries a version the memo has left behind (409).
        page = self.page
        self.visit(f"/memos/{self.memos.ids[waiting]}", f"memo {waiting}")
        page.evaluate("() => { document.querySelector('.decide-form [name=version]').value = 1; }")
        page.fill("[name=opinion]", "เห็นควรทราบ")
        submit_and_wait(page, ".decide-form button[name=action][value=return]")
        assert page.locator("#new-state").count() == 1, "not the conflict page"
        self.check("error 409")

    def admin(self) -> None:
        page = self.page
        self.visit("/admin/users", "users")
        self.visit(f"/admin/users/{self.memos.head_id}", "user")
        page.fill("[name=label]", "ระบบสารบรรณ")
        submit_and_wait(page, "form[action$='/tokens'] button[type=submit]")
        assert page.locator("#new-token").count() == 1, "the new token is not shown"
        self.check("user, new token shown")
        self.visit("/admin/route", "route")
        self.visit("/admin/acting", "acting")
        page.evaluate("() => { document.querySelector('#acting-form').noValidate = true; }")
        submit_and_wait(page, "#acting-form button[type=submit]")
        assert page.locator(".field-error").count() >= 1, "the refused form shows no errors"
        self.check("acting refused (422)")
        self.visit("/admin/organisation", "settings")
        self.visit("/admin/audit", "audit")
        self.lists()
        self.memo_pages(["pending_head", "signed", "rejected", "withdrawn"])
        self.visit("/memos/new", "error 403", status=403)
        self.visit("/logout", "sign out")

    def visitor(self) -> None:
        page = self.page
        self.visit(f"/login?lang={'th' if self.full else 'en'}", "login")
        page.fill("input[name=username]", "officer")
        page.fill("input[name=password]", "wrong-password")
        submit_and_wait(page, "button[type=submit]")
        assert page.locator("#login-error").count() == 1, "no refusal shown"
        self.check("login refused")
        self.visit("/no-such-page", "error 404", status=404)


@pytest.mark.slow
def test_every_screen_for_every_role_passes_axe(
    axe_source: str, chromium: Any, live_server: LiveServer
) -> None:
    memos = set_up_memos(live_server)
    sweep = Sweep()
    opened: list[Person] = []

    def person(username: str, language: str) -> Screens:
        someone = Person(chromium, live_server, username)
        opened.append(someone)
        someone.context.add_init_script(script=axe_source)
        someone.page.on("dialog", lambda dialog: dialog.accept())
        if username != "visitor":
            sign_in(someone, language)
        return Screens(sweep, someone, memos, language)

    try:
        for language in ("th", "en"):
            person("visitor", language).visitor()
            person("officer", language).officer()
            person("head", language).reviewer("pending_head", own=["by_head"])
            person("palad", language).reviewer("pending_palad", own=[])
            person("mayor", language).reviewer("pending_mayor", own=[])
            person("admin", language).admin()
    finally:
        for someone in opened:
            someone.close()
    LISTED.parent.mkdir(parents=True, exist_ok=True)
    LISTED.write_text("\n".join(sweep.checked) + "\n", encoding="utf-8")
    if sweep.violations or sweep.layout:
        pytest.fail(sweep.report(), pytrace=False)


def test_the_check_names_rule_impact_element_and_page(axe_source: str, chromium: Any) -> None:
    """The sweep is not blind: the problems issue 18 found (white on the old gold, no
    main landmark, aria-label on a plain span) are reported by rule, impact and element."""
    context = chromium.new_context()
    try:
        context.add_init_script(script=axe_source)
        page = context.new_page()
        page.set_content(
            '<html lang="th"><head><title>x</title></head><body>'
            '<a id="new" href="#" style="color:#fff;background:#b8860b">เขียนบันทึกข้อความ</a>'
            '<span id="count" aria-label="รอพิจารณา 3 เรื่อง">3</span></body></html>'
        )
        sweep = Sweep()
        sweep.check(PageOnly(page), "[test]")
        # The same page as memoflow now writes it passes.
        page.set_content(
            '<html lang="th"><head><title>x</title></head><body><main><h1>x</h1>'
            '<a href="#" style="color:#fff;background:#8f6b0a;display:block;height:44px">'
            "เขียนบันทึกข้อความ</a>"
            '<span aria-hidden="true">3</span><span style="position:absolute;width:1px;'
            'height:1px;overflow:hidden;clip-path:inset(50%)">รอพิจารณา 3 เรื่อง</span>'
            "</main></body></html>"
        )
        fixed = Sweep()
        fixed.check(PageOnly(page), "[fixed]")
    finally:
        context.close()
    report = sweep.report()
    assert "color-contrast (serious)" in report and "element #new" in report, report
    assert "3.25" in report, report
    assert "landmark-one-main (moderate)" in report, report
    assert "aria-prohibited-attr (serious)" in report and "element #count" in report, report
    assert "[test] about:blank" in report, report
    assert not fixed.violations and not fixed.layout, fixed.report()
