"""The memo pages (inbox, lists, memo, new/edit, attachments) and their display helpers."""

from __future__ import annotations

from flask import Flask

from webapp.memos import display, document_views, listing  # noqa: F401  (its routes join bp)
from webapp.memos.views import bp


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    display.register(app)
    app.jinja_env.globals["listed"] = listing.listed
