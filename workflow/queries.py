"""Read-side queries: the inbox, the memos a user may see, search. Each is a count (capped
for lists) and one indexed statement for the page, whose rows are memo headings
(``MemoHeading``), not memo objects; no per-row queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    Select,
    String,
    Subquery,
    and_,
    bindparam,
    column,
    func,
    literal_column,
    or_,
    select,
    table,
    union,
)
from sqlalchemy.orm import Session

from models import Memo, MemoRouteRole, Organisation, Secrecy, User
from models.search import SHORTEST_INDEXED, TEXT_TABLE
from workflow import clock
from workflow.accounts import Reader, load_user
from workflow.acting import acting_for, holder_absent
from workflow.permissions import roles_of
from workflow.prepared import Prepared
from workflow.route import parse_route

PAGE_SIZE = 20
# Lists count the memos found up to this many and then say "more than 1,000". Counting
# them all visits every memo the reader may see, which grows with the office's history
# (60-110 ms at 100,000 memos, ten times that at a million: benchmarks/RESULTS.md at 47590cd),
# while nobody pages through a thousand memos: they search. The page itself is exact.
COUNT_LIMIT = 1000


# Headings are built twenty to a page on every list request: plain slotted dataclasses,
# because a frozen one sets each field through object.__setattr__ (six times slower).
@dataclass(slots=True)
class Author:
    """Who wrote a listed memo, as a list names them."""

    full_name: str
    position: str
    role: str


@dataclass(slots=True)
class MemoHeading:
    """What a list shows of a memo: its heading, never its body.

    Lists read these columns as plain rows rather than loading ``Memo`` objects: building
    twenty ORM objects with their authors was three quarters of the inbox's statement
    (benchmarks/RESULTS.md at 47590cd). The attributes a list reads have a memo's names
    (``heading.author.full_name``, ``heading.organisation``), so the API's summary and
    the list templates take either. The memo's texts are not here at all, so a list
    cannot start to load them memo by memo."""

    id: int
    number: str | None
    date: date | None
    state: str
    version: int
    subject: str
    urgency: str
    secrecy: str
    updated_at: datetime
    author: Author
    # Every listed memo is of the reader's organisation: this is the reader's.
    organisation: Organisation
    # The route the memo was submitted with (a list names its state after its step);
    # the inbox shows no state and leaves it None.
    route_snapshot: list[dict[str, Any]] | None = None


# The tables' own columns, not the mapped attributes (Memo.id...): a statement made only
# of them runs as plain Core, without the ORM's compile and result steps (a sixth of the
# inbox page statement's instructions). Both name the same columns.
_MEMOS, _USERS = Memo.__table__.c, User.__table__.c
_HEADING_COLUMNS = (
    _MEMOS.id,
    _MEMOS.number,
    _MEMOS.date,
    _MEMOS.state,
    _MEMOS.version,
    _MEMOS.subject,
    _MEMOS.urgency,
    _MEMOS.secrecy,
    _MEMOS.updated_at,
    _USERS.full_name,
    _USERS.position,
    _USERS.role,
)
_WRITTEN_BY = _USERS.id == _MEMOS.author_id
if TYPE_CHECKING:
    # A statement of heading rows, whatever its columns' types. For the type checker only:
    # SQLAlchemy 2.0's Select takes no unpacked tuple at run time (2.1's does).
    HeadingRows = Select[*tuple[Any, ...]]


def _heading(row: Any, organisation: Organisation) -> MemoHeading:
    """A row of ``_HEADING_COLUMNS`` (and the route snapshot, for lists) as a heading."""
    (id_, number, date_, state, version, subject, urgency, secrecy, updated_at) = row[:9]
    full_name, position, role = row[9:12]
    return MemoHeading(
        id=id_,
        number=number,
        date=date_,
        state=state,
        version=version,
        subject=subject,
        urgency=urgency,
        secrecy=secrecy,
        updated_at=updated_at,
        author=Author(full_name, position, role),
        organisation=organisation,
        route_snapshot=row[12] if len(row) > 12 else None,
    )


@dataclass
class Page:
    items: list[MemoHeading]
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


def deciding_roles(session: Session, user: User) -> list[str]:
    """The roles whose waiting memos are ``user``'s to decide today: their own (unless an
    acting person stands in for them) and the roles they act for."""
    roles = set(acting_for(session, user))
    if holder_absent(session, user.organisation_id, user.role) is None:
        roles.add(user.role)
    return sorted(roles)


def _deciding_roles(session: Session, user: User | Reader) -> list[str]:
    """``deciding_roles`` of a user or of an API reader. On a day after the organisation's
    last authorisation to act for someone (most days) that is the user's own role, found
    without a query; otherwise the authorisations in force decide (the user is loaded)."""
    if isinstance(user, Reader):
        if _no_authorisation_today(user.acting_until):
            return [user.role]
        found = load_user(session, user.id)
        return deciding_roles(session, found) if found is not None else []
    if _no_authorisation_today(user.organisation.acting_until):
        return [user.role]
    return deciding_roles(session, user)


def _no_authorisation_today(acting_until: date | None) -> bool:
    return acting_until is None or acting_until < clock.local_today()


# The inbox is everyone's first page. Its statement, with the count of all the memos
# waiting as a scalar subquery (run once), differs between users and pages only in its
# values and in how many roles it looks for, so it is compiled once per number of roles
# and dialect and run on the driver (workflow.prepared): built, compiled and run through
# the Session on every request, its two statements were a quarter of an API inbox
# request's instructions (issue 19). The inbox shows no state (everything in it waits
# for the reader), so it does not read the route snapshot.
def _waiting(roles: int) -> tuple[ColumnElement[bool], ...]:
    return (
        _MEMOS.organisation_id == bindparam("organisation_id", type_=Integer),
        _MEMOS.pending_role.in_([bindparam(f"role_{n}", type_=String) for n in range(roles)]),
    )


def _inbox_count_statement(roles: int) -> Select[int]:
    return select(func.count()).select_from(Memo.__table__).where(*_waiting(roles))


@cache
def _inbox_page(roles: int) -> Prepared:
    """A page of the inbox: rows of ``_HEADING_COLUMNS``, each ending with the count."""
    return Prepared(
        select(*_HEADING_COLUMNS, _inbox_count_statement(roles).scalar_subquery())
        .select_from(Memo.__table__)
        .join(User.__table__, _WRITTEN_BY)
        .where(*_waiting(roles))
        .order_by(_MEMOS.updated_at, _MEMOS.id)
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
    )


@cache
def _inbox_count(roles: int) -> Prepared:
    return Prepared(_inbox_count_statement(roles))


def _waiting_values(session: Session, user: User | Reader) -> dict[str, Any] | None:
    """The values of the inbox statements for ``user`` (None: nothing waits for them)."""
    if not user.active or user.is_admin:
        return None
    roles = _deciding_roles(session, user)
    if not roles:
        return None
    values: dict[str, Any] = {f"role_{n}": role for n, role in enumerate(roles)}
    values["organisation_id"] = user.organisation_id
    return values


def inbox_query(session: Session, user: User) -> HeadingRows:
    """Memos waiting for ``user``'s decision now, oldest first: the inbox's statement with
    ``user``'s values written in (to compile, explain or refine it)."""
    return (
        select(*_HEADING_COLUMNS)
        .select_from(Memo.__table__)
        .join(User.__table__, _WRITTEN_BY)
        .where(
            _MEMOS.organisation_id == user.organisation_id,
            _MEMOS.pending_role.in_(_deciding_roles(session, user)),
        )
        .order_by(_MEMOS.updated_at, _MEMOS.id)
    )


