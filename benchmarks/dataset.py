"""Data for the benchmarks: organisations and people, and memos in bulk.

``seed_people`` makes organisations through the same functions as the demo. ``add_memos``
writes many memos quickly without the verbs, row for row as the verbs would have written
them — memo, route roles, register entry, opinions and a correctly chained audit event for
every step, with the same canonical hashes (workflow.content, workflow.audit) — so that
``memoflow audit verify`` passes on the result, which the benchmarks check.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Engine, func, insert, select, text, update
from sqlalchemy.orm import Session

from models import (
    AuditEvent,
    ChainHead,
    Memo,
    MemoRouteRole,
    Opinion,
    Organisation,
    RegisterCounter,
    RegisterEntry,
    User,
)
from models.db import make_session_factory
from workflow import accounts, seed
from workflow.audit import event_hash
from workflow.content import decision_hash, document_hash

PASSWORD = "benchmark-password-1"

SUBJECT = "ขออนุมัติเผยแพร่มาตรการส่งเสริมคุณธรรมและความโปร่งใสภายในหน่วยงาน ประจำปี"
TO = "นายกองค์การบริหารส่วนตำบลควนขนุน"
FACTS = (
    "ด้วยสำนักงาน ป.ป.ช. ได้กำหนดให้หน่วยงานภาครัฐเข้ารับการประเมินคุณธรรมและความโปร่งใส"
    "ในการดำเนินงานของหน่วยงานภาครัฐ (Integrity and Transparency Assessment : ITA) "
    "โดยหน่วยงานต้องเผยแพร่ข้อมูลต่อสาธารณะผ่านเว็บไซต์ของหน่วยงาน ในการนี้ งานนิติการ "
    "สำนักงานปลัด ได้จัดทำมาตรการส่งเสริมคุณธรรมและความโปร่งใสภายในหน่วยงานเรียบร้อยแล้ว "
) * 3
PROPOSAL = "จึงเรียนมาเพื่อโปรดพิจารณา หากเห็นชอบโปรดอนุมัติให้เผยแพร่ทางเว็บไซต์ของหน่วยงานต่อไป"
UNIT = "งานนิติการ สำนักงานปลัด องค์การบริหารส่วนตำบลควนขนุน"

MEMO_FIELDS = {
    "unit": UNIT,
    "subject": SUBJECT,
    "to": TO,
    "background": "",
    "facts": FACTS,
    "proposal": PROPOSAL,
}

# The subjects of the memos of history, for searches that match many, few or no memos: one
# of SUBJECTS each (an eighth of the memos per subject), one in a thousand RARE_SUBJECT.
SUBJECTS = (
    SUBJECT,
    "ขออนุมัติเดินทางไปราชการเพื่อเข้ารับการฝึกอบรม",
    "ขออนุมัติจัดซื้อวัสดุสำนักงาน",
    "รายงานผลการดำเนินงานประจำเดือน",
    "ขอความเห็นชอบร่างแผนพัฒนาท้องถิ่น",
    "ขออนุญาตใช้รถยนต์ส่วนกลาง",
    "ขอซ่อมแซมถนนลาดยางสายหลักของตำบล",
    "ขอเบิกค่าตอบแทนอาสาสมัครป้องกันภัยฝ่ายพลเรือน",
)
RARE_SUBJECT = "ขอความอนุเคราะห์รถบรรทุกน้ำดื่มช่วยเหลือผู้ประสบภัยแล้ง"
RARE_SHARE = 0.001

SECOND_ORGANISATION = "เทศบาลตำบลทดสอบสมรรถนะ"
# (username suffix, full name, position, role)
SECOND_PEOPLE = (
    ("officer", "นายสมชาย ใจดี", "นักจัดการงานทั่วไป", "officer"),
    ("head", "นางสาวมาลี ศรีสุข", "หัวหน้าสำนักปลัด", "head_of_office"),
    ("palad", "นายประเสริฐ มั่นคง", "ปลัดเทศบาล", "permanent_secretary"),
    ("mayor", "นายอำนาจ ทองดี", "นายกเทศมนตรี", "mayor"),
)


@dataclass(frozen=True)
class People:
    """The ids of one organisation's officer and step holders."""

    organisation_id: int
    officer: int
    head: int
    palad: int
    mayor: int


