"""Configuration of memoflow, read once from the environment (``MEMOFLOW_*`` variables).

All three layers read this module; it imports nothing of them. A value that is not set
gets a default that works on a laptop: the database is a SQLite file under
``MEMOFLOW_HOME`` and the secret key is generated once and kept there.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

TIMEZONE = "Asia/Bangkok"


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _home() -> Path:
    return Path(_env("MEMOFLOW_HOME", "instance") or "instance").resolve()


def _secret_key(home: Path) -> str:
    """Return MEMOFLOW_SECRET_KEY, or a key generated once and kept under MEMOFLOW_HOME."""
    configured = _env("MEMOFLOW_SECRET_KEY")
    if configured:
        return configured
    home.mkdir(parents=True, exist_ok=True)
    key_file = home / "secret_key"
    if not key_file.exists() or not key_file.read_text(encoding="utf-8").strip():
        _write_whole(key_file, secrets.token_hex(32))
    return key_file.read_text(encoding="utf-8").strip()


def _write_whole(path: Path, text: str) -> None:
    """Write ``path`` (mode 0600) whole or not at all: into a temporary file beside it,
    flushed to the disk, then renamed over it. A full disk raises OSError and leaves no
    empty key behind, which the next start would have used as the key."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(descriptor, text.encode("utf-8"))
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _trusted_proxies() -> int:
    value = _env("MEMOFLOW_TRUSTED_PROXIES", "0") or "0"
    if not value.isdigit():
        raise ValueError(
            "MEMOFLOW_TRUSTED_PROXIES must be the number of reverse proxies in front of"
            f" memoflow (0, 1, 2 ...), not {value!r}"
        )
    return int(value)


def password_hash_mode() -> str:
    """MEMOFLOW_PASSWORD_HASH: ``argon2`` (the default) or ``fast``, cheap Argon2
    parameters for test suites only. Read when a password is hashed."""
    return _env("MEMOFLOW_PASSWORD_HASH", "argon2") or "argon2"


def chromium_setting() -> str:
    """MEMOFLOW_CHROMIUM: the Chromium executable that prints PDFs, when it is not
    Debian's ``chromium`` on the PATH (empty: look for it). Read at each use."""
    return (_env("MEMOFLOW_CHROMIUM") or "").strip()


def database_url_setting() -> str | None:
    """MEMOFLOW_DATABASE_URL, when it is set (migrations run without a Config)."""
    return _env("MEMOFLOW_DATABASE_URL")


@dataclass
class Config:
    """Settings of one memoflow process. Build with ``Config()`` to read the environment."""

    HOME: Path = field(default_factory=_home)
    DATABASE_URL: str = ""
    SECRET_KEY: str = ""
    MAX_UPLOAD_MB: float = field(
        default_factory=lambda: float(_env("MEMOFLOW_MAX_UPLOAD_MB", "20") or 20)
    )
    # Argon2 cost; tests lower it through MEMOFLOW_PASSWORD_HASH=fast.
    PASSWORD_HASH: str = field(default_factory=password_hash_mode)
    # Behind TLS: cookies marked Secure.
    SECURE_COOKIES: bool = field(default_factory=lambda: _env("MEMOFLOW_SECURE_COOKIES", "") == "1")
    # Where the login rate limit counts (redis://... shared by several workers).
    RATELIMIT_STORAGE_URI: str = field(
        default_factory=lambda: _env("MEMOFLOW_RATELIMIT_STORAGE_URI") or "memory://"
    )
    # Flask-Limiter's notation, e.g. "10 per minute"; None keeps webapp.auth's default.
    LOGIN_RATE_LIMIT: str | None = field(default_factory=lambda: _env("MEMOFLOW_LOGIN_RATE_LIMIT"))
    # How many reverse proxies (nginx, a load balancer) stand in front of memoflow and
    # set X-Forwarded-For/-Proto/-Host. 0 trusts none of those headers.
    TRUSTED_PROXIES: int = field(default_factory=_trusted_proxies)
    TESTING: bool = False

    def __post_init__(self) -> None:
        if not self.DATABASE_URL:
            self.DATABASE_URL = database_url_setting() or (
                f"sqlite:///{self.HOME / 'memoflow.sqlite3'}"
            )
        if not self.SECRET_KEY:
            self.SECRET_KEY = _secret_key(self.HOME)

    @property
    def max_upload_bytes(self) -> int:
        return int(self.MAX_UPLOAD_MB * 1024 * 1024)
