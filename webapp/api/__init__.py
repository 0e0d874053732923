"""The JSON API blueprint and its OpenAPI registration.

The document (``/api/v1/openapi.json``) is the API's contract: flask-smorest writes it from
the schemas and views, and ``ContractPlugin`` adds what applies across operations — the
``Idempotency-Key`` header every POST takes (webapp.idempotency) and the links from an
answer to the operations on what it names (a new memo → read, edit, act on, attach to it),
which clients and the stateful fuzzer (tests/served/test_served_fuzz.py) follow.
"""

from __future__ import annotations

from typing import Any

from apispec import BasePlugin
from flask import Flask
from flask_smorest import Api

from models.idempotency import KEY_LIMIT
from webapp.api.schemas import ErrorSchema

PREFIX = "/api/v1"

IDEMPOTENCY_KEY_PARAMETER: dict[str, Any] = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "description": (
        "Makes a retry safe: a key of the client's choosing (a UUID), new for each"
        " request meant. A retry with the same key and the same request gets the first"
        " answer again (same status and body, header `Idempotent-Replayed: true`) without"
        " acting twice; answers are kept per user for at least 24 hours. The same key with"
        " another request gets 422 `idempotency_key_reused`. A blank key, or one longer"
        f" than {KEY_LIMIT} characters, gets 422 validation_failed."
    ),
    # \S: a key of spaces only is blank (the server strips it).
    "schema": {"type": "string", "minLength": 1, "maxLength": KEY_LIMIT, "pattern": "\\S"},
}


def _ref(method: str, path: str) -> str:
    """An OpenAPI operationRef (a JSON pointer into this document) to METHOD PATH."""
    return "#/paths/" + (PREFIX + path).replace("~", "~0").replace("/", "~1") + "/" + method


# From the new or changed memo in a response body to what may be done with it next.
_MEMO_FROM_BODY = {"memo_id": "$response.body#/id"}
_ON_MEMO: dict[str, tuple[str, str, dict[str, str]]] = {
    "GetMemo": ("get", "/memos/{memo_id}", _MEMO_FROM_BODY),
    "EditMemo": ("patch", "/memos/{memo_id}", _MEMO_FROM_BODY),
    "ActOnMemo": ("post", "/memos/{memo_id}/actions", _MEMO_FROM_BODY),
    "AttachFile": ("post", "/memos/{memo_id}/attachments", _MEMO_FROM_BODY),
    "GetAudit": ("get", "/memos/{memo_id}/audit", _MEMO_FROM_BODY),
    "GetPdf": ("get", "/memos/{memo_id}/pdf", _MEMO_FROM_BODY),
}
_FIRST_ITEM = {"memo_id": "$response.body#/items/0/id"}
_ATTACHMENT = {"memo_id": "$request.path.memo_id", "attachment_id": "$response.body#/id"}
# (method, path, status) → link name → (method, path, parameters) of the target.
LINKS: dict[tuple[str, str, str], dict[str, tuple[str, str, dict[str, str]]]] = {
    ("post", "/memos", "201"): _ON_MEMO,
    ("get", "/memos/{memo_id}", "200"): _ON_MEMO,
    ("patch", "/memos/{memo_id}", "200"): _ON_MEMO,
    ("post", "/memos/{memo_id}/actions", "200"): _ON_MEMO,
    ("post", "/memos/{memo_id}/admin-open", "200"): _ON_MEMO,
    ("delete", "/memos/{memo_id}/attachments/{attachment_id}", "200"): _ON_MEMO,
    ("post", "/memos/{memo_id}/attachments", "201"): {
        "DownloadAttachment": ("get", "/memos/{memo_id}/attachments/{attachment_id}", _ATTACHMENT),
        "RemoveAttachment": ("delete", "/memos/{memo_id}/attachments/{attachment_id}", _ATTACHMENT),
    },
    ("get", "/memos", "200"): {
        "GetFirstMemo": ("get", "/memos/{memo_id}", _FIRST_ITEM),
        "ActOnFirstMemo": ("post", "/memos/{memo_id}/actions", _FIRST_ITEM),
    },
    ("get", "/inbox", "200"): {
        "GetFirstMemo": ("get", "/memos/{memo_id}", _FIRST_ITEM),
        "ActOnFirstMemo": ("post", "/memos/{memo_id}/actions", _FIRST_ITEM),
    },
    ("post", "/acting", "201"): {
        "EndAuthorisation": (
            "post",
            "/acting/{authorisation_id}/end",
            {"authorisation_id": "$response.body#/id"},
        ),
    },
}


# gunicorn (``memoflow serve``) reads a request line of at most 4094 bytes and answers a
# longer one itself, before memoflow sees it. Queries within the documented lengths fit.
REQUEST_LINE_TOO_LONG: dict[str, Any] = {
    "description": (
        "URI Too Long: the request line (method, path and query) is longer than the server"
        " reads (4094 bytes), answered by the web server (gunicorn) as an HTML page."
        " Queries within the documented lengths always fit."
    ),
    "content": {"text/html": {"schema": {"type": "string"}}},
}


class ContractPlugin(BasePlugin):
    """Adds to every operation of the document what applies across the API: the
    Idempotency-Key header on each POST, the server's 414 where a query can be long,
    and the links of ``LINKS``."""

    def operation_helper(
        self, path: str | None = None, operations: dict[str, Any] | None = None, **_: Any
    ) -> None:
        if path is None or operations is None or not path.startswith(PREFIX):
            return
        for method, operation in operations.items():
            if method == "post":
                operation.setdefault("parameters", []).append(dict(IDEMPOTENCY_KEY_PARAMETER))
            if any(parameter.get("in") == "query" for parameter in operation.get("parameters", [])):
                operation.setdefault("responses", {})["414"] = dict(REQUEST_LINE_TOO_LONG)
            for status, response in operation.get("responses", {}).items():
                links = LINKS.get((method, path.removeprefix(PREFIX), str(status)))
                if links and isinstance(response, dict):
                    response["links"] = {
                        name: {"operationRef": _ref(target, target_path), "parameters": params}
                        for name, (target, target_path, params) in links.items()
                    }


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
    app.config.setdefault("OPENAPI_URL_PREFIX", PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    api = MemoflowApi(app, spec_kwargs={"extra_plugins": [ContractPlugin()]})
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    from webapp.api import acting  # noqa: F401  (adds its routes to the blueprint)
    from webapp.api.views import blp

    api.register_blueprint(blp)
    return api


__all__: list[Any] = ["init_api"]
