"""The translation layer of the web pages: Flask-Babel, the reader's language, Thai first.

Interface strings are written in English in the code and templates and translated to
Thai by ``webapp/translations/th/LC_MESSAGES/messages.po`` (compiled ``.mo`` committed,
because CI does not run pybabel). The reader's language is chosen the same way the error
handlers choose it (``webapp.errors.language``): the ``lang`` cookie, else the browser's
Accept-Language, else Thai. ``?lang=en`` or ``?lang=th`` on any page switches and keeps
the choice in the cookie.

To update the catalogue after changing strings::

    .venv/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location \
        --sort-output --project memoflow -o webapp/translations/messages.pot .
    .venv/bin/pybabel update -i webapp/translations/messages.pot -d webapp/translations
    # translate the new entries in messages.po, then:
    .venv/bin/pybabel compile -d webapp/translations
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, current_app, g, request
from flask_babel import Babel, get_translations
from jinja2 import pass_context
from jinja2.runtime import Context

from webapp.errors import language

LANGUAGES = ("th", "en")
LANG_COOKIE = "lang"
# A language choice is a preference worth keeping for a year.
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600

babel = Babel()


def requested_language() -> str | None:
    """The language asked for in this request's ``?lang=``, if it is one we have."""
    chosen = request.args.get("lang")
    return chosen if chosen in LANGUAGES else None


def select_locale() -> str:
    """``?lang=`` first (this request), then what ``webapp.errors.language`` reads."""
    return requested_language() or language()


def _remember_language(response: Response) -> Response:
    chosen = requested_language()
    if chosen and request.cookies.get(LANG_COOKIE) != chosen:
        response.set_cookie(
            LANG_COOKIE,
            chosen,
            max_age=LANG_COOKIE_MAX_AGE,
            httponly=True,
            samesite="Lax",
            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        )
    return response


def _page_translations() -> Any:
    """This request's (or app context's) translations, found once and kept in ``g``: the
    locale is chosen once per request (``select_locale``) and does not change within it."""
    found = g.get("page_translations")
    if found is None:
        found = g.page_translations = get_translations()
    return found


def _translations(context: Context) -> Any:
    """The translations of the page a template renders (found once, by ``_language``)."""
    found = context.get("page_translations")
    return found if found is not None else _page_translations()


def current_language() -> str:
    """The language of the page being rendered (``th`` or ``en``)."""
    return select_locale()


def init_app(app: Flask) -> None:
    """Bind Flask-Babel (Thai by default) and keep a ``?lang=`` choice in a cookie."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "th")
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Asia/Bangkok")
    babel.init_app(app, locale_selector=select_locale)
    # The templates' _() as Flask-Babel installs it, but with the request's translations
    # looked up once per request instead of on every call (Flask-Babel finds the context,
    # the locale and the domain each time: 8 µs a call, about 40 calls on the inbox page),
    # and read from the template's context (``_language`` puts them there) rather than
    # through ``g``, a context-local proxy, on each call.
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=pass_context(lambda c, s: _translations(c).ugettext(s)),
        ngettext=pass_context(lambda c, s, p, n: _translations(c).ungettext(s, p, n)),
        newstyle=True,
        pgettext=pass_context(lambda c, x, s: _translations(c).upgettext(x, s)),
        npgettext=pass_context(lambda c, x, s, p, n: _translations(c).unpgettext(x, s, p, n)),
    )
    app.after_request(_remember_language)

    @app.context_processor
    def _language() -> dict[str, object]:
        return {
            "page_language": current_language(),
            "page_translations": _page_translations(),
            "languages": LANGUAGES,
            "language_url": language_url,
        }


def language_url(lang: str) -> str:
    """This page again (same path and query) in ``lang``: the language switch's link."""
    args = request.args.to_dict()
    args["lang"] = lang
    return f"{request.path}?{urlencode(args)}"
