"""The official document from the memo page: the print-friendly HTML view, the PDF
download, and the page a printed document's verification URL (and QR code) leads to."""

from __future__ import annotations

from io import BytesIO

from flask import Response, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.exceptions import ServiceUnavailable

from models import Memo, User
from webapp.db import db_session
from webapp.document import (
    DocumentEngineUnavailable,
    DocumentRenderError,
    data_url,
    memo_document_html,
    memo_document_pdf,
)
from webapp.memos.views import bp
from workflow import actions
from workflow.admin import emblem_of
from workflow.audit import memo_timeline
from workflow.content import document_hash

# The print view is one self-contained page: inline CSS, fonts and the QR code as data:
# URLs, and no script at all. Everything in it is escaped by the renderer.
PRINT_VIEW_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; font-src data:; img-src data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


def verify_url_for(memo: Memo) -> str:
    """The address printed on every page: this memo's verification page with the hash of
    the content as printed."""
    return url_for("memos.verify", memo_id=memo.id, h=document_hash(memo), _external=True)


def emblem_for(memo: Memo) -> str | None:
    """The organisation's Garuda emblem as a data: URL, if it set one."""
    emblem = emblem_of(db_session(), memo.organisation)
    return data_url(*emblem) if emblem is not None else None


def pdf_response(memo: Memo) -> Response:
    """The memo as PDF, or 503 saying what to install when the engine is missing."""
    try:
        pdf = memo_document_pdf(
            db_session(), memo, verify_url=verify_url_for(memo), emblem_data_url=emblem_for(memo)
        )
    except (DocumentEngineUnavailable, DocumentRenderError) as error:
        raise ServiceUnavailable(str(error)) from error
    # send_file writes the Content-Disposition: RFC 6266 with the name in RFC 5987's
    # filename*=UTF-8''... and an ASCII fallback. A header written here by hand with the
    # Thai number in it is not Latin-1, and gunicorn refuses to send it (a 500).
    name = (memo.number or f"memo-{memo.id}").replace("/", "-").replace(" ", "")
    return send_file(
        BytesIO(pdf), mimetype="application/pdf", as_attachment=True, download_name=f"{name}.pdf"
    )


def _user() -> User:
    user: User = current_user._get_current_object()
    return user


@bp.route("/memos/<int:memo_id>/print")
@login_required
def print_view(memo_id: int) -> Response:
    """The official document as a print-ready page (A4 when printed)."""
    memo = actions.get_memo(db_session(), memo_id, _user())
    response = Response(
        memo_document_html(
            db_session(), memo, verify_url=verify_url_for(memo), emblem_data_url=emblem_for(memo)
        ),
        mimetype="text/html",
    )
    response.headers["Content-Security-Policy"] = PRINT_VIEW_CSP
    return response


@bp.route("/memos/<int:memo_id>/pdf")
@login_required
def pdf(memo_id: int) -> Response:
    """The official document as a PDF download."""
    return pdf_response(actions.get_memo(db_session(), memo_id, _user()))


@bp.route("/memos/<int:memo_id>/verify")
@login_required
def verify(memo_id: int) -> str:
    """Does a printed copy match the memo? Compares the hash printed on it (``h``) with the
    content now, and checks the memo's own audit events."""
    memo = actions.get_memo(db_session(), memo_id, _user())
    printed = request.args.get("h", "")
    current = document_hash(memo)
    timeline = memo_timeline(db_session(), memo)
    return render_template(
        "memos/verify.html",
        memo=memo,
        printed_hash=printed,
        current_hash=current,
        matches=printed == current,
        events_ok=all(check.ok for check in timeline),
        event_count=len(timeline),
        title=_("Verify a printed memo"),
    )