def inbox_rows(
    session: Session, user: User | Reader, page: int = 1, size: int = PAGE_SIZE
) -> tuple[list[tuple[Any, ...]], int]:
    """One page of the memos waiting for ``user``'s decision, oldest first, as rows of
    ``_HEADING_COLUMNS`` (each followed by the count), and how many wait in all."""
    values = _waiting_values(session, user)
    if values is None:
        return [], 0
    roles = len(values) - 1
    page = max(1, page)
    rows = _inbox_page(roles).rows(session, {**values, "limit": size, "offset": (page - 1) * size})
    if rows:
        return rows, rows[0][-1]
    if page == 1:
        return rows, 0
    # Past the last page: no row carries the count.
    total: int = _inbox_count(roles).rows(session, values)[0][0]
    return rows, total


def inbox(session: Session, user: User, page: int = 1, size: int = PAGE_SIZE) -> Page:
    page = max(1, page)
    rows, total = inbox_rows(session, user, page, size)
    items = [_heading(row[:12], user.organisation) for row in rows]
    return Page(items=items, total=total, page=page, page_size=size)


def inbox_count(session: Session, user: User) -> int:
    values = _waiting_values(session, user)
    if values is None:
        return 0
    count: int = _inbox_count(len(values) - 1).rows(session, values)[0][0]
    return count