def seed_people(engine: Engine, organisations: int = 1, officers: int = 1) -> list[People]:
    """The seed office (อบต.ควนขนุน) and, with ``organisations=2``, a second one with its
    own people; ``officers`` authors per organisation."""
    sessions = make_session_factory(engine)
    found: list[People] = []
    with sessions.begin() as session:
        first = seed.seed_organisation(session, PASSWORD)
        ids = {u.username: u.id for u in session.execute(select(User)).scalars()}
        _more_officers(session, first, "officer", officers)
        found.append(People(first.id, ids["officer"], ids["head"], ids["palad"], ids["mayor"]))
        if organisations > 1:
            second = accounts.create_organisation(
                session, name=SECOND_ORGANISATION, number_prefix="ทส 00001"
            )
            made = {
                suffix: accounts.add_user(
                    session, second, f"{suffix}_b", name, position, role, PASSWORD
                ).id
                for suffix, name, position, role in SECOND_PEOPLE
            }
            _more_officers(session, second, "officer_b", officers)
            found.append(
                People(second.id, made["officer"], made["head"], made["palad"], made["mayor"])
            )
    return found


def _more_officers(session: Session, organisation: Organisation, prefix: str, count: int) -> None:
    for index in range(2, count + 1):
        accounts.add_user(
            session,
            organisation,
            f"{prefix}{index}",
            f"นายทดสอบ คนที่ {index}",
            "นักจัดการงานทั่วไป",
            "officer",
            PASSWORD,
            UNIT,
        )


# --- memos in bulk ----------------------------------------------------------------------

# What becomes of the memos of the history: mostly signed, some refused, some drafts.
HISTORY = (("signed", 0.92), ("rejected", 0.05), ("draft", 0.03))
STEPS = (
    ("head_of_office", "head_of_office", "head"),
    ("permanent_secretary", "permanent_secretary", "palad"),
    ("mayor", "mayor", "mayor"),
)
DECISIONS = ("acknowledged", "approved", "agreed")


