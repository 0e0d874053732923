"""What the official document shows, worked out from a memo: plain data for the template.

Everything Thai-specific about the form is decided here, not in the template: which
round's opinions fill the continuation blocks, how a block reads when someone signed for
someone else, which numbers become Thai digits, what the final signer decided. Nothing
here escapes text; the template does (autoescape), so every value stays as typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from models import Decision, Memo, Opinion, OpinionAction, Secrecy, Urgency
from workflow import clock
from workflow.acting import signature_lines
from workflow.audit import EventCheck, memo_timeline
from workflow.clock import to_local
from workflow.content import document_hash
from workflow.machine import DRAFT, RETURNED, WITHDRAWN
from workflow.permissions import memo_route
from workflow.route import Step
from workflow.thai import digits, thai_date, thai_datetime

URGENCY_STAMPS = {
    Urgency.urgent.value: "ด่วน",
    Urgency.very_urgent.value: "ด่วนมาก",
    Urgency.most_urgent.value: "ด่วนที่สุด",
}
SECRECY_STAMPS = {
    Secrecy.confidential.value: "ลับ",
    Secrecy.secret.value: "ลับมาก",
    Secrecy.top_secret.value: "ลับที่สุด",
}
DECISION_LABELS = {
    Decision.acknowledged.value: "ทราบ",
    Decision.approved.value: "อนุมัติ",
    Decision.agreed.value: "เห็นชอบ",
}
REJECTED_LABEL = "ไม่อนุมัติ"
ACTION_LABELS = {
    "create": "สร้างร่างบันทึกข้อความ",
    "edit": "แก้ไขร่าง",
    "attach": "แนบไฟล์",
    "detach": "นำไฟล์แนบออก",
    "submit": "ลงนามและเสนอเรื่อง",
    "endorse": "ลงความเห็นและเสนอต่อ",
    "return": "ส่งคืนแก้ไข",
    "sign": "ลงนาม",
    "reject": "ไม่อนุมัติ",
    "withdraw": "ยกเลิกเรื่อง",
}
BODY_PARTS = (
    ("background", "เรื่องเดิม"),
    ("facts", "ข้อเท็จจริง"),
    ("proposal", "ข้อเสนอ/ข้อพิจารณา"),
)
DRAFT_WATERMARK = "ร่าง"
WITHDRAWN_WATERMARK = "ยกเลิก"


@dataclass(frozen=True)
class BodyPart:
    heading: str  # "1. เรื่องเดิม"
    paragraphs: tuple[str, ...]  # one per typed line; "" for a blank line


@dataclass(frozen=True)
class Signature:
    """A signature block: the signature line, (name), position lines, date.

    ``name`` is None for a block nobody has signed yet: the form then shows empty dots.
    """

    name: str | None = None
    position_lines: tuple[str, ...] = ()
    signed_at: str | None = None  # "20 เมษายน 2565 เวลา 14:05 น."
    date: str | None = None  # "20 เมษายน 2565"
    with_label: bool = True  # "ลงชื่อ" before the line (not on the author's block)


@dataclass(frozen=True)
class StepBlock:
    """One continuation block (บันทึกต่อท้าย), or the final signer's block."""

    key: str
    label: str  # "ความเห็นหัวหน้าสำนักปลัด"; "" for the final signer on the seed route
    decision: str | None  # final block only: "ทราบ", "อนุมัติ", "เห็นชอบ", "ไม่อนุมัติ"
    opinion: str  # as typed; "" when none
    signature: Signature
    reached: bool
    final: bool


@dataclass(frozen=True)
class HistoryEntry:
    """A decision of an earlier round (the memo was returned and resubmitted)."""

    round: str
    step_label: str
    action: str
    name: str
    position_lines: tuple[str, ...]
    at: str
    text: str


@dataclass(frozen=True)
class AuditRow:
    seq: str
    at: str
    name: str
    position: str
    action: str
    hash: str
    verified: bool


@dataclass(frozen=True)
class MemoDocument:
    """Everything the template prints, already formatted."""

    organisation: str
    thai_digits: bool
    state: str
    unit: str
    number: str | None
    date: str | None
    subject: str
    to: str
    urgency: str | None
    secrecy: str | None
    watermark: str | None
    enclosures: tuple[str, ...]
    body: tuple[BodyPart, ...]
    author: Signature
    steps: tuple[StepBlock, ...]
    history: tuple[HistoryEntry, ...]
    audit: tuple[AuditRow, ...]
    content_hash: str
    verify_url: str
    rendered_at: str
    emblem_data_url: str | None = None


def position_lines(opinion: Opinion) -> tuple[str, ...]:
    """The lines under the name; acting for someone, the Thai way (workflow.acting):
    ``ปลัดองค์การบริหารส่วนตำบลควนขนุน ปฏิบัติราชการแทน`` / ``นายกองค์การบริหารส่วนตำบลควนขนุน``."""
    lines = signature_lines(
        opinion.actor_name, opinion.actor_position, opinion.capacity, opinion.acting_for
    )
    return tuple(lines[1:])  # the first line is the name, which the template sets itself


def paragraphs(text: str) -> tuple[str, ...]:
    """Typed lines as paragraphs. Leading blanks are dropped because the form indents every
    paragraph itself; the rest of each line is kept exactly."""
    lines = text.split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    return tuple(line.lstrip(" \t\u3000") for line in lines)