@dataclass(frozen=True)
class ListFilter:
    """What a list is narrowed to: a state, a substring of the number or subject, and
    only the reader's own memos."""

    state: str | None = None
    text: str | None = None
    mine: bool = False

    def parameters(self) -> dict[str, Any]:
        """The values of the ``state`` and ``pattern`` parameters of the list statements."""
        found: dict[str, Any] = {}
        if self.state:
            found["state"] = self.state
        if self.text:
            escaped = self.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            found["pattern"] = f"%{escaped}%"
            found["text"] = self.text
            # An FTS5 phrase: the text in double quotes, a double quote doubled.
            found["match"] = '"' + self.text.replace('"', '""') + '"'
        return found

    @property
    def indexed_text(self) -> bool:
        """Whether the text is long enough to be looked up in the text index."""
        return self.text is not None and len(self.text) >= SHORTEST_INDEXED

    @property
    def has_case(self) -> bool:
        """Whether the text holds a letter that has case (Latin, say; Thai has none)."""
        return self.text is not None and self.text.lower() != self.text.upper()


@dataclass(frozen=True)
class _Shape:
    """What a list statement's form depends on; everything else is a parameter. Lists are
    many users' first page, so each form is built once (building a statement and its
    cache key on every request cost more than running it)."""

    admin: bool
    roles: int
    state: bool
    text: bool
    # The text is long enough for the text index (models.search). On SQLite the roles' and
    # the admin's ways then start from the FTS5 table (``fts``); PostgreSQL's planner picks
    # the trigram indexes by itself, and must not for a shorter text (``_conditions``).
    indexed_text: bool = False
    # The text holds a letter with case: PostgreSQL must then fold case (``_conditions``).
    has_case: bool = False
    dialect: str = "sqlite"

    @property
    def fts(self) -> bool:
        return self.indexed_text and self.dialect == "sqlite"


def _conditions(shape: _Shape) -> list[ColumnElement[bool]]:
    """The conditions on the memo's own columns: its state and a substring."""
    found: list[ColumnElement[bool]] = []
    if shape.state:
        found.append(Memo.state == bindparam("state"))
    # A search ignores case on both databases, as SQLite's LIKE does for Latin letters
    # ("covid" finds "COVID-19"). PostgreSQL's LIKE does not, so a text with a letter that
    # has case is compared with both sides lowered there (ILIKE, which the trigram indexes
    # serve too); a text without one (any Thai text) keeps the plain comparison, which
    # finds the same memos without lowering every subject it tests (238 against 413 ms
    # for a two-letter Thai text that walks the memos, benchmarks/RESULTS.md at 47590cd).
    fold = shape.dialect == "postgresql" and shape.has_case
    if shape.text and shape.dialect == "postgresql" and not shape.indexed_text:
        # Too short for a trigram: PostgreSQL would still scan the whole trigram index for
        # a LIKE (300 ms at 100,000 memos, twice the walk). strpos is the same literal
        # test, and no index serves it.
        wanted: Any = bindparam("text", type_=String)
        searched: list[Any] = [Memo.subject, Memo.number]
        if fold:
            wanted = func.lower(wanted)
            searched = [func.lower(column) for column in searched]
        found.append(or_(*(func.strpos(column, wanted) > 0 for column in searched)))
    elif shape.text:
        pattern: BindParameter[str] = bindparam("pattern", type_=String)
        if fold:
            matches = [column.ilike(pattern, escape="\\") for column in (Memo.subject, Memo.number)]
        else:
            matches = [column.like(pattern, escape="\\") for column in (Memo.subject, Memo.number)]
        found.append(or_(*matches))
    return found


