"""Memos for the document tests, entered through the workflow verbs at fixed times.

A module, not fixtures only, so benchmarks/render.py builds exactly the same memos.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import Base, Memo, Organisation, User
from models.db import make_engine, make_session_factory
from workflow import accounts, acting, actions, clock, seed

DATA = Path(__file__).resolve().parent.parent / "data"
SEED_MEMO: dict[str, Any] = json.loads((DATA / "memo-ita-2565.json").read_text(encoding="utf-8"))
SEED_CSV = DATA / "ita-measures-2565.csv"
PASSWORD = "document-tests-1"
BANGKOK = ZoneInfo("Asia/Bangkok")
# What the render_pdf and render_html fixtures return (defined here, not in conftest.py,
# because test modules cannot import from a conftest that shares its name with others).
RenderPdf = Callable[..., bytes]
RenderHtml = Callable[..., str]
VERIFY_URL = "https://memoflow.khunkhanun.go.th/verify/1?h=8f14e45fceea167a"

# The seed memo's dates: submitted (and so dated) 20 April 2565, decided in the days after.
SEED_TIMES = {
    "create": datetime(2022, 4, 20, 8, 40, tzinfo=BANGKOK),
    "attach": datetime(2022, 4, 20, 8, 50, tzinfo=BANGKOK),
    "submit": datetime(2022, 4, 20, 9, 5, tzinfo=BANGKOK),
    "head": datetime(2022, 4, 20, 13, 20, tzinfo=BANGKOK),
    "palad": datetime(2022, 4, 21, 10, 15, tzinfo=BANGKOK),
    "mayor": datetime(2022, 4, 22, 14, 30, tzinfo=BANGKOK),
}
HEAD_OPINION = "เห็นควรทราบ และแจ้งประชาสัมพันธ์ทุกกองทราบ"
PALAD_OPINION = "เห็นควรทราบและเผยแพร่ผ่านทางเว็บไซต์ขององค์การบริหารส่วนตำบล"

# A long Thai paragraph without a single space, for the line-breaking and text-layer bars.
LONG_PARAGRAPH = (
    "ตามแบบตรวจการเปิดเผยข้อมูลสาธารณะมาตรการส่งเสริมคุณธรรมและความโปร่งใสภายในหน่วยงาน"
    "มีองค์ประกอบด้านข้อมูลกล่าวคือแสดงการวิเคราะห์ผลการประเมินคุณธรรมและความโปร่งใส"
    "ในการดำเนินงานของหน่วยงานภาครัฐมีข้อมูลรายละเอียดการวิเคราะห์เช่นประเด็นที่เป็น"
    "ข้อบกพร่องหรือจุดอ่อนที่จะต้องแก้ไขโดยเร่งด่วนประเด็นที่จะต้องพิจารณาให้ดีขึ้น"
    "แนวทางการนำผลการวิเคราะห์ไปสู่การปฏิบัติของหน่วยงานมีมาตรการเพื่อขับเคลื่อนการส่งเสริม"
    "คุณธรรมและความโปร่งใสภายในหน่วยงานให้ดีขึ้นซึ่งสอดคล้องตามผลการวิเคราะห์โดยมี"
    "รายละเอียดต่างๆเช่นการกำหนดผู้รับผิดชอบหรือผู้ที่เกี่ยวข้องการกำหนดขั้นตอนหรือ"
    "วิธีการปฏิบัติและการรายงานผลพร้อมทั้งนำไฟล์เอกสารเปิดเผยข้อมูลทางหน้าเว็บไซต์หลัก"
    "ของหน่วยงานเพื่อใช้ในการเชื่อมโยงไปสู่แหล่งที่อยู่ของข้อมูลนั้นๆในการตอบแบบสำรวจ"
    "การเปิดเผยข้อมูลสาธารณะต่อไปทั้งนี้ให้ผู้รับผิดชอบรายงานความก้าวหน้าทุกไตรมาส"
    "และสรุปผลการดำเนินงานเสนอผู้บริหารท้องถิ่นเพื่อทราบภายในสิ้นปีงบประมาณ"
)


def seed_fields() -> dict[str, str]:
    return {name: SEED_MEMO[name] for name in ("unit", "subject", "to", "background", "facts")} | {
        "proposal": SEED_MEMO["proposal"]
    }


class Office:
    """The seed office in a database of its own; every action is one transaction at a
    fixed moment, the way a request would run it."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        with sessions.begin() as session:
            seed.seed_organisation(session, PASSWORD)

    @classmethod
    def in_sqlite(cls, path: Path) -> Office:
        engine = make_engine(f"sqlite:///{path}")
        Base.metadata.create_all(engine)
        return cls(make_session_factory(engine))

    @contextmanager
    def at(self, moment: datetime) -> Iterator[Session]:
        with clock.frozen(moment), self.sessions.begin() as session:
            yield session

    @staticmethod
    def user(session: Session, username: str) -> User:
        return session.execute(select(User).where(User.username == username)).scalar_one()

    def set_thai_digits(self, on: bool) -> None:
        with self.sessions.begin() as session:
            organisation = session.execute(select(Organisation)).scalar_one()
            organisation.thai_digits = on

    def create(self, **fields: Any) -> int:
        values = seed_fields() | fields
        with self.at(SEED_TIMES["create"]) as session:
            return actions.create_memo(session, self.user(session, "officer"), **values).id

    def attach_seed_csv(self, memo_id: int) -> None:
        with self.at(SEED_TIMES["attach"]) as session:
            actions.add_attachment(
                session,
                memo_id,
                self.user(session, "officer"),
                SEED_CSV.name,
                SEED_CSV.read_bytes(),
                "text/csv",
            )

    def submit(self, memo_id: int, moment: datetime | None = None) -> None:
        with self.at(moment or SEED_TIMES["submit"]) as session:
            actions.submit(session, memo_id, self.user(session, "officer"))

    def endorse(self, memo_id: int, username: str, opinion: str, moment: datetime) -> None:
        with self.at(moment) as session:
            actions.endorse(session, memo_id, self.user(session, username), opinion)

    def sign(
        self,
        memo_id: int,
        decision: str = "acknowledged",
        opinion: str = "",
        moment: datetime | None = None,
        username: str = "mayor",
    ) -> None:
        with self.at(moment or SEED_TIMES["mayor"]) as session:
            actions.sign(session, memo_id, self.user(session, username), decision, opinion)

    def reject(self, memo_id: int, reason: str, moment: datetime | None = None) -> None:
        with self.at(moment or SEED_TIMES["mayor"]) as session:
            actions.reject(session, memo_id, self.user(session, "mayor"), reason)

    def return_memo(self, memo_id: int, username: str, reason: str, moment: datetime) -> None:
        with self.at(moment) as session:
            actions.return_memo(session, memo_id, self.user(session, username), reason)

    def withdraw(self, memo_id: int, moment: datetime) -> None:
        with self.at(moment) as session:
            actions.withdraw(session, memo_id, self.user(session, "officer"))

    def add_person(self, username: str, full_name: str, position: str) -> None:
        with self.sessions.begin() as session:
            organisation = session.execute(select(Organisation)).scalar_one()
            accounts.add_user(
                session, organisation, username, full_name, position, "officer", PASSWORD
            )

    def authorise(self, username: str, role: str, capacity: str, order_ref: str) -> None:
        """Record that ``username`` acts for ``role`` through April 2565 (the seed's month)."""
        with self.at(SEED_TIMES["create"]) as session:
            acting.add_authorisation(
                session,
                self.user(session, "admin"),
                session.execute(select(Organisation)).scalar_one(),
                self.user(session, username),
                role=role,
                capacity=capacity,
                order_ref=order_ref,
                valid_from=date(2022, 4, 1),
                valid_to=date(2022, 4, 30),
            )

    def seed_memo(self, through: str = "mayor", **fields: Any) -> int:
        """The seed memo, taken along its route as far as ``through``: "draft",
        "submit", "head", "palad" or "mayor" (signed, acknowledged)."""
        memo_id = self.create(**fields)
        self.attach_seed_csv(memo_id)
        if through == "draft":
            return memo_id
        self.submit(memo_id)
        if through == "submit":
            return memo_id
        self.endorse(memo_id, "head", HEAD_OPINION, SEED_TIMES["head"])
        if through == "head":
            return memo_id
        self.endorse(memo_id, "palad", PALAD_OPINION, SEED_TIMES["palad"])
        if through == "palad":
            return memo_id
        self.sign(memo_id)
        return memo_id

    @contextmanager
    def memo(self, memo_id: int) -> Iterator[tuple[Session, Memo]]:
        """A read-only session and the memo in it (for rendering)."""
        with self.sessions() as session:
            memo = session.get(Memo, memo_id)
            assert memo is not None
            yield session, memo