class _Writer:
    """Allocates ids and chain positions and collects rows for one batch."""

    def __init__(self, session: Session, organisation_id: int) -> None:
        self.session = session
        self.organisation = session.get(Organisation, organisation_id)
        assert self.organisation is not None
        self.route = list(self.organisation.route)
        self.users = {
            u.id: u
            for u in session.execute(
                select(User).where(User.organisation_id == organisation_id)
            ).scalars()
        }
        self.officers = [u.id for u in self.users.values() if u.role == "officer"]
        self.holder = {u.role: u for u in self.users.values() if u.role not in ("officer", "admin")}
        head = session.get(ChainHead, organisation_id)
        assert head is not None
        self.seq, self.last_hash = head.last_seq, head.last_hash
        self.next_memo = (session.execute(select(func.max(Memo.id))).scalar() or 0) + 1
        self.next_opinion = (session.execute(select(func.max(Opinion.id))).scalar() or 0) + 1
        self.next_event = (session.execute(select(func.max(AuditEvent.id))).scalar() or 0) + 1
        self.next_entry = (session.execute(select(func.max(RegisterEntry.id))).scalar() or 0) + 1
        self.year = date.today().year
        self.last_number = (
            session.execute(
                select(RegisterCounter.last_number).where(
                    RegisterCounter.organisation_id == organisation_id,
                    RegisterCounter.year == self.year,
                )
            ).scalar()
            or 0
        )
        self.clock = datetime(self.year, 1, 2, 1, 0, 0)
        self.rows: dict[str, list[dict[str, Any]]] = {
            "memo": [],
            "memo_route_role": [],
            "register_entry": [],
            "opinion": [],
            "audit_event": [],
        }

    def tick(self) -> datetime:
        self.clock += timedelta(seconds=7, microseconds=123)
        return self.clock

    def event(
        self,
        memo: Any,
        actor: Any,
        action: str,
        before: str | None,
        after: str,
        opinion: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.seq += 1
        record = SimpleNamespace(
            id=self.next_event,
            organisation_id=self.organisation.id,
            seq=self.seq,
            memo_id=memo.id,
            actor_id=actor.id,
            actor_name=actor.full_name,
            actor_position=actor.position,
            action=action,
            from_state=before,
            to_state=after,
            opinion=opinion,
            content_hash=document_hash(memo),
            details=details or {},
            at=self.tick(),
            prev_hash=self.last_hash,
        )
        record.hash = event_hash(record)  # type: ignore[arg-type]
        self.last_hash = record.hash
        self.next_event += 1
        self.rows["audit_event"].append(vars(record))

    def memo(self, fate: str) -> None:
        """One memo that ends in ``fate``: signed, rejected, draft or pending_<step>."""
        author = self.users[random.choice(self.officers)]
        subject = RARE_SUBJECT if random.random() < RARE_SHARE else random.choice(SUBJECTS)
        created = self.tick()
        memo = SimpleNamespace(
            id=self.next_memo,
            organisation_id=self.organisation.id,
            author_id=author.id,
            number=None,
            number_year=None,
            number_sequence=None,
            date=None,
            state="draft",
            pending_role=None,
            round=1,
            version=1,
            route_snapshot=None,
            decided_by_id=None,
            created_at=created,
            updated_at=created,
            urgency="normal",
            secrecy="normal",
            opinions=[],
            attachments=[],
            **(MEMO_FIELDS | {"subject": subject}),
        )
        self.next_memo += 1
        self.event(memo, author, "create", None, "draft")
        if fate != "draft":
            self._submit(memo, author)
            for index, (key, role, _who) in enumerate(STEPS):
                if fate == f"pending_{key}":
                    break
                last = index == len(STEPS) - 1
                action = ("reject" if fate == "rejected" else "sign") if last else "endorse"
                self._decide(memo, key, role, action)
        memo.updated_at = self.clock
        row = {k: v for k, v in vars(memo).items() if k not in ("opinions", "attachments")}
        self.rows["memo"].append(row)

    def _submit(self, memo: Any, author: Any) -> None:
        self.last_number += 1
        memo.number_year, memo.number_sequence = self.year, self.last_number
        memo.number = f"{self.organisation.number_prefix}/{self.last_number}"
        memo.date = self.clock.date()
        memo.route_snapshot = self.route
        for role in sorted({step["role"] for step in self.route}):
            self.rows["memo_route_role"].append(
                {"memo_id": memo.id, "role": role, "organisation_id": memo.organisation_id}
            )
        self.rows["register_entry"].append(
            {
                "id": self.next_entry,
                "organisation_id": memo.organisation_id,
                "year": self.year,
                "sequence": self.last_number,
                "memo_id": memo.id,
                "status": "issued",
                "issued_at": self.clock,
                "cancelled_at": None,
            }
        )
        self.next_entry += 1
        memo.state, memo.pending_role = "pending_head_of_office", "head_of_office"
        memo.version += 1
        self.event(
            memo,
            author,
            "submit",
            "draft",
            memo.state,
            details={"number": memo.number, "date": memo.date.isoformat(), "round": 1},
        )

    def _decide(self, memo: Any, key: str, role: str, action: str) -> None:
        actor = self.holder[role]
        before = memo.state
        bound_to = decision_hash(memo, memo.round)
        text = {
            "endorse": "เห็นควรเสนอเพื่อโปรดพิจารณา",
            "sign": "อนุมัติ",
            "reject": "ไม่อนุมัติ เนื่องจากยังขาดรายละเอียด",
        }[action]
        decision = random.choice(DECISIONS) if action == "sign" else None
        opinion = SimpleNamespace(
            id=self.next_opinion,
            memo_id=memo.id,
            round=memo.round,
            step=key,
            action=action,
            actor_id=actor.id,
            actor_name=actor.full_name,
            actor_position=actor.position,
            text=text,
            decision=decision,
            capacity=None,
            acting_for=None,
            order_ref=None,
            created_at=self.tick(),
            content_hash=bound_to,
        )
        self.next_opinion += 1
        memo.opinions.append(opinion)
        self.rows["opinion"].append(dict(vars(opinion)))
        if action == "endorse":
            keys = [k for k, _role, _who in STEPS]
            following_key, following_role, _who = STEPS[keys.index(key) + 1]
            memo.state, memo.pending_role = f"pending_{following_key}", following_role
        else:
            memo.state = "signed" if action == "sign" else "rejected"
            memo.pending_role, memo.decided_by_id = None, actor.id
        memo.version += 1
        self.event(
            memo,
            actor,
            action,
            before,
            memo.state,
            opinion=text,
            details={
                "round": memo.round,
                "step": key,
                "decision": decision,
                "decision_hash": bound_to,
                "capacity": None,
                "acting_for": None,
                "order_ref": None,
            },
        )

    def flush(self) -> None:
        for table, model in (
            ("memo", Memo),
            ("memo_route_role", MemoRouteRole),
            ("register_entry", RegisterEntry),
            ("opinion", Opinion),
            ("audit_event", AuditEvent),
        ):
            if self.rows[table]:
                self.session.execute(insert(model), self.rows[table])
                self.rows[table] = []
        self.session.execute(
            update(ChainHead)
            .where(ChainHead.organisation_id == self.organisation.id)
            .values(last_seq=self.seq, last_hash=self.last_hash)
        )
        counter = self.session.get(RegisterCounter, (self.organisation.id, self.year))
        if counter is None:
            self.session.add(
                RegisterCounter(
                    organisation_id=self.organisation.id,
                    year=self.year,
                    last_number=self.last_number,
                )
            )
        else:
            counter.last_number = self.last_number
        self.session.flush()
        if self.session.get_bind().dialect.name == "postgresql":
            # Ids were given explicitly, so the sequences must catch up with them.
            for table in ("memo", "register_entry", "opinion", "audit_event"):
                self.session.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                        f" (SELECT max(id) FROM {table}))"
                    )
                )


