"""The JSON API under /api/v1: thin handlers that parse, call one workflow verb, commit
and serialise. The OpenAPI document is generated from these by flask-smorest."""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO
from typing import Any, ClassVar

from flask import Response, current_app, jsonify, request, send_file
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import missing
from webargs.flaskparser import FlaskParser, abort, is_json_request
from werkzeug.exceptions import RequestEntityTooLarge, UnsupportedMediaType

from webapp.api.auth import F, api_reader, api_user, token_required
from webapp.api.schemas import (
    ActionSchema,
    AdminOpenSchema,
    AttachmentSchema,
    AuditSchema,
    MemoCreateSchema,
    MemoListQuerySchema,
    MemoPageSchema,
    MemoPatchSchema,
    MemoSchema,
    PageQuerySchema,
    UploadSchema,
    VersionQuerySchema,
)
from webapp.api.serialize import audit_json, heading_row_json, memo_json, memo_summary_json
from webapp.db import db_session
from workflow import actions, queries
from workflow.audit import memo_timeline
from workflow.errors import ValidationFailed


class BodyParser(FlaskParser):
    """webargs' parser, with every unreadable JSON body a 400 like a syntax error: the
    decoder raises RecursionError for nesting past its depth limit and ValueError for an
    integer longer than Python converts (4300 digits), which webargs does not catch.

    Every JSON body of this API is required (the OpenAPI document says so): webargs reads
    a missing one, or one sent as another media type, as an empty object, which a PATCH
    would then accept. A body of another type is 415; no body at all is 422 ``body``
    required."""

    def load_json(self, req: Any, schema: Any) -> Any:
        try:
            data = super().load_json(req, schema)
        except (RecursionError, ValueError) as error:
            # What webargs answers to a syntax error (_handle_invalid_json_error, which is
            # typed for the decoder's own two exceptions only).
            abort(400, exc=error, messages={"json": ["Invalid JSON body."]})
        if data is missing:
            if req.get_data(cache=True) and not is_json_request(req):
                raise UnsupportedMediaType()
            raise ValidationFailed({"body": "required"})
        return data


blp = Blueprint(
    "api",
    __name__,
    url_prefix="/api/v1",
    description="memoflow JSON API (Authorization: Bearer <token>)",
)
# Before any route is declared: @blp.arguments binds the parser when it decorates.
blp.ARGUMENTS_PARSER = BodyParser()
SECURITY: list[dict[str, list[str]]] = [{"bearerAuth": []}]


def _page_json(page: queries.Page) -> dict[str, Any]:
    return {
        "items": [memo_summary_json(memo) for memo in page.items],
        "total": page.total,
        "total_capped": page.total_capped,
        "page": page.page,
        "pages": page.pages,
    }


def _read_response(data: dict[str, Any]) -> Response:
    """``data`` (from webapp.api.serialize) as the 200 JSON response, written as is.

    serialize's dicts are already what the endpoint's ``@blp.response`` schema documents
    (tests/test_read_path.py holds them to it), and flask-smorest passes a returned
    Response through untouched (no status or header of its own), so the schema is not
    walked a second time to dump them: about 8 % of an inbox request's CPU. The decorator
    stays: it documents the response in the OpenAPI document."""
    return jsonify(data)


