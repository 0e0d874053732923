"""Flask extensions, created unbound here and bound to the app in ``create_app``."""

from __future__ import annotations

from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

login_manager = LoginManager()
csrf = CSRFProtect()

# The session cookie's entry for this browser's sign-in key (workflow.accounts.start_sign_in).
SIGN_IN_KEY = "_sign_in"
