"""Account and organisation management is authorised in workflow/, not only in the admin
pages: an admin of another organisation, a deactivated admin or a non-admin is refused by
every admin verb and nothing changes; what an admin does lands in the audit chain."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from models import ADMIN_ROLE, ApiToken, AuditEvent, Authorisation, Capacity, Organisation, User
from tests.conftest import PASSWORD, Office
from workflow import accounts, acting, admin, audit
from workflow.errors import NotAllowed, NotFound
from workflow.route import parse_route

PNG_1x1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def _other_office_admin(office: Office) -> None:
    """A second organisation, เทศบาลตำบลตัวอย่าง, with an admin of its own."""

    def setup(session: Session) -> None:
        other = accounts.create_organisation(
            session, name="เทศบาลตำบลตัวอย่าง", number_prefix="ชม 52101"
        )
        accounts.add_user(
            session, other, "other_admin", "นายอื่น ดูแล", "ผู้ดูแลระบบ", ADMIN_ROLE, PASSWORD
        )

    office.run(setup)


def _seed_organisation(session: Session) -> Organisation:
    return Office.user(session, "officer").organisation


def _authorise_palad(session: Session, actor: User | None) -> Authorisation:
    """The seed office's ปลัด to act for its mayor (รักษาราชการแทน), recorded by ``actor``."""
    return acting.add_authorisation(
        session,
        actor,
        _seed_organisation(session),
        Office.user(session, "palad"),
        "mayor",
        Capacity.acting_head.value,
        "คำสั่ง อบต. ที่ 1/2569",
        date(2026, 11, 20),
        date(2026, 11, 30),
    )


def _verbs(session: Session, actor: User) -> dict[str, Callable[[], Any]]:
    """Every admin verb, aimed at the seed organisation (อบต.ควนขนุน) and its officer."""
    organisation = _seed_organisation(session)
    officer = Office.user(session, "officer")
    token_id = session.scalars(select(ApiToken.id).where(ApiToken.label == "officer's")).one()
    route = parse_route(organisation.route)
    return {
        "add_user": lambda: admin.add_user(
            session,
            actor,
            organisation,
            username="planted",
            full_name="นายแฝง ตัว",
            position="นักวิชาการ",
            role=ADMIN_ROLE,
            password="planted-password-1",
        ),
        "update_user": lambda: admin.update_user(session, actor, officer, role=ADMIN_ROLE),
        "revoke_token": lambda: admin.revoke_token(session, actor, officer, token_id),
        # After the revocation: deactivating revokes whatever token is still live.
        "set_active": lambda: admin.set_active(session, actor, officer, False),
        "reset_password": lambda: admin.reset_password(
            session, actor, officer, "taken-over-password-1"
        ),
        "create_token": lambda: admin.create_token(session, actor, officer, "planted"),
        "update_organisation": lambda: admin.update_organisation(
            session, actor, organisation, False, name="ถูกเปลี่ยนชื่อ", number_prefix="x"
        ),
        "set_emblem": lambda: admin.set_emblem(session, actor, organisation, PNG_1x1),
        "set_route": lambda: admin.set_route(
            session, actor, organisation, type(route)(route.steps[1:])
        ),
        "add_authorisation": lambda: _authorise_palad(session, actor),
    }


def _state(office: Office) -> tuple[Any, ...]:
    """What the verbs would change: the seed organisation, its officer and tokens, users."""

    def read(session: Session) -> tuple[Any, ...]:
        organisation = _seed_organisation(session)
        officer = Office.user(session, "officer")
        return (
            organisation.name,
            organisation.number_prefix,
            organisation.emblem_sha256,
            organisation.route,
            officer.role,
            officer.active,
            officer.password_hash,
            sorted(session.scalars(select(User.username))),
            sorted(
                (t.id, t.revoked_at is None)
                for t in session.scalars(select(ApiToken).where(ApiToken.user_id == officer.id))
            ),
            session.scalars(select(AuditEvent.id)).all(),
            session.scalars(select(Authorisation.id)).all(),
        )

    return tuple(office.run(read))


@pytest.mark.parametrize("who", ["other organisation's admin", "deactivated admin", "mayor"])
def test_only_an_active_admin_of_the_organisation_manages_it(office: Office, who: str) -> None:
    _other_office_admin(office)
    office.run(lambda s: accounts.create_token(s, Office.user(s, "officer"), "officer's"))
    if who == "deactivated admin":
        office.run(lambda s: setattr(Office.user(s, "admin"), "active", False))
    username = {"other organisation's admin": "other_admin", "deactivated admin": "admin"}.get(
        who, "mayor"
    )
    before = _state(office)
    names = list(office.run(lambda s: _verbs(s, Office.user(s, username))))
    assert len(names) == 10
    for name in names:

        def attempt(session: Session, name: str = name) -> None:
            _verbs(session, Office.user(session, username))[name]()

        with pytest.raises(NotAllowed):
            office.run(attempt)
        assert _state(office) == before, name