@blp.route("/memos")
class Memos(MethodView):
    decorators: ClassVar[list[Callable[..., Any]]] = [token_required]

    @blp.doc(security=SECURITY)
    @blp.arguments(MemoListQuerySchema, location="query")
    @blp.response(200, MemoPageSchema)
    def get(self, query: dict[str, Any]) -> Response:
        """Memos the caller may see, filtered by state and number/subject text."""
        page = queries.search(
            db_session(), api_user(), state=query["state"], text=query["q"], page=query["page"]
        )
        return _read_response(_page_json(page))

    @blp.doc(security=SECURITY)
    @blp.arguments(MemoCreateSchema)
    @blp.response(201, MemoSchema)
    def post(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Create a draft memo."""
        memo = actions.create_memo(db_session(), api_user(), **fields)
        return memo_json(memo, api_user())


@blp.route("/memos/<int:memo_id>")
class MemoItem(MethodView):
    decorators: ClassVar[list[Callable[..., Any]]] = [token_required]

    @blp.doc(security=SECURITY)
    @blp.response(200, MemoSchema)
    def get(self, memo_id: int) -> Response:
        """One memo, with its opinions, attachments and the caller's allowed actions."""
        return _read_response(
            memo_json(actions.get_memo(db_session(), memo_id, api_user()), api_user())
        )

    @blp.doc(security=SECURITY)
    @blp.arguments(MemoPatchSchema)
    @blp.response(200, MemoSchema)
    def patch(self, fields: dict[str, Any], memo_id: int) -> dict[str, Any]:
        """Edit a draft or returned memo (author only)."""
        version = fields.pop("version", None)
        memo = actions.edit_memo(db_session(), memo_id, api_user(), version=version, **fields)
        return memo_json(memo, api_user())


@blp.route("/memos/<int:memo_id>/actions", methods=["POST"])
@blp.doc(security=SECURITY)
@blp.arguments(ActionSchema)
@blp.response(200, MemoSchema)
@token_required
def memo_action(body: dict[str, Any], memo_id: int) -> dict[str, Any]:
    """Take a workflow action: submit, endorse, return, sign, reject or withdraw."""
    memo = actions.perform(
        db_session(),
        memo_id,
        api_user(),
        body["action"],
        opinion=body.get("opinion"),
        decision=body.get("decision"),
        version=body.get("version"),
    )
    return memo_json(memo, api_user())


@blp.route("/memos/<int:memo_id>/attachments", methods=["POST"])
@blp.doc(security=SECURITY)
@blp.arguments(UploadSchema, location="files")
@blp.response(201, AttachmentSchema)
@token_required
def upload_attachment(files: dict[str, Any], memo_id: int) -> dict[str, Any]:
    """Attach a file (multipart field ``file``; limit MEMOFLOW_MAX_UPLOAD_MB)."""
    # The form is ``file`` and nothing else, as the document says: a field the client
    # thinks is stored (a description, a second file) is refused, not silently dropped.
    if unknown := sorted((set(request.form) | set(request.files)) - {"file"}):
        raise ValidationFailed({name: "unknown_field" for name in unknown})
    upload = files.get("file") or request.files.get("file")
    if upload is None:
        raise ValidationFailed({"file": "missing_file"})
    limit = current_app.config["MAX_UPLOAD_BYTES"]
    data = upload.stream.read(limit + 1)
    if len(data) > limit:
        raise RequestEntityTooLarge()
    attachment = actions.add_attachment(
        db_session(), memo_id, api_user(), upload.filename or "", data
    )
    return {
        "id": attachment.id,
        "name": attachment.filename,
        "media_type": attachment.media_type,
        "size": attachment.size,
        "sha256": attachment.sha256,
    }


@blp.route("/memos/<int:memo_id>/attachments/<int:attachment_id>", methods=["DELETE"])
@blp.doc(security=SECURITY)
@blp.arguments(VersionQuerySchema, location="query")
@blp.response(200, MemoSchema)
@token_required
def remove_attachment(query: dict[str, Any], memo_id: int, attachment_id: int) -> dict[str, Any]:
    """Remove a file from a draft or returned memo (author only); returns the memo."""
    actions.remove_attachment(
        db_session(), memo_id, attachment_id, api_user(), version=query.get("version")
    )
    return memo_json(actions.get_memo(db_session(), memo_id, api_user()), api_user())


@blp.route("/memos/<int:memo_id>/attachments/<int:attachment_id>", methods=["GET"])
@blp.doc(security=SECURITY, responses={200: {"description": "The file"}})
@token_required
def download_attachment(memo_id: int, attachment_id: int) -> Any:
    """Download an attachment under its original name."""
    attachment, data = actions.attachment_data(db_session(), memo_id, attachment_id, api_user())
    return send_file(
        BytesIO(data),
        mimetype=attachment.media_type,
        as_attachment=True,
        download_name=attachment.filename,
    )


@blp.route("/memos/<int:memo_id>/admin-open", methods=["POST"])
@blp.doc(security=SECURITY)
@blp.arguments(AdminOpenSchema)
@blp.response(200, MemoSchema)
@token_required
def admin_open(body: dict[str, Any], memo_id: int) -> dict[str, Any]:
    """An admin opens a memo hidden from admins (secret): explicit, with a reason, audited."""
    memo = actions.open_as_admin(db_session(), memo_id, api_user(), body["reason"])
    return memo_json(memo, api_user())


@blp.route("/memos/<int:memo_id>/audit", methods=["GET"])
@blp.doc(security=SECURITY)
@blp.response(200, AuditSchema)
@token_required
def memo_audit(memo_id: int) -> dict[str, Any]:
    """The memo's audit events, each checked against its hash and predecessor."""
    memo = actions.get_memo(db_session(), memo_id, api_user())
    return audit_json(memo_timeline(db_session(), memo))


def _documented_only(decorator: Callable[[F], Any]) -> Callable[[F], F]:
    """The OpenAPI documentation ``decorator`` (a ``@blp.arguments``) gives a view, without
    its parsing at request time: for the inbox, everyone's first request, whose one query
    parameter is read by hand (``_page_argument``). webargs and marshmallow parsing it
    were about a tenth of an API inbox request's instructions."""

    def document(view: F) -> F:
        view._apidoc = decorator(view)._apidoc  # type: ignore[attr-defined]
        return view

    return document


# The largest ``page`` PageQuerySchema accepts.
_LAST_PAGE = 100_000


def _page_argument() -> int:
    """``?page=`` as PageQuerySchema reads it: 1 when absent, plain digits in range by
    hand, anything else through the schema (whose refusal is the usual 422)."""
    page = request.args.get("page")
    if page is None:
        return 1
    if page.isascii() and page.isdigit() and len(page) <= 6 and 1 <= int(page) <= _LAST_PAGE:
        return int(page)
    parsed: dict[str, Any] = blp.ARGUMENTS_PARSER.parse(PageQuerySchema, location="query")
    number: int = parsed["page"]
    return number


@blp.route("/inbox", methods=["GET"])
@blp.doc(security=SECURITY)
@_documented_only(blp.arguments(PageQuerySchema, location="query"))
@blp.response(200, MemoPageSchema)
@token_required
def inbox() -> Response:
    """Memos waiting for the caller's decision, oldest first."""
    page = _page_argument()
    rows, total = queries.inbox_rows(db_session(), api_reader(), page)
    size = queries.PAGE_SIZE
    return _read_response(
        {
            "items": [heading_row_json(row) for row in rows],
            "total": total,
            "total_capped": False,
            "page": page,
            "pages": max(1, -(-total // size)),
        }
    )


@blp.route("/memos/<int:memo_id>/pdf", methods=["GET"])
@blp.doc(
    security=SECURITY,
    responses={200: {"description": "The memo as the official document (PDF)"}},
)
@token_required
def memo_pdf(memo_id: int) -> Any:
    """The memo rendered as the official บันทึกข้อความ (PDF)."""
    from webapp.memos.document_views import pdf_response

    return pdf_response(actions.get_memo(db_session(), memo_id, api_user()))