_ENOUGH = bindparam("enough", type_=Integer)


def _newest(query: Select[Any]) -> Select[Any]:
    return query.order_by(Memo.id.desc()).limit(_ENOUGH)


def _on_route_branch(shape: _Shape, index: int) -> Select[Any]:
    """The newest ``enough`` ids of memos with the role ``role_<index>`` on their route
    that pass the conditions. Without a state, walk the role's route-role rows newest
    first (ix_memo_route_role_lookup). With one, walk the memos in that state newest
    first (ix_memo_org_state) and probe each one's route roles by key: a state can hold
    few of the role's memos among many others', and the route-role walk would pass them
    all (``_sharing_roles`` leaves out a role on no route at all, like an officer's)."""
    role: BindParameter[str] = bindparam(f"role_{index}", type_=String)
    conditions = _conditions(shape)
    if not shape.state:
        rows = select(MemoRouteRole.memo_id.label("id")).where(
            MemoRouteRole.organisation_id == bindparam("organisation_id"),
            MemoRouteRole.role == role,
        )
        if conditions:
            rows = rows.join(Memo, Memo.id == MemoRouteRole.memo_id).where(*conditions)
        return rows.order_by(MemoRouteRole.memo_id.desc()).limit(_ENOUGH)
    # A scalar subquery rather than EXISTS: PostgreSQL turns a correlated EXISTS into a
    # hash of every route role of the organisation, built before the first row comes out.
    on_route = (
        select(func.count())
        .where(MemoRouteRole.memo_id == Memo.id, MemoRouteRole.role == role)
        .scalar_subquery()
    )
    return _newest(
        select(Memo.id.label("id")).where(
            Memo.organisation_id == bindparam("organisation_id"), on_route > 0, *conditions
        )
    )


# What an admin may see of the memos as such: the submitted ones that are not secret.
_ADMIN_MAY_SEE = and_(Memo.route_snapshot.is_not(None), Memo.secrecy == Secrecy.normal.value)

# The FTS5 table of models.search (SQLite), with the MATCH of its whole row.
_TEXT_ROWS = table(TEXT_TABLE, column("rowid", Integer))
_TEXT_MATCHES = literal_column(TEXT_TABLE).op("MATCH")(bindparam("match", type_=String))


def _matching_others(shape: _Shape) -> Select[Any]:
    """SQLite: the newest ``enough`` ids of memos the reader may see through a role or as
    an admin whose subject or number holds the text, found through the FTS5 table.

    A branch of ``_visible_ids`` walks the reader's memos newest first and tests the text
    on each: a text that matches little made a role's walk read every memo of the route
    (a substring has no ordinary index). Here the FTS5 table hands over the matching memos
    newest first, so a text found in many memos stops after a page, and each is tested
    for being visible in the same ways: a role the reader holds or acts for on its route,
    an admin's submitted non-secret memo. The ``LIKE`` stays the rule; the index only
    narrows the candidates (FTS5 folds case a little more widely than SQLite's ``LIKE``)."""
    ways: list[ColumnElement[bool]] = []
    if shape.admin:
        ways.append(_ADMIN_MAY_SEE)
    if shape.roles:
        roles = [bindparam(f"role_{index}", type_=String) for index in range(shape.roles)]
        on_route = select(MemoRouteRole.memo_id).where(
            MemoRouteRole.memo_id == Memo.id, MemoRouteRole.role.in_(roles)
        )
        ways.append(on_route.exists())
    return (
        select(Memo.id.label("id"))
        .join(_TEXT_ROWS, _TEXT_ROWS.c.rowid == Memo.id)
        .where(
            _TEXT_MATCHES,
            Memo.organisation_id == bindparam("organisation_id"),
            or_(*ways),
            *_conditions(shape),
        )
        .order_by(_TEXT_ROWS.c.rowid.desc())
        .limit(_ENOUGH)
    )


