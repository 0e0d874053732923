"""Bearer-token authentication for the JSON API."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import g, request
from werkzeug.exceptions import Unauthorized

from models import User
from webapp.db import db_session
from workflow.accounts import user_for_token

F = TypeVar("F", bound=Callable[..., Any])


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def token_required(view: F) -> F:
    """Run ``view`` only for a valid, unrevoked token of an active user (else 401)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        token = bearer_token()
        user = user_for_token(db_session(), token) if token else None
        if user is None:
            raise Unauthorized()
        g.api_user = user
        return view(*args, **kwargs)

    return cast(F, wrapper)


def api_user() -> User:
    user: User = g.api_user
    return user
