"""The admin pages: users and their API tokens, the route as data, the organisation's
settings, authorisations to act for others, and the organisation's own audit events.
Only an admin gets in; an admin still cannot decide on memos (the workflow refuses
that, whatever page asks)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from models import ADMIN_ROLE, OFFICER_ROLE, Capacity, User
from webapp.api.acting import role_for_step
from webapp.db import db_session, rollback
from webapp.i18n import current_language
from webapp.messages import field_errors
from workflow import accounts, acting
from workflow import admin as operations
from workflow.audit import EventCheck
from workflow.errors import NotAllowed, RouteError, ValidationFailed
from workflow.route import parse_route

bp = Blueprint("admin", __name__, url_prefix="/admin")

Page = str | Response | tuple[str, int]
USER_FORM_FIELDS = ("full_name", "position", "role", "unit")


def _admin() -> User:
    user: User = current_user._get_current_object()
    return user


@bp.before_request
@login_required
def _admins_only() -> None:
    if not _admin().is_admin:
        raise NotAllowed("only an admin may open the admin pages", action="admin")


def _errors(error: ValidationFailed) -> dict[str, str]:
    rollback()
    return field_errors(error.errors, current_language())


def _role_choices() -> list[str]:
    route = parse_route(_admin().organisation.route)
    return [OFFICER_ROLE, *sorted(route.roles), ADMIN_ROLE]


@bp.route("/")
def home() -> Response:
    return redirect(url_for("admin.users"))


# --- users ----------------------------------------------------------------------------


def _users_page(values: dict[str, Any], errors: dict[str, str], status: int = 200) -> Page:
    organisation = _admin().organisation
    return (
        render_template(
            "admin/users.html",
            users=operations.users_of(db_session(), organisation),
            values=values,
            errors=errors,
            roles=_role_choices(),
        ),
        status,
    )


@bp.route("/users", methods=["GET", "POST"])
def users() -> Page:
    """Everyone in the organisation, and a form to add someone."""
    if request.method == "GET":
        return _users_page({"role": OFFICER_ROLE}, {})
    form = request.form
    values = {
        name: form.get(name, "").strip()
        for name in ("username", "full_name", "position", "role", "unit")
    }
    try:
        user = operations.add_user(
            db_session(),
            _admin(),
            _admin().organisation,
            password=form.get("password", ""),
            **values,
        )
    except ValidationFailed as error:
        return _users_page(values, _errors(error), 422)
    flash(
        _("Added %(name)s (%(username)s).", name=user.full_name, username=user.username), "success"
    )
    return redirect(url_for("admin.user", user_id=user.id))


def _user_page(
    user: User,
    errors: dict[str, str] | None = None,
    status: int = 200,
    new_token: str | None = None,
) -> Page:
    return (
        render_template(
            "admin/user.html",
            user=user,
            tokens=operations.tokens_of(db_session(), user),
            errors=errors or {},
            roles=_role_choices(),
            new_token=new_token,
        ),
        status,
    )


def _target(user_id: int) -> User:
    return operations.user_in(db_session(), _admin().organisation, user_id)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user(user_id: int) -> Page:
    """One account: name, position, role, unit; password; active; API tokens."""
    target = _target(user_id)
    if request.method == "GET":
        return _user_page(target)
    values = {name: request.form.get(name, "") for name in USER_FORM_FIELDS}
    try:
        operations.update_user(db_session(), _admin(), target, **values)
    except ValidationFailed as error:
        errors = _errors(error)
        return _user_page(_target(user_id), errors, 422)
    flash(_("Saved %(name)s.", name=target.full_name), "success")
    return redirect(url_for("admin.user", user_id=user_id))


@bp.route("/users/<int:user_id>/password", methods=["POST"])
def password(user_id: int) -> Page:
    target = _target(user_id)
    try:
        operations.reset_password(db_session(), _admin(), target, request.form.get("password", ""))
    except ValidationFailed as error:
        errors = _errors(error)
        return _user_page(_target(user_id), errors, 422)
    flash(_("The password of %(name)s was changed.", name=target.full_name), "success")
    return redirect(url_for("admin.user", user_id=user_id))


@bp.route("/users/<int:user_id>/active", methods=["POST"])
def active(user_id: int) -> Page:
    target = _target(user_id)
    make_active = request.form.get("active") == "1"
    try:
        operations.set_active(db_session(), _admin(), target, make_active)
    except ValidationFailed:
        rollback()
        flash(_("You cannot deactivate your own account."), "danger")
        return redirect(url_for("admin.user", user_id=user_id))
    if make_active:
        flash(_("%(name)s can sign in again.", name=target.full_name), "success")
    else:
        flash(
            _(
                "%(name)s was deactivated and can no longer sign in; every session was"
                " ended and every API token revoked.",
                name=target.full_name,
            ),
            "success",
        )
    return redirect(url_for("admin.user", user_id=user_id))


@bp.route("/users/<int:user_id>/tokens", methods=["POST"])
def create_token(user_id: int) -> Page:
    """A new API token, shown on this one page only (never stored, never flashed)."""
    target = _target(user_id)
    label = request.form.get("label", "").strip()[:100]
    token = operations.create_token(db_session(), _admin(), target, label=label)
    return _user_page(target, new_token=token, status=201)


@bp.route("/users/<int:user_id>/tokens/<int:token_id>/revoke", methods=["POST"])
def revoke_token(user_id: int, token_id: int) -> Page:
    target = _target(user_id)
    operations.revoke_token(db_session(), _admin(), target, token_id)
    flash(_("The token was revoked."), "success")
    return redirect(url_for("admin.user", user_id=user_id))


# --- the route and the organisation ---------------------------------------------------


def _route_page(text: str, error: str | None = None, status: int = 200) -> Page:
    return (
        render_template(
            "admin/route.html",
            route=parse_route(_admin().organisation.route),
            text=text,
            error=error,
        ),
        status,
    )


@bp.route("/route", methods=["GET", "POST"])
def route() -> Page:
    """The approval route as JSON data: a list of steps {key, role, label, title}."""
    organisation = _admin().organisation
    if request.method == "GET":
        return _route_page(json.dumps(organisation.route, ensure_ascii=False, indent=2))
    text = request.form.get("route", "")
    try:
        new_route = parse_route(json.loads(text), organisation.name)
    except ValueError as error:
        return _route_page(text, _("This is not valid JSON: %(detail)s", detail=str(error)), 422)
    except RouteError as error:
        rollback()
        return _route_page(
            text, _("This route cannot be used: %(detail)s", detail=error.detail), 422
        )
    operations.set_route(db_session(), _admin(), organisation, new_route)
    flash(_("The route was saved. Memos already submitted keep their route."), "success")
    return redirect(url_for("admin.route"))


@bp.route("/organisation", methods=["GET", "POST"])
def organisation() -> Page:
    """Name, short name, number prefix and whether documents print Thai digits."""
    organisation = _admin().organisation
    if request.method == "GET":
        return render_template("admin/organisation.html", values=organisation, errors={})
    form = request.form
    values = {name: form.get(name, "") for name in ("name", "short_name", "number_prefix")}
    try:
        operations.update_organisation(
            db_session(),
            _admin(),
            organisation,
            thai_digits=form.get("thai_digits") == "1",
            **values,
        )
    except ValidationFailed as error:
        errors = _errors(error)
        shown = dict(values, thai_digits=form.get("thai_digits") == "1")
        return render_template("admin/organisation.html", values=shown, errors=errors), 422
    flash(_("The organisation's settings were saved."), "success")
    return redirect(url_for("admin.organisation"))


@bp.route("/organisation/emblem", methods=["POST"])
def emblem() -> Page:
    """Upload (or remove) the Garuda emblem printed at the top left of documents."""
    organisation = _admin().organisation
    upload = request.files.get("emblem")
    data = None if request.form.get("remove") == "1" else (upload.read() if upload else b"")
    try:
        operations.set_emblem(db_session(), _admin(), organisation, data)
    except ValidationFailed as error:
        errors = _errors(error)
        return render_template("admin/organisation.html", values=organisation, errors=errors), 422
    flash(_("The emblem was saved."), "success")
    return redirect(url_for("admin.organisation"))


# --- acting for others ----------------------------------------------------------------

ACTING_FIELDS = ("username", "step", "capacity", "order", "from", "to")


def _acting_page(values: dict[str, Any], errors: dict[str, str], status: int = 200) -> Page:
    organisation = _admin().organisation
    return (
        render_template(
            "admin/acting.html",
            authorisations=acting.list_authorisations(db_session(), organisation.id),
            status_of=acting.status_of,
            steps=parse_route(organisation.route).steps,
            people=[
                u
                for u in operations.users_of(db_session(), organisation)
                if u.active and not u.is_admin
            ],
            capacity_choices=[(c.value, c.value) for c in Capacity],
            values=values,
            errors=errors,
        ),
        status,
    )


def _parse_day(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise ValidationFailed({field: "invalid"}) from error


@bp.route("/acting", methods=["GET", "POST"])
def acting_list() -> Page:
    """Authorisations to act for others: the list, and the form that records one."""
    if request.method == "GET":
        return _acting_page({}, {})
    values = {name: request.form.get(name, "").strip() for name in ACTING_FIELDS}
    session = db_session()
    admin = _admin()
    try:
        person = accounts.find_user(session, values["username"])
        if person is None:
            raise ValidationFailed({"username": "required"})
        acting.add_authorisation(
            session,
            admin,
            admin.organisation,
            person,
            role_for_step(admin.organisation.route, values["step"]),
            values["capacity"],
            values["order"],
            _parse_day(values["from"], "from"),
            _parse_day(values["to"], "to"),
        )
    except ValidationFailed as error:
        return _acting_page(values, _errors(error), 422)
    flash(_("The authorisation was recorded."), "success")
    return redirect(url_for("admin.acting_list"))


@bp.route("/acting/<int:authorisation_id>/end", methods=["POST"])
def acting_end(authorisation_id: int) -> Response:
    """End an authorisation now."""
    acting.end_authorisation(db_session(), _admin(), authorisation_id)
    flash(_("The authorisation was ended; it has no effect from now on."), "success")
    return redirect(url_for("admin.acting_list"))


# --- the organisation's audit events ----------------------------------------------------

# What each of the organisation's own events did (a memo's events show on its timeline).
EVENT_LABELS = {
    "user_create": _l("Added a user"),
    "user_update": _l("Changed a user's details"),
    "user_activate": _l("Reactivated an account"),
    "user_deactivate": _l("Deactivated an account"),
    "password_reset": _l("Reset a password"),
    "token_create": _l("Issued an API token"),
    "token_revoke": _l("Revoked an API token"),
    "organisation_change": _l("Changed the organisation's settings"),
    "route_change": _l("Changed the approval route"),
    "acting_add": _l("Recorded an authorisation to act for another"),
    "acting_end": _l("Ended an authorisation to act for another"),
}
# Details that the page shows in a column of their own, or that say nothing to a reader.
HIDDEN_DETAILS = frozenset(
    {"user_id", "username", "acting_user", "acting_user_id", "authorisation_id"}
)
AUDIT_PAGE = 50


def _event_row(check: EventCheck) -> dict[str, Any]:
    event = check.event
    details = event.details or {}
    return {
        "check": check,
        "label": EVENT_LABELS.get(event.action, event.action),
        "concerning": details.get("username") or details.get("acting_user") or "",
        "details": [
            (name, ", ".join(map(str, value)) if isinstance(value, list) else value)
            for name, value in sorted(details.items())
            if name not in HIDDEN_DETAILS and value not in (None, "", [])
        ],
    }


@bp.route("/audit")
def audit_log() -> str:
    """The organisation's own audit events (accounts, tokens, route, settings,
    authorisations), newest first, fifty a page, each checked against the chain."""
    before = request.args.get("before", type=int)
    admin = _admin()
    checks = operations.organisation_events(
        db_session(), admin, admin.organisation, before_seq=before, limit=AUDIT_PAGE
    )
    return render_template(
        "admin/audit.html",
        rows=[_event_row(check) for check in checks],
        all_ok=all(check.ok for check in checks),
        older=checks[-1].event.seq if len(checks) == AUDIT_PAGE else None,
        newest_page=before is None,
    )
