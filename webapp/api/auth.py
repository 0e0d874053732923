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
        if current_api_user() is None:
            raise Unauthorized()
        return view(*args, **kwargs)

    return cast(F, wrapper)


def current_api_user() -> User | None:
    """The active user of the request's bearer token, looked up once per request (the
    idempotency check before the view needs it too), or None."""
    if "api_user" not in g:
        token = bearer_token()
        g.api_user = user_for_token(db_session(), token) if token else None
    user: User | None = g.api_user
    return user


def api_user() -> User:
    user: User = g.api_user
    return user
