"""The seed organisation and people (อบต.ควนขนุน, from ../shared/seed/), for the demo and
for tests. Running it again changes nothing."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Organisation, User
from workflow.accounts import add_user, create_organisation

ORGANISATION_NAME = "องค์การบริหารส่วนตำบลควนขนุน"
ORGANISATION_SHORT_NAME = "อบต.ควนขนุน"
NUMBER_PREFIX = "พท 72001"
WEBSITE = "http://www.khunkhanun.go.th/"
UNIT = "งานนิติการ สำนักงานปลัด องค์การบริหารส่วนตำบลควนขนุน"


@dataclass(frozen=True)
class SeedPerson:
    username: str
    full_name: str
    position: str
    role: str
    unit: str


SEED_PEOPLE = (
    SeedPerson("officer", "นางสาวภรณ์พรรณ บุญเผือก", "นิติกรชำนาญการ", "officer", UNIT),
    SeedPerson(
        "head",
        "นางสาวสุพัตรา ชูกลิ่น",
        "หัวหน้าสำนักปลัด",
        "head_of_office",
        "สำนักงานปลัด องค์การบริหารส่วนตำบลควนขนุน",
    ),
    SeedPerson(
        "palad",
        "นายเศรษฐา ชูดำ",
        "ปลัดองค์การบริหารส่วนตำบลควนขนุน",
        "permanent_secretary",
        "องค์การบริหารส่วนตำบลควนขนุน",
    ),
    SeedPerson(
        "mayor",
        "นายวินัย มูสิกะเจริญ",
        "นายกองค์การบริหารส่วนตำบลควนขนุน",
        "mayor",
        "องค์การบริหารส่วนตำบลควนขนุน",
    ),
    SeedPerson("admin", "ผู้ดูแลระบบ", "ผู้ดูแลระบบ", "admin", ""),
)


def seed_organisation(session: Session, password: str) -> Organisation:
    """Create the seed organisation and its users unless they exist; return it."""
    organisation = session.execute(
        select(Organisation).where(Organisation.name == ORGANISATION_NAME)
    ).scalar_one_or_none()
    if organisation is None:
        organisation = create_organisation(
            session,
            name=ORGANISATION_NAME,
            short_name=ORGANISATION_SHORT_NAME,
            number_prefix=NUMBER_PREFIX,
            website=WEBSITE,
        )
    for person in SEED_PEOPLE:
        exists = session.execute(select(User.id).where(User.username == person.username)).first()
        if not exists:
            add_user(
                session,
                organisation,
                username=person.username,
                full_name=person.full_name,
                position=person.position,
                role=person.role,
                password=password,
                unit=person.unit,
            )
    return organisation