def add_memos(
    engine: Engine,
    organisation_id: int,
    count: int,
    fates: dict[str, int] | None = None,
    batch: int = 2000,
    seed_value: int = 2565,
) -> None:
    """Add ``count`` memos of history (see HISTORY) to the organisation, plus the exact
    numbers of memos in ``fates`` (e.g. ``{"pending_head_of_office": 100}``), committing
    every ``batch`` memos."""
    random.seed(seed_value + count + organisation_id)
    plan = [fate for fate, share in HISTORY for _ in range(round(count * share))]
    plan = (plan + ["signed"] * count)[:count]
    random.shuffle(plan)
    for fate, number in (fates or {}).items():
        plan.extend([fate] * number)
    sessions = make_session_factory(engine)
    for start in range(0, len(plan), batch):
        with sessions.begin() as session:
            writer = _Writer(session, organisation_id)
            for fate in plan[start : start + batch]:
                writer.memo(fate)
            writer.flush()


def memo_count(engine: Engine) -> int:
    with make_session_factory(engine)() as session:
        return int(session.execute(select(func.count()).select_from(Memo)).scalar_one())


def memo_ids(
    engine: Engine, organisation_id: int, state: str, limit: int, newest: bool = False
) -> list[int]:
    """Ids of the organisation's memos in ``state`` (a random sample of up to ``limit``,
    or the newest ones)."""
    with make_session_factory(engine)() as session:
        query = select(Memo.id).where(Memo.organisation_id == organisation_id, Memo.state == state)
        if newest:
            return list(session.execute(query.order_by(Memo.id.desc()).limit(limit)).scalars())
        ids = list(session.execute(query).scalars())
    random.seed(len(ids))
    return random.sample(ids, min(limit, len(ids)))