def _visible_ids(shape: _Shape) -> Subquery:
    """The ids of the memos a reader may see (workflow.permissions) that pass the
    conditions: for each way of seeing a memo, the newest ``enough`` of them, and the
    union of those.

    The ways: being its author (ix_memo_org_author); each role the reader holds or acts
    for, through the memo's route roles (``_on_route_branch``); for an admin, every
    submitted memo that is not secret (ix_memo_org_newest). Each branch walks an index
    newest first and stops after ``enough`` rows, so a page costs the same whether the
    reader may see most of a large organisation's memos or a handful: walking the
    organisation's memos and probing each, as lists once did, read every memo of the
    organisation to fill the page of an officer who wrote few (benchmarks/RESULTS.md at 47590cd).
    The newest ``enough`` of the union are among the newest ``enough`` of its branches.
    With a text long enough for the text index, on SQLite the roles' and the admin's ways
    are one branch that starts from the FTS5 table (``_matching_others``); the reader's
    own memos are still walked (at most the memos they wrote, where the index may match
    far more). On PostgreSQL the planner takes the trigram indexes for a branch when it
    expects the text to match few memos (models.search gives it the statistics to tell)."""
    conditions = _conditions(shape)
    own = select(Memo.id.label("id")).where(
        Memo.author_id == bindparam("author_id"),
        Memo.organisation_id == bindparam("organisation_id"),
        *conditions,
    )
    branches = [_newest(own)]
    if shape.fts:
        if shape.admin or shape.roles:
            branches.append(_matching_others(shape))
    else:
        if shape.admin:
            submitted_not_secret = select(Memo.id.label("id")).where(
                Memo.organisation_id == bindparam("organisation_id"), _ADMIN_MAY_SEE, *conditions
            )
            branches.append(_newest(submitted_not_secret))
        branches.extend(_on_route_branch(shape, index) for index in range(shape.roles))
    # Each branch as a subquery of its own: SQLite allows no ORDER BY or LIMIT on a member
    # of a compound SELECT.
    members = [select(branch.subquery().c.id) for branch in branches]
    return union(*members).subquery("visible")


def _page_statement(shape: _Shape) -> HeadingRows:
    ids = _visible_ids(shape)
    chosen = (
        select(ids.c.id)
        .order_by(ids.c.id.desc())
        .limit(bindparam("page_size", type_=Integer))
        .offset(bindparam("page_offset", type_=Integer))
    )
    return (
        select(*_HEADING_COLUMNS, _MEMOS.route_snapshot)
        .select_from(Memo.__table__)
        .join(User.__table__, _WRITTEN_BY)
        .where(_MEMOS.id.in_(chosen))
        .order_by(_MEMOS.id.desc())
    )


def _count_statement(shape: _Shape) -> Select[int]:
    # Run with enough = COUNT_LIMIT + 1: when the union of the branches, each stopped
    # after that many rows, holds more than COUNT_LIMIT memos, so does the whole;
    # otherwise no branch stopped early and the count is exact.
    return select(func.count()).select_from(_visible_ids(shape))


_statements: dict[_Shape, tuple[HeadingRows, Select[int]]] = {}


def _statements_for(shape: _Shape) -> tuple[HeadingRows, Select[int]]:
    """The page and count statements of this shape, built on first use."""
    if shape not in _statements:
        _statements[shape] = (_page_statement(shape), _count_statement(shape))
    return _statements[shape]


