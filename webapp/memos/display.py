"""How memos are shown: translated labels for states, actions and choices, Thai dates and
digits, and the memo laid out like the paper form (one block per route step).

Nothing here decides anything; it only reads what the workflow recorded.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from flask import Flask, g
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from models import Decision, Memo, Opinion, Organisation, Secrecy, Urgency, User
from webapp.db import db_session
from webapp.i18n import current_language
from workflow import clock, queries
from workflow.machine import DRAFT, REJECTED, RETURNED, SIGNED, WITHDRAWN
from workflow.permissions import can_create_memo, memo_route
from workflow.route import Route, Step, parse_route
from workflow.thai import digits, thai_date, thai_datetime

FIXED_STATES = {
    DRAFT: _l("Draft"),
    RETURNED: _l("Returned for revision"),
    SIGNED: _l("Signed"),
    REJECTED: _l("Not approved"),
    WITHDRAWN: _l("Withdrawn"),
}
ACTIONS = {
    "create": _l("Drafted"),
    "edit": _l("Edited"),
    "attach": _l("Attached a file"),
    "detach": _l("Removed a file"),
    "submit": _l("Submitted"),
    "endorse": _l("Gave an opinion and passed it on"),
    "return": _l("Returned for revision"),
    "sign": _l("Signed the memo"),
    "reject": _l("Did not approve"),
    "withdraw": _l("Withdrew the memo"),
}
DECISIONS = {
    Decision.acknowledged.value: _l("Acknowledged"),
    Decision.approved.value: _l("Approved"),
    Decision.agreed.value: _l("Agreed"),
}
URGENCIES = {
    Urgency.normal.value: _l("Normal"),
    Urgency.urgent.value: _l("Urgent"),
    Urgency.very_urgent.value: _l("Very urgent"),
    Urgency.most_urgent.value: _l("Most urgent"),
}
SECRECIES = {
    Secrecy.normal.value: _l("Not classified"),
    Secrecy.confidential.value: _l("Confidential"),
    Secrecy.secret.value: _l("Secret"),
    Secrecy.top_secret.value: _l("Top secret"),
}


def organisation_route(organisation: Organisation) -> Route:
    return parse_route(organisation.route)


def state_label(state: str, memo: Memo | queries.MemoHeading | None = None) -> str:
    """ "รอหัวหน้าสำนักปลัดพิจารณา" for a pending state, the fixed label otherwise."""
    if state in FIXED_STATES:
        return str(FIXED_STATES[state])
    step: Step | None = None
    if memo is not None:
        step = memo_route(memo).step_for_state(state)
    elif current_user and current_user.is_authenticated:
        step = organisation_route(current_user.organisation).step_for_state(state)
    if step is not None:
        return _("Awaiting %(title)s", title=step.title)
    return state


def state_choices(organisation: Organisation) -> list[tuple[str, str]]:
    """Every state a memo of this organisation can be in, for the list filter."""
    pending = [
        (step.state, _("Awaiting %(title)s", title=step.title))
        for step in organisation_route(organisation).steps
    ]
    fixed = [(state, str(label)) for state, label in FIXED_STATES.items()]
    return [fixed[0], *pending, *fixed[1:]]


def doc_digits(text: str | int | None, organisation: Organisation) -> str:
    """The document's own numbers (number, dates) in Thai digits if the office chose so."""
    if text is None:
        return ""
    return digits(str(text), organisation.thai_digits)


def doc_date(value: date | None, organisation: Organisation) -> str:
    return thai_date(value, organisation.thai_digits) if value else ""


def doc_datetime(value: datetime | None, organisation: Organisation) -> str:
    return thai_datetime(value, organisation.thai_digits) if value else ""


def screen_datetime(value: datetime | None, organisation: Organisation) -> str:
    """A stored UTC time on a screen that is not the document (the admin's audit page), in
    Bangkok time: in Thai as the document prints it (Buddhist era), in English as an
    English reader writes it ("26 Nov 2026, 14:05")."""
    if value is None:
        return ""
    if current_language() == "th":
        return doc_datetime(value, organisation)
    return str(format_datetime(value, "d MMM y, HH:mm"))


def file_size(size: int) -> str:
    if size < 1024:
        return _("%(n)s bytes", n=size)
    if size < 1024 * 1024:
        return _("%(n)s KB", n=f"{size / 1024:.1f}")
    return _("%(n)s MB", n=f"{size / 1024 / 1024:.1f}")


@dataclass
class StepBlock:
    """One continuation block (บันทึกต่อท้าย): a route step and what was decided there."""

    step: Step
    opinion: Opinion | None
    is_last: bool
    is_current: bool


@dataclass
class PaperView:
    """The memo as the paper form lays it out."""

    blocks: list[StepBlock]
    earlier_rounds: list[tuple[int, list[Opinion]]] = field(default_factory=list)


def paper_view(memo: Memo) -> PaperView:
    route = memo_route(memo)
    current = route.step_for_state(memo.state)
    this_round = {o.step: o for o in memo.opinions if o.round == memo.round}
    blocks = [
        StepBlock(
            step=step,
            opinion=this_round.get(step.key),
            is_last=route.is_last(step),
            is_current=current is not None and current.key == step.key,
        )
        for step in route.steps
    ]
    earlier: dict[int, list[Opinion]] = defaultdict(list)
    for opinion in memo.opinions:
        if opinion.round < memo.round:
            earlier[opinion.round].append(opinion)
    return PaperView(blocks=blocks, earlier_rounds=sorted(earlier.items()))


def nav_inbox_count(user: User) -> int | None:
    """The number in the navigation bar; None if it cannot be had (an error page after a
    database failure must still render). The inbox page has counted it already."""
    if user.is_admin or g.get("database_busy"):
        return None
    if "inbox_count" in g:
        return int(g.inbox_count)
    try:
        return queries.inbox_count(db_session(), user)
    except SQLAlchemyError:
        return None


def register(app: Flask) -> None:
    """Make the labels and formatters available to every template."""
    app.jinja_env.globals.update(
        state_label=state_label,
        action_label=lambda action: str(ACTIONS.get(action, action)),
        decision_label=lambda decision: str(DECISIONS.get(decision or "", decision or "")),
        urgency_label=lambda value: str(URGENCIES.get(value, value)),
        secrecy_label=lambda value: str(SECRECIES.get(value, value)),
        doc_digits=doc_digits,
        doc_date=doc_date,
        doc_datetime=doc_datetime,
        screen_datetime=screen_datetime,
        doc_day=doc_day,
        file_size=file_size,
        may_write_memos=can_create_memo,
        URGENCIES=URGENCIES,
        SECRECIES=SECRECIES,
        DECISIONS=DECISIONS,
    )

    @app.context_processor
    def _navigation() -> dict[str, object]:
        if current_user and current_user.is_authenticated:
            return {"inbox_count": nav_inbox_count(current_user)}
        return {"inbox_count": None}


def doc_day(value: datetime | None, organisation: Organisation) -> str:
    """The Bangkok calendar day of a stored UTC time, as the paper prints dates."""
    if value is None:
        return ""
    return thai_date(clock.to_local(value).date(), organisation.thai_digits)
