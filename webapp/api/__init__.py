"""The JSON API blueprint and its OpenAPI registration."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_smorest import Api

from webapp.api.schemas import ErrorSchema


class MemoflowApi(Api):  # type: ignore[misc]
    """flask-smorest's Api, with our error body documented and our handlers in charge."""

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self) -> None:
        # webapp.errors registers the handlers for the whole app (API and pages alike).
        pass


def init_api(app: Flask) -> Api:
    app.config.setdefault("API_TITLE", "memoflow")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api/v1")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    api = MemoflowApi(app)
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    from webapp.api import acting  # noqa: F401  (adds its routes to the blueprint)
    from webapp.api.views import blp

    api.register_blueprint(blp)
    return api


__all__: list[Any] = ["init_api"]
