"""The admin pages: users, API tokens, the route, the organisation's settings."""

from __future__ import annotations

from flask import Flask

from webapp.admin.views import bp


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
