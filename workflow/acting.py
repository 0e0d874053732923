"""Acting for others: recording, ending and applying authorisations.

Rules (docs/acting.md explains them):
- An authorisation is in force on the calendar days (Asia/Bangkok) from ``valid_from`` to
  ``valid_to`` inclusive, until it is ended; ending it takes effect at once.
- While in force, the acting user finds the role's memos in their inbox, may see them and
  may act at that role's steps; the opinion records the capacity, the position acted for
  and the order.
- ปฏิบัติราชการแทน is a standing delegation while the holder is in post: the holder may
  still act. รักษาราชการแทน and รักษาการในตำแหน่ง mean the holder is absent (or the post
  vacant): while such an authorisation is in force the holder may not act at that step.
- For one role at most one authorisation is in force on any day, and no chain of
  authorisations may lead back to where it started (A for B while B for A).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Authorisation, Capacity, Organisation, User
from workflow import audit, clock
from workflow.accounts import check_admin_of
from workflow.errors import NotFound, ValidationFailed
from workflow.route import parse_route
from workflow.validation import check_text

HOLDER_ABSENT = frozenset({Capacity.acting_head.value, Capacity.acting_in_position.value})
_CACHE_KEY = "memoflow.acting"


def _in_force(session: Session, organisation_id: int, today: date) -> list[Authorisation]:
    """Every authorisation of the organisation in force today (cached per session). The
    organisation is already in the session (it comes with the user); when its
    ``acting_until`` says no authorisation reaches today, there is nothing to look up."""
    cache: dict[tuple[int, date], list[Authorisation]] = session.info.setdefault(_CACHE_KEY, {})
    key = (organisation_id, today)
    if key not in cache:
        organisation = session.get(Organisation, organisation_id)
        if organisation is None or not _may_have_authorisations(organisation, today):
            cache[key] = []
        else:
            cache[key] = list(
                session.execute(
                    select(Authorisation).where(
                        Authorisation.organisation_id == organisation_id,
                        Authorisation.valid_from <= today,
                        Authorisation.valid_to >= today,
                        Authorisation.ended_at.is_(None),
                    )
                ).scalars()
            )
    return cache[key]


def _may_have_authorisations(organisation: Organisation, today: date) -> bool:
    return organisation.acting_until is not None and organisation.acting_until >= today


def _forget(session: Session) -> None:
    session.info.pop(_CACHE_KEY, None)


def _lock_organisation(session: Session, organisation_id: int) -> Organisation:
    """The organisation row, locked until the transaction ends: authorisations of one
    organisation are added and ended one at a time, so the overlap check and
    ``acting_until`` see every committed change (on SQLite the write lock does this)."""
    return session.execute(
        select(Organisation)
        .where(Organisation.id == organisation_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def _update_acting_until(session: Session, organisation: Organisation) -> None:
    """Recompute ``acting_until`` from the authorisations themselves (the row is locked)."""
    session.flush()
    organisation.acting_until = session.execute(
        select(func.max(Authorisation.valid_to)).where(
            Authorisation.organisation_id == organisation.id,
            Authorisation.ended_at.is_(None),
        )
    ).scalar_one()


def acting_for(session: Session | None, user: User) -> dict[str, Authorisation]:
    """The roles ``user`` acts for today, each with its authorisation."""
    if session is None or not user.active:
        return {}
    return {
        a.role: a
        for a in _in_force(session, user.organisation_id, clock.local_today())
        if a.acting_user_id == user.id
    }


def holder_absent(session: Session | None, organisation_id: int, role: str) -> Authorisation | None:
    """The authorisation that stands in for an absent holder of ``role`` today, if any."""
    if session is None:
        return None
    for authorisation in _in_force(session, organisation_id, clock.local_today()):
        if authorisation.role == role and authorisation.capacity in HOLDER_ABSENT:
            return authorisation
    return None


def add_authorisation(
    session: Session,
    actor: User | None,
    organisation: Organisation,
    acting_user: User,
    role: str,
    capacity: str,
    order_ref: str,
    valid_from: date,
    valid_to: date,
) -> Authorisation:
    """Record an authorisation (admins and the command line only)."""
    check_admin_of(actor, organisation.id, action="acting_add")
    errors: dict[str, str] = {}
    route_roles = {step.role for step in parse_route(organisation.route).steps}
    if role not in route_roles:
        errors["role"] = "choice:" + ",".join(sorted(route_roles))
    if capacity not in {c.value for c in Capacity}:
        errors["capacity"] = "choice:" + ",".join(c.value for c in Capacity)
    if problem := check_text(order_ref, 100, required=True):
        errors["order"] = problem
    if valid_from > valid_to:
        errors["period"] = "before_from"
    if acting_user.organisation_id != organisation.id or not acting_user.active:
        errors["username"] = "invalid"
    elif acting_user.is_admin or acting_user.role == role:
        errors["username"] = "holds_role"
    if errors:
        raise ValidationFailed(errors)

    _lock_organisation(session, organisation.id)
    overlapping = [
        a
        for a in session.execute(
            select(Authorisation).where(
                Authorisation.organisation_id == organisation.id,
                Authorisation.ended_at.is_(None),
                Authorisation.valid_from <= valid_to,
                Authorisation.valid_to >= valid_from,
            )
        ).scalars()
    ]
    if any(a.role == role for a in overlapping):
        raise ValidationFailed({"role": "overlapping"})
    # Roles as a graph: "holder of X acts for Y". Adding an edge must not close a cycle.
    edges = {(a.acting_user.role, a.role) for a in overlapping}
    edges.add((acting_user.role, role))
    if _has_cycle(edges):
        raise ValidationFailed({"role": "circular"})

    authorisation = Authorisation(
        organisation_id=organisation.id,
        acting_user_id=acting_user.id,
        acting_user=acting_user,
        role=role,
        capacity=capacity,
        order_ref=order_ref,
        valid_from=valid_from,
        valid_to=valid_to,
        created_by_id=actor.id if actor else None,
        created_at=clock.utcnow_naive(),
    )
    session.add(authorisation)
    _update_acting_until(session, organisation)
    _forget(session)
    audit.append_event(
        session,
        organisation_id=organisation.id,
        actor=actor,
        action="acting_add",
        details=authorisation_record(authorisation),
    )
    return authorisation


def end_authorisation(session: Session, actor: User | None, authorisation_id: int) -> Authorisation:
    """End an authorisation now; it has no effect from this moment on."""
    if actor is not None:
        check_admin_of(actor, actor.organisation_id, action="acting_end")
    authorisation = session.get(Authorisation, authorisation_id)
    if authorisation is None or (
        actor is not None and authorisation.organisation_id != actor.organisation_id
    ):
        raise NotFound("no such authorisation")  # another organisation's does not exist
    if authorisation.ended_at is None:
        organisation = _lock_organisation(session, authorisation.organisation_id)
        authorisation.ended_at = clock.utcnow_naive()
        _update_acting_until(session, organisation)
        _forget(session)
        audit.append_event(
            session,
            organisation_id=authorisation.organisation_id,
            actor=actor,
            action="acting_end",
            details=authorisation_record(authorisation),
        )
    return authorisation


def list_authorisations(session: Session, organisation_id: int) -> list[Authorisation]:
    return list(
        session.execute(
            select(Authorisation)
            .where(Authorisation.organisation_id == organisation_id)
            .order_by(Authorisation.valid_from.desc(), Authorisation.id.desc())
        ).scalars()
    )


def is_in_force(authorisation: Authorisation) -> bool:
    today = clock.local_today()
    return (
        authorisation.ended_at is None
        and authorisation.valid_from <= today <= authorisation.valid_to
    )


def status_of(authorisation: Authorisation) -> str:
    """ "in force", "ended" (early, by an admin) or "not in force" (outside its period)."""
    if is_in_force(authorisation):
        return "in force"
    return "ended" if authorisation.ended_at is not None else "not in force"


def authorisation_record(authorisation: Authorisation) -> dict[str, object]:
    return {
        "authorisation_id": authorisation.id,
        "acting_user_id": authorisation.acting_user_id,
        "acting_user": authorisation.acting_user.full_name,
        "role": authorisation.role,
        "capacity": authorisation.capacity,
        "order_ref": authorisation.order_ref,
        "valid_from": authorisation.valid_from.isoformat(),
        "valid_to": authorisation.valid_to.isoformat(),
        "ended": authorisation.ended_at is not None,
    }


def signature_lines(
    name: str, position: str, capacity: str | None = None, acting_for: str | None = None
) -> list[str]:
    """The lines under a signature, the Thai way:
    ``(name)``, then the person's own position (followed by the capacity when acting for
    someone), then the position acted for on the next line."""
    if capacity and acting_for:
        return [f"({name})", f"{position} {capacity}", acting_for]
    return [f"({name})", position]


def _has_cycle(edges: set[tuple[str, str]]) -> bool:
    graph: dict[str, set[str]] = {}
    for source, target in edges:
        graph.setdefault(source, set()).add(target)
    visiting: set[str] = set()
    done: set[str] = set()

    def visit(node: str) -> bool:
        if node in visiting:
            return True
        if node in done:
            return False
        visiting.add(node)
        if any(visit(nxt) for nxt in graph.get(node, ())):
            return True
        visiting.discard(node)
        done.add(node)
        return False

    return any(visit(node) for node in list(graph))
