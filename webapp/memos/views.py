"""The memo pages: inbox, lists, the memo itself with its action forms, new and edit,
attachments. Each handler parses the form, calls one workflow verb, commits, flashes
and redirects; refusals are the workflow's, shown by webapp.errors or next to a field."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from models import Memo, Secrecy, Urgency, User
from webapp.db import db_session, rollback
from webapp.i18n import current_language
from webapp.memos import display
from webapp.memos.forms import (
    MEMO_FIELDS,
    memo_fields,
    page_number,
    read_upload,
    search_text,
    version_of,
)
from webapp.messages import field_errors
from workflow import actions, queries
from workflow.audit import memo_timeline
from workflow.errors import InvalidTransition, NotAllowed, ValidationFailed
from workflow.permissions import (
    allowed_actions,
    can_create_memo,
    can_edit,
    check_author,
    memo_route,
)

bp = Blueprint("memos", __name__)

Page = str | Response | tuple[str, int]


def _user() -> User:
    user: User = current_user._get_current_object()
    return user


def _errors(error: ValidationFailed) -> dict[str, str]:
    """The refusal's reasons per field, in the page's language."""
    rollback()
    return field_errors(error.errors, current_language())


# --- lists ----------------------------------------------------------------------------


@bp.route("/")
@login_required
def inbox() -> Page:
    """งานรอพิจารณา: memos waiting for my decision, oldest first."""
    if _user().is_admin:
        return redirect(url_for("admin.users"))
    page = queries.inbox(db_session(), _user(), page=page_number(request))
    g.inbox_count = page.total  # the navigation bar's number: counted already
    return render_template("memos/inbox.html", page=page)


def _list(mine: bool) -> str:
    state = request.args.get("state", "").strip()[:80] or None
    text = search_text(request)
    page = queries.search(
        db_session(), _user(), state=state, text=text, mine=mine, page=page_number(request)
    )
    return render_template(
        "memos/list.html",
        page=page,
        mine=mine,
        q=text,
        state=state or "",
        states=display.state_choices(_user().organisation),
    )


@bp.route("/memos")
@login_required
def index() -> Page:
    """Every memo I may see, searchable by number or subject, filtered by state."""
    return _list(mine=False)


@bp.route("/memos/mine")
@login_required
def mine() -> Page:
    """เรื่องของฉัน: the memos I wrote."""
    return _list(mine=True)


# --- writing --------------------------------------------------------------------------


def _form_page(
    memo: Memo | None, values: dict[str, Any], errors: dict[str, str], status: int = 200
) -> tuple[str, int]:
    return (
        render_template(
            "memos/form.html",
            memo=memo,
            values=values,
            errors=errors,
            # The attachments' upload form and remove buttons, under the edit form.
            editable=memo is not None and can_edit(memo, _user()),
            urgencies=[(u.value, str(display.URGENCIES[u.value])) for u in Urgency],
            secrecies=[(s.value, str(display.SECRECIES[s.value])) for s in Secrecy],
        ),
        status,
    )


@bp.route("/memos/new", methods=["GET", "POST"])
@login_required
def new() -> Page:
    """A new memo: ส่วนราชการ is my unit and เรียน the final signer, until changed."""
    user = _user()
    if request.method == "POST":
        values = memo_fields(request.form)
        try:
            memo = actions.create_memo(db_session(), user, **values)
        except ValidationFailed as error:
            return _form_page(None, values, _errors(error), 422)
        flash(_("The draft was saved. Attach files, then submit it."), "success")
        return redirect(url_for("memos.show", memo_id=memo.id))
    if not can_create_memo(user):
        raise NotAllowed("an admin does not write memos", action="create")
    defaults = {
        "unit": user.unit,
        "to": display.organisation_route(user.organisation).last.title,
        "urgency": Urgency.normal.value,
        "secrecy": Secrecy.normal.value,
    }
    return _form_page(None, defaults, {})


@bp.route("/memos/<int:memo_id>/edit", methods=["GET", "POST"])
@login_required
def edit(memo_id: int) -> Page:
    """Change a draft or a returned memo (its author only)."""
    user = _user()
    if request.method == "POST":
        values = memo_fields(request.form)
        try:
            memo = actions.edit_memo(
                db_session(), memo_id, user, version=version_of(request.form), **values
            )
        except ValidationFailed as error:
            errors = _errors(error)
            memo = actions.get_memo(db_session(), memo_id, user)
            return _form_page(memo, values, errors, 422)
        flash(_("The memo was saved."), "success")
        return redirect(url_for("memos.show", memo_id=memo.id))
    memo = actions.get_memo(db_session(), memo_id, user)
    if not can_edit(memo, user):
        check_author(memo, user, "edit")
        raise InvalidTransition("only a draft or returned memo can be edited", state=memo.state)
    values = {name: getattr(memo, name) for name in MEMO_FIELDS}
    return _form_page(memo, values, {})


# --- the memo and its actions ---------------------------------------------------------


def _memo_page(
    memo: Memo, errors: dict[str, str] | None = None, form: Any = None, status: int = 200
) -> tuple[str, int]:
    user = _user()
    return (
        render_template(
            "memos/show.html",
            memo=memo,
            paper=display.paper_view(memo),
            timeline=memo_timeline(db_session(), memo),
            allowed=allowed_actions(memo, user),
            editable=can_edit(memo, user),
            errors=errors or {},
            form=form or {},
        ),
        status,
    )


@bp.route("/memos/<int:memo_id>", methods=["GET", "POST"])
@login_required
def show(memo_id: int) -> Page:
    """The memo laid out like the paper form, its timeline, and the actions I may take."""
    if request.method == "POST":
        return act(memo_id)
    return _memo_page(actions.get_memo(db_session(), memo_id, _user()))


@bp.route("/memos/<int:memo_id>/action", methods=["POST"])
@login_required
def act(memo_id: int) -> Page:
    """One workflow action from the memo page's forms (``action`` names it)."""
    user = _user()
    action = request.form.get("action", "")
    try:
        memo = actions.perform(
            db_session(),
            memo_id,
            user,
            action,
            opinion=request.form.get("opinion"),
            decision=request.form.get("decision") or None,
            version=version_of(request.form),
        )
    except ValidationFailed as error:
        errors = _errors(error)
        memo = actions.get_memo(db_session(), memo_id, user)
        return _memo_page(memo, errors, request.form, 422)
    flash(_after(action, memo), "success")
    return redirect(url_for("memos.show", memo_id=memo.id))