def _local_date(stored_utc: datetime) -> date:
    return to_local(stored_utc).date()


def _signature(opinion: Opinion, thai: bool) -> Signature:
    return Signature(
        name=opinion.actor_name,
        position_lines=position_lines(opinion),
        signed_at=thai_datetime(opinion.created_at, thai),
        date=thai_date(_local_date(opinion.created_at), thai),
    )


def _step_block(step: Step, opinion: Opinion | None, final: bool, thai: bool) -> StepBlock:
    if opinion is None:
        return StepBlock(
            key=step.key,
            label=step.label,
            decision=None,
            opinion="",
            signature=Signature(name=None, position_lines=(step.title,)),
            reached=False,
            final=final,
        )
    decision = None
    if opinion.action == OpinionAction.sign.value and opinion.decision:
        decision = DECISION_LABELS.get(opinion.decision, opinion.decision)
    elif opinion.action == OpinionAction.reject.value:
        decision = REJECTED_LABEL
    text = opinion.text
    if decision is not None and text.strip() == decision:
        text = ""  # "ทราบ" typed as the opinion of a "ทราบ" decision: print it once
    return StepBlock(
        key=step.key,
        label=step.label,
        decision=decision,
        opinion=text,
        signature=_signature(opinion, thai),
        reached=True,
        final=final,
    )


def _audit_action(check: EventCheck) -> str:
    label = ACTION_LABELS.get(check.event.action, check.event.action)
    details = check.event.details or {}
    if details.get("capacity") and details.get("acting_for"):
        label += f" ({details['capacity']} {details['acting_for']})"
    return label


def _watermark(memo: Memo, draft_watermark: bool | None) -> str | None:
    if draft_watermark is not None:
        return DRAFT_WATERMARK if draft_watermark else None
    if memo.state in (DRAFT, RETURNED) and memo.decided_by_id is None:
        return DRAFT_WATERMARK
    if memo.state == WITHDRAWN:
        return WITHDRAWN_WATERMARK
    return None


def build_document(
    session: Session,
    memo: Memo,
    *,
    verify_url: str,
    draft_watermark: bool | None = None,
    emblem_data_url: str | None = None,
    now: datetime | None = None,
) -> MemoDocument:
    """Collect and format what the document shows for ``memo`` as it is now. ``now`` (naive
    UTC, default the workflow clock) is the printing time shown on the audit page."""
    thai = bool(memo.organisation.thai_digits)
    route = memo_route(memo)
    timeline: list[EventCheck] = memo_timeline(session, memo)

    current = {o.step: o for o in memo.opinions if o.round == memo.round}
    steps = tuple(
        _step_block(step, current.get(step.key), route.is_last(step), thai) for step in route.steps
    )

    labels = {step.key: step.label or step.title for step in route.steps}
    history = tuple(
        HistoryEntry(
            round=digits(str(o.round), thai),
            step_label=labels.get(o.step, o.step),
            action=ACTION_LABELS.get(o.action, o.action),
            name=o.actor_name,
            position_lines=position_lines(o),
            at=thai_datetime(o.created_at, thai),
            text=o.text,
        )
        for o in sorted(memo.opinions, key=lambda o: o.id)
        if o.round < memo.round
    )

    # The author signs by submitting; a memo back on the author's desk is unsigned again.
    submits = [check.event for check in timeline if check.event.action == "submit"]
    author_signed = submits[-1].at if submits and memo.state not in (DRAFT, RETURNED) else None
    author = Signature(
        name=memo.author.full_name,
        position_lines=(memo.author.position,),
        signed_at=thai_datetime(author_signed, thai) if author_signed else None,
        date=None,
        with_label=False,
    )

    body = []
    number = 0
    for name, title in BODY_PARTS:
        text = getattr(memo, name)
        if not text.strip():
            continue
        number += 1
        body.append(BodyPart(f"{digits(str(number), thai)}. {title}", paragraphs(text)))

    audit = tuple(
        AuditRow(
            seq=digits(str(index), thai),
            at=thai_datetime(check.event.at, thai),
            name=check.event.actor_name,
            position=check.event.actor_position,
            action=_audit_action(check),
            hash=check.event.hash,
            verified=check.ok,
        )
        for index, check in enumerate(timeline, start=1)
    )

    rendered = now or clock.utcnow_naive()
    return MemoDocument(
        organisation=memo.organisation.name,
        thai_digits=thai,
        state=memo.state,
        unit=memo.unit,
        number=digits(memo.number, thai) if memo.number else None,
        date=thai_date(memo.date, thai) if memo.date else None,
        subject=memo.subject,
        to=memo.to,
        urgency=URGENCY_STAMPS.get(memo.urgency),
        secrecy=SECRECY_STAMPS.get(memo.secrecy),
        watermark=_watermark(memo, draft_watermark),
        enclosures=tuple(
            a.filename for a in sorted(memo.attachments, key=lambda attachment: attachment.id)
        ),
        body=tuple(body),
        author=author,
        steps=steps,
        history=history,
        audit=audit,
        content_hash=document_hash(memo),
        verify_url=verify_url,
        rendered_at=thai_datetime(rendered, thai),
        emblem_data_url=emblem_data_url,
    )