def _roles_on_a_route(session: Session, user: User, roles: list[str]) -> list[str]:
    """Those of ``roles`` on the route of at least one memo. An officer's role is on none,
    and walking the memos of a state to probe each for it would pass them all. A role on
    the organisation's route now is taken as on one (at worst its branch finds nothing);
    any other is looked up, one probe of ix_memo_route_role_lookup each, in one statement
    (routes change, and older memos keep the route they were submitted with)."""
    current = parse_route(user.organisation.route).roles
    unsure = [role for role in roles if role not in current]
    if not unsure:
        return roles
    probes = [
        select(MemoRouteRole.memo_id)
        .where(MemoRouteRole.organisation_id == user.organisation_id, MemoRouteRole.role == role)
        .exists()
        for role in unsure
    ]
    found = dict(zip(unsure, session.execute(select(*probes)).one(), strict=True))
    return [role for role in roles if found.get(role, True)]


def _sharing_roles(session: Session, user: User, wanted: ListFilter) -> list[str]:
    """The roles through whose route-role rows ``user`` may see memos for this list: none
    for an admin (who sees submitted memos as such) or for "mine". When the list is
    filtered by state or by an indexed text, the roles on no route at all are left out:
    their branches would test every memo of that state, or every memo matching the text,
    and find none (an officer's role is on no route)."""
    if wanted.mine or user.is_admin:
        return []
    roles = sorted(roles_of(session, user))
    if wanted.state or wanted.indexed_text:
        return _roles_on_a_route(session, user, roles)
    return roles


@dataclass(frozen=True)
class _List:
    """A list as statements and their values."""

    page: HeadingRows
    count: Select[int]
    values: dict[str, Any]


def _list(session: Session, user: User, wanted: ListFilter) -> _List:
    roles = _sharing_roles(session, user, wanted)
    shape = _Shape(
        admin=user.is_admin and not wanted.mine,
        roles=len(roles),
        state=bool(wanted.state),
        text=bool(wanted.text),
        indexed_text=wanted.indexed_text,
        has_case=wanted.has_case,
        dialect=session.get_bind().dialect.name,
    )
    page, count = _statements_for(shape)
    values = {
        "organisation_id": user.organisation_id,
        "author_id": user.id,
        **{f"role_{index}": role for index, role in enumerate(roles)},
        **wanted.parameters(),
    }
    return _List(page, count, values)


def _page_values(page: int, size: int) -> dict[str, int]:
    offset = (max(1, page) - 1) * size
    return {"enough": offset + size, "page_size": size, "page_offset": offset}


def visible_page_query(
    session: Session, user: User, wanted: ListFilter, page: int = 1, size: int = PAGE_SIZE
) -> HeadingRows:
    """One page of the memos ``user`` may see that pass ``wanted``, newest first, with
    the values bound (to compile, explain or refine it)."""
    found = _list(session, user, wanted)
    return found.page.params(found.values | _page_values(page, size))


def visible_count_query(session: Session, user: User, wanted: ListFilter) -> Select[int]:
    """How many memos ``user`` may see that pass ``wanted``, counted no further than
    COUNT_LIMIT + 1, with the values bound."""
    found = _list(session, user, wanted)
    return found.count.params(found.values | {"enough": COUNT_LIMIT + 1})


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
    # A NUL cannot be in a stored state, number or subject (input refuses control
    # characters), and PostgreSQL refuses it in a parameter: such a filter matches nothing.
    if not user.active or "\x00" in (state or "") + (text or ""):
        return Page([], 0, max(1, page), size)
    page = max(1, page)
    found = _list(session, user, ListFilter(state=state or None, text=text or None, mine=mine))
    total = session.execute(found.count, found.values | {"enough": COUNT_LIMIT + 1}).scalar_one()
    rows = session.execute(found.page, found.values | _page_values(page, size))
    return Page(
        items=[_heading(row, user.organisation) for row in rows],
        total=min(total, COUNT_LIMIT),
        page=page,
        page_size=size,
        total_capped=total > COUNT_LIMIT,
    )
