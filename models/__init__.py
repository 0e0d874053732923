"""SQLAlchemy 2.0 typed models of memoflow. No Flask, no business rules beyond invariants."""

from models.acting import Authorisation, Capacity
from models.audit import AuditEvent, ChainHead
from models.base import Base, utcnow
from models.idempotency import IdempotentRequest
from models.memo import (
    Attachment,
    Blob,
    Decision,
    Memo,
    MemoRouteRole,
    Opinion,
    OpinionAction,
    Secrecy,
    Urgency,
)
from models.organisation import Organisation
from models.register import RegisterCounter, RegisterEntry, RegisterStatus
from models.security import SecurityEvent
from models.user import ADMIN_ROLE, OFFICER_ROLE, ApiToken, SignIn, User

# The memo table's text index is made with the table (its DDL hooks on create and drop).
import models.search  # noqa: F401  isort: skip

__all__ = [
    "ADMIN_ROLE",
    "OFFICER_ROLE",
    "ApiToken",
    "Attachment",
    "AuditEvent",
    "Authorisation",
    "Base",
    "Blob",
    "Capacity",
    "ChainHead",
    "Decision",
    "IdempotentRequest",
    "Memo",
    "MemoRouteRole",
    "Opinion",
    "OpinionAction",
    "Organisation",
    "RegisterCounter",
    "RegisterEntry",
    "RegisterStatus",
    "Secrecy",
    "SecurityEvent",
    "SignIn",
    "Urgency",
    "User",
    "utcnow",
]
