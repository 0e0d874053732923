"""JSON API for acting authorisations (admins): record, list, end."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields

from models import Authorisation
from webapp.api.auth import api_user, token_required
from webapp.api.schemas import StrictSchema
from webapp.api.views import SECURITY, blp
from webapp.db import db_session
from workflow import accounts, acting
from workflow.errors import NotAllowed, ValidationFailed
from workflow.route import parse_route


class AuthorisationCreateSchema(StrictSchema):
    username = fields.String(required=True)
    step = fields.String(required=True, metadata={"description": "step key or role"})
    capacity = fields.String(
        required=True,
        metadata={"enum": ["ปฏิบัติราชการแทน", "รักษาราชการแทน", "รักษาการในตำแหน่ง"]},
    )
    order = fields.String(required=True, metadata={"description": "คำสั่ง ที่ ..."})
    from_ = fields.Date(required=True, data_key="from")
    to = fields.Date(required=True)


class AuthorisationSchema(ma.Schema):
    id = fields.Integer()
    username = fields.String()
    name = fields.String()
    role = fields.String()
    capacity = fields.String()
    order = fields.String()
    from_ = fields.String(data_key="from")
    to = fields.String()
    ended = fields.Boolean()
    in_force = fields.Boolean()


class AuthorisationListSchema(ma.Schema):
    items = fields.List(fields.Nested(AuthorisationSchema))


def authorisation_json(authorisation: Authorisation) -> dict[str, Any]:
    return {
        "id": authorisation.id,
        "username": authorisation.acting_user.username,
        "name": authorisation.acting_user.full_name,
        "role": authorisation.role,
        "capacity": authorisation.capacity,
        "order": authorisation.order_ref,
        "from_": authorisation.valid_from.isoformat(),
        "to": authorisation.valid_to.isoformat(),
        "ended": authorisation.ended_at is not None,
        "in_force": acting.is_in_force(authorisation),
    }


def role_for_step(route_data: list[dict[str, str]], step_or_role: str) -> str:
    """A step key (``--for permanent_secretary``) or a role, as the role acted for."""
    for step in parse_route(route_data).steps:
        if step_or_role in (step.key, step.role):
            return step.role
    return step_or_role


def _require_admin() -> None:
    if not api_user().is_admin:
        raise NotAllowed("only an admin manages authorisations", action="acting")


@blp.route("/acting", methods=["GET"])
@blp.doc(security=SECURITY)
@blp.response(200, AuthorisationListSchema)
@token_required
def list_authorisations() -> dict[str, Any]:
    """Every authorisation of the caller's organisation (admins)."""
    _require_admin()
    items = acting.list_authorisations(db_session(), api_user().organisation_id)
    return {"items": [authorisation_json(a) for a in items]}


@blp.route("/acting", methods=["POST"])
@blp.doc(security=SECURITY)
@blp.arguments(AuthorisationCreateSchema)
@blp.response(201, AuthorisationSchema)
@token_required
def add_authorisation(body: dict[str, Any]) -> dict[str, Any]:
    """Record that a user acts for a step's role, in a capacity, on an order, for a period."""
    _require_admin()
    session = db_session()
    admin = api_user()
    acting_user = accounts.find_user(session, body["username"])
    if acting_user is None or acting_user.organisation_id != admin.organisation_id:
        raise ValidationFailed({"username": "invalid"})
    authorisation = acting.add_authorisation(
        session,
        admin,
        admin.organisation,
        acting_user,
        role_for_step(admin.organisation.route, body["step"]),
        body["capacity"],
        body["order"],
        body["from_"],
        body["to"],
    )
    return authorisation_json(authorisation)


@blp.route("/acting/<int:authorisation_id>/end", methods=["POST"])
@blp.doc(security=SECURITY)
@blp.response(200, AuthorisationSchema)
@token_required
def end_authorisation(authorisation_id: int) -> dict[str, Any]:
    """End an authorisation now."""
    _require_admin()
    authorisation = acting.end_authorisation(db_session(), api_user(), authorisation_id)
    return authorisation_json(authorisation)