def test_the_organisations_own_admin_may_and_every_change_is_audited(office: Office) -> None:
    office.run(lambda s: accounts.create_token(s, Office.user(s, "officer"), "officer's"))
    before = office.run(lambda s: len(s.scalars(select(AuditEvent.id)).all()))
    issued: list[str] = []
    for name in list(office.run(lambda s: _verbs(s, Office.user(s, "admin")))):

        def act(session: Session, name: str = name) -> None:
            result = _verbs(session, Office.user(session, "admin"))[name]()
            if name == "create_token":
                issued.append(result)

        office.run(act)

    def events(session: Session) -> list[AuditEvent]:
        return list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))[before:]

    made = office.run(lambda s: [(e.action, e.actor_name, e.details) for e in events(s)])
    assert [action for action, _, _ in made] == [
        "user_create",
        "user_update",
        "token_revoke",
        "user_deactivate",
        "password_reset",
        "token_create",
        "organisation_change",
        "organisation_change",
        "route_change",
        "acting_add",
    ]
    assert {actor for _, actor, _ in made} == {"ผู้ดูแลระบบ"}
    created = {action: details for action, _, details in made}["token_create"]
    assert created["username"] == "officer" and created["label"] == "planted"
    assert issued and all(issued[0] not in str(details) for _, _, details in made)
    assert office.run(lambda s: audit.verify(s).ok)


def test_only_the_organisations_active_admin_ends_its_authorisations(office: Office) -> None:
    _other_office_admin(office)

    authorisation_id = office.run(lambda s: _authorise_palad(s, None).id)

    def end(username: str) -> None:
        office.run(
            lambda s: acting.end_authorisation(s, Office.user(s, username), authorisation_id)
        )

    with pytest.raises(NotFound):  # another organisation's authorisation does not exist
        end("other_admin")
    with pytest.raises(NotAllowed):
        end("mayor")
    office.run(lambda s: setattr(Office.user(s, "admin"), "active", False))
    with pytest.raises(NotAllowed):
        end("admin")
    still = office.run(lambda s: s.get(Authorisation, authorisation_id).ended_at)
    assert still is None
    office.run(lambda s: setattr(Office.user(s, "admin"), "active", True))
    end("admin")
    assert office.run(lambda s: s.get(Authorisation, authorisation_id).ended_at) is not None


def test_only_the_organisations_admin_reads_its_audit_events(office: Office) -> None:
    _other_office_admin(office)
    for username in ("other_admin", "mayor"):
        with pytest.raises(NotAllowed):
            office.run(
                lambda s, username=username: admin.organisation_events(
                    s, Office.user(s, username), _seed_organisation(s)
                )
            )

    def add_to_both(session: Session) -> None:
        other = Office.user(session, "other_admin").organisation
        for organisation, username in ((_seed_organisation(session), "ours"), (other, "theirs")):
            admin.add_user(
                session,
                None,
                organisation,
                username=username,
                full_name="นายทดสอบ ระบบ",
                position="เจ้าหน้าที่",
                role="officer",
                password=PASSWORD,
            )

    office.run(add_to_both)
    events = office.run(
        lambda s: [
            (check.event.action, check.event.details["username"], check.ok)
            for check in admin.organisation_events(
                s, Office.user(s, "admin"), _seed_organisation(s)
            )
        ]
    )
    assert events == [("user_create", "ours", True)]


def test_the_organisations_own_events_are_read_from_their_own_index(office: Office) -> None:
    """The audit page's statement reads ix_audit_event_own (migration 0011), a partial
    index of the events of no memo, not the whole chain of memo events: its plan on this
    database, with the statement and parameters memoflow sends, names the index."""
    statements: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, sql: str, params: Any, context: Any, many: bool) -> None:
        if "FROM audit_event" in sql and "IS NULL" in sql:
            statements.append((sql, params))

    def plan(session: Session) -> str:
        engine = session.get_bind()
        event.listen(engine, "before_cursor_execute", capture)
        try:
            audit.organisation_timeline(session, _seed_organisation(session).id, before_seq=99)
        finally:
            event.remove(engine, "before_cursor_execute", capture)
        assert len(statements) == 1, statements
        sql, params = statements[0]
        connection = session.connection().connection.driver_connection
        cursor = connection.cursor()  # type: ignore[union-attr]
        if engine.dialect.name == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            return " ".join(str(row[-1]) for row in cursor.fetchall())
        # PostgreSQL reads a table this small from start to end whatever the indexes; with
        # sequential scans priced out it shows whether an index could answer.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        return " ".join(str(row[0]) for row in cursor.fetchall())

    assert "ix_audit_event_own" in office.run(plan)
