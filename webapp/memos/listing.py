"""The rows of the memo lists (the inbox, all memos, mine) as the pages show them: every
memo's texts formatted in Python, in one call per list.

A list once called half a dozen template functions per memo (its number in the office's
digits, its date, its marks, how long it has waited, each translated), and a call from a
template costs far more than the little work it asks for: the twenty memos were half of
the inbox page's instructions (issue 19). ``listed`` formats them all at once; the
``memo_list`` macro (templates/_macros.html) only writes them out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from babel.dates import format_timedelta
from flask_babel import get_locale
from flask_babel import gettext as _

from models import Memo
from webapp.memos.display import SECRECIES, URGENCIES, state_label
from workflow import clock
from workflow.queries import MemoHeading
from workflow.thai import digits, thai_date

NORMAL = "normal"  # the urgency and the secrecy that carry no mark


@dataclass(slots=True)
class Texts:
    """What a list row shows of a memo besides its subject and author ("" for nothing)."""

    number: str
    date: str
    urgency: str
    secrecy: str
    state: str
    state_class: str  # the state's family (``pending`` for every pending state)
    waited: str


def _mark(labels: Mapping[str, object], value: str) -> str:
    return "" if value == NORMAL else str(labels.get(value, value))


def listed(
    memos: Sequence[Memo | MemoHeading], show_waited: bool, show_state: bool
) -> list[tuple[Memo | MemoHeading, Texts]]:
    """Each memo with its row's texts, in the page's language."""
    number_label, no_number = _("No."), _("No number yet")
    if show_waited:
        # The page's locale and clock once for the list; the same words as Flask-Babel's
        # format_timedelta (which looks the locale up on every call).
        waiting, locale, now = _("waiting %(time)s"), get_locale(), clock.utcnow_naive()
    rows = []
    for memo in memos:
        thai_digits = memo.organisation.thai_digits
        texts = Texts(
            number=f"{number_label} {digits(memo.number, thai_digits)}"
            if memo.number
            else no_number,
            date=thai_date(memo.date, thai_digits) if memo.date else "",
            urgency=_mark(URGENCIES, memo.urgency),
            secrecy=_mark(SECRECIES, memo.secrecy),
            state=state_label(memo.state, memo) if show_state else "",
            state_class=memo.state.split("_")[0],
            waited=waiting
            % {"time": format_timedelta(now - memo.updated_at, threshold=1.1, locale=locale)}
            if show_waited
            else "",
        )
        rows.append((memo, texts))
    return rows
