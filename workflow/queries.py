"""Read-side queries: the inbox, the memos a user may see, search. Each is one indexed
query plus one batch load; no per-row queries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, bindparam, func, or_, select
from sqlalchemy.orm import Session, defer, joinedload, lazyload

from models import Memo, MemoRouteRole, Secrecy, User
from workflow.acting import acting_for, holder_absent
from workflow.permissions import roles_of

PAGE_SIZE = 20
# Lists count the memos found up to this many and then say "more than 1,000". Counting
# them all visits every memo the reader may see, which grows with the office's history
# (60-110 ms at 100,000 memos, ten times that at a million: benchmarks/RESULTS.md),
# while nobody pages through a thousand memos: they search. The page itself is exact.
COUNT_LIMIT = 1000


@dataclass
class Page:
    items: list[Memo]
    total: int
    page: int
    page_size: int
    # True when more than ``total`` memos were found (the count stopped at COUNT_LIMIT).
    total_capped: bool = False

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages or (self.total_capped and len(self.items) == self.page_size)


def capped_count(query: Select[Memo], limit: int) -> Select[int]:
    """How many rows ``query`` gives, counting no further than ``limit`` + 1."""
    return select(func.count()).select_from(query.order_by(None).limit(limit + 1).subquery())


def _paginate(session: Session, query: Select[Memo], page: int, size: int) -> Page:
    """One page of ``query`` and its total, counted up to COUNT_LIMIT."""
    page = max(1, page)
    limit = COUNT_LIMIT
    total = session.execute(capped_count(query, limit)).scalar_one()
    items = list(session.execute(query.limit(size).offset((page - 1) * size)).unique().scalars())
    return Page(
        items=items,
        total=min(total, limit),
        page=page,
        page_size=size,
        total_capped=total > limit,
    )


def deciding_roles(session: Session, user: User) -> list[str]:
    """The roles whose waiting memos are ``user``'s to decide today: their own (unless an
    acting person stands in for them) and the roles they act for."""
    roles = set(acting_for(session, user))
    if holder_absent(session, user.organisation_id, user.role) is None:
        roles.add(user.role)
    return sorted(roles)


# Listed memos are all of the user's organisation, which is already in the session (it
# came with the user), so it is taken from there rather than joined and decoded again on
# every row (its route is JSON): about 15 % of an inbox request.
# A list shows each memo's heading (webapp.api.serialize.memo_summary_json, the memo_list
# macro), never its body: the three texts of up to 50,000 characters each stay in the
# database. raiseload, so that a list which starts to show one fails its tests rather than
# loading it memo by memo. The session keeps listed memos without these attributes: one
# fetched again by id in the same session (session.get, actions.get_memo) raises when
# they are read, so a request that lists does not act on a memo as well.
_LIST_LOADING = (
    lazyload(Memo.organisation),
    joinedload(Memo.author).lazyload(User.organisation),
    defer(Memo.background, raiseload=True),
    defer(Memo.facts, raiseload=True),
    defer(Memo.proposal, raiseload=True),
)
# The inbox shows no state (everything in it waits for the reader), so it does not read
# the route snapshot either, JSON decoded on every row. The other lists name each memo's
# state after its step in that snapshot.
_INBOX_LOADING = (*_LIST_LOADING, defer(Memo.route_snapshot, raiseload=True))


# The inbox is everyone's first page, and its statements differ between users and pages
# only in their values, so they are built once, here, with named parameters: building a
# new statement, its count and their cache keys on every request was about a fifth of an
# inbox request's CPU (0.45 ms of 2.5).
_WAITING = (
    Memo.organisation_id == bindparam("organisation_id"),
    Memo.pending_role.in_(bindparam("roles", expanding=True)),
)
_INBOX = select(Memo).where(*_WAITING).order_by(Memo.updated_at, Memo.id).options(*_INBOX_LOADING)
_INBOX_PAGE = _INBOX.limit(bindparam("limit", type_=Integer)).offset(
    bindparam("offset", type_=Integer)
)
_INBOX_COUNT = select(func.count()).select_from(Memo).where(*_WAITING)


def _waiting_for(session: Session, user: User) -> dict[str, Any]:
    """The parameters of the inbox statements for ``user``."""
    return {"organisation_id": user.organisation_id, "roles": deciding_roles(session, user)}


def inbox_query(session: Session, user: User) -> Select[Memo]:
    """Memos waiting for ``user``'s decision now, oldest first: the inbox's statement with
    ``user``'s values bound (to compile, explain or refine it)."""
    return _INBOX.params(_waiting_for(session, user))


def inbox(session: Session, user: User, page: int = 1, size: int = PAGE_SIZE) -> Page:
    if not user.active or user.is_admin:
        return Page([], 0, page, size)
    page = max(1, page)
    waiting = _waiting_for(session, user)
    total = session.execute(_INBOX_COUNT, waiting).scalar_one()
    rows = session.execute(_INBOX_PAGE, {**waiting, "limit": size, "offset": (page - 1) * size})
    return Page(items=list(rows.scalars()), total=total, page=page, page_size=size)


def inbox_count(session: Session, user: User) -> int:
    if not user.active or user.is_admin:
        return 0
    return session.execute(_INBOX_COUNT, _waiting_for(session, user)).scalar_one()


def visible_query(session: Session, user: User) -> Select[Memo]:
    """Every memo ``user`` may see (see workflow.permissions), newest first.

    A page walks the memos newest first and stops after a page of visible ones, probing
    the route-role key of each: a scalar subquery, because PostgreSQL turns an EXISTS into
    a hash of every route role of the organisation, built before the first row comes out
    (27 ms with 100,000 memos, 0.2 ms this way; EXPLAIN in benchmarks/RESULTS.md). The
    count of a list (``capped_count``) stops after COUNT_LIMIT + 1 memos the same way."""
    roles = sorted(roles_of(session, user))
    on_route: ColumnElement[bool] = (
        select(func.count())
        .where(MemoRouteRole.memo_id == Memo.id, MemoRouteRole.role.in_(roles))
        .scalar_subquery()
        > 0
    )
    shared: ColumnElement[bool] = on_route
    if user.is_admin:
        shared = (Memo.route_snapshot.is_not(None)) & (Memo.secrecy == Secrecy.normal.value)
    return (
        select(Memo)
        .where(Memo.organisation_id == user.organisation_id)
        .where(or_(Memo.author_id == user.id, shared))
        .order_by(Memo.id.desc())
        .options(*_LIST_LOADING)
    )


def search(
    session: Session,
    user: User,
    state: str | None = None,
    text: str | None = None,
    mine: bool = False,
    page: int = 1,
    size: int = PAGE_SIZE,
) -> Page:
    """Visible memos filtered by state and by a substring of the number or subject."""
    if not user.active:
        return Page([], 0, page, size)
    filters: list[ColumnElement[bool]] = []
    if mine:
        filters.append(Memo.author_id == user.id)
    if state:
        filters.append(Memo.state == state)
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        filters.append(
            or_(Memo.subject.like(pattern, escape="\\"), Memo.number.like(pattern, escape="\\"))
        )
    return _paginate(session, visible_query(session, user).where(*filters), page, size)