def _after(action: str, memo: Memo) -> str:
    """What the flash message says happened."""
    if action == "submit":
        return _(
            "Submitted as No. %(number)s. It now waits for %(next)s.",
            number=display.doc_digits(memo.number, memo.organisation),
            next=_next_holder(memo),
        )
    if action == "endorse":
        return _(
            "Your opinion was recorded and the memo passed on to %(next)s.", next=_next_holder(memo)
        )
    if action == "return":
        return _("The memo was returned to its author for revision.")
    if action == "sign":
        last = memo.opinions[-1]
        return _("Signed: %(decision)s.", decision=display.DECISIONS.get(last.decision or "", ""))
    if action == "reject":
        return _("The memo was not approved.")
    return _("The memo was withdrawn; its number stays in the register, cancelled.")


def _next_holder(memo: Memo) -> str:
    step = memo_route(memo).step_for_state(memo.state)
    return step.title if step is not None else display.state_label(memo.state, memo)


# --- attachments ----------------------------------------------------------------------


def _attachments_page(memo_id: int) -> str:
    """Where an attachment form returns to: the page it was on (``back``)."""
    back = request.form.get("back") == "edit"
    return url_for("memos.edit" if back else "memos.show", memo_id=memo_id)


@bp.route("/memos/<int:memo_id>/attachments", methods=["POST"])
@login_required
def upload(memo_id: int) -> Page:
    """Attach a file to a draft or returned memo (multipart field ``file``)."""
    target = _attachments_page(memo_id)
    try:
        filename, data, claimed_type = read_upload(
            request.files.get("file"), current_app.config["MAX_UPLOAD_BYTES"]
        )
        attachment = actions.add_attachment(
            db_session(),
            memo_id,
            _user(),
            filename,
            data,
            claimed_media_type=claimed_type,
            version=version_of(request.form),
        )
    except ValidationFailed as error:
        rollback()  # the answer is a redirect, not an error: nothing of it may be kept
        for message in _errors(error).values():
            flash(_("The file was not attached: %(reason)s", reason=message), "danger")
        return redirect(target)
    flash(_("Attached %(name)s.", name=attachment.filename), "success")
    return redirect(target)


@bp.route("/memos/<int:memo_id>/attachments/<int:attachment_id>/remove", methods=["POST"])
@login_required
def remove_attachment(memo_id: int, attachment_id: int) -> Response:
    """Take a file off a draft or returned memo (the author's remove button)."""
    removed = actions.remove_attachment(
        db_session(), memo_id, attachment_id, _user(), version=version_of(request.form)
    )
    flash(_("Removed %(name)s.", name=removed.filename), "success")
    return redirect(_attachments_page(memo_id))


@bp.route("/memos/<int:memo_id>/attachments/<int:attachment_id>")
@login_required
def download(memo_id: int, attachment_id: int) -> Response:
    """The attached file under its original name (always as a download, never shown)."""
    attachment, data = actions.attachment_data(db_session(), memo_id, attachment_id, _user())
    return send_file(
        BytesIO(data),
        mimetype=attachment.media_type,
        as_attachment=True,
        download_name=attachment.filename,
    )
