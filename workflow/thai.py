"""Thai dates and digits for display: Buddhist Era years, Thai month names, ๐–๙.

Digits are stored Arabic; conversion happens only when something is shown or printed.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache

from pythainlp.util import arabic_digit_to_thai_digit, thai_strftime

from workflow.clock import to_local


# Lists print a date on every row, and pythainlp's strftime costs more than the rest of
# the row: the few hundred distinct dates a list shows are formatted once per process.
@lru_cache(maxsize=4096)
def thai_date(value: date, thai_digits: bool = False) -> str:
    """ "20 เมษายน 2565" (or "๒๐ เมษายน ๒๕๖๕")."""
    moment = datetime(value.year, value.month, value.day)
    return thai_strftime(moment, "%-d %B %Y", thaidigit=thai_digits)


def thai_datetime(stored_utc: datetime, thai_digits: bool = False) -> str:
    """A stored UTC time shown in Asia/Bangkok: "20 เมษายน 2565 เวลา 14:05 น."."""
    local = to_local(stored_utc).replace(tzinfo=None)
    return thai_strftime(local, "%-d %B %Y เวลา %H:%M น.", thaidigit=thai_digits)


def digits(text: str, thai_digits: bool) -> str:
    """The document's own numbers in Thai digits when the organisation chose them."""
    return arabic_digit_to_thai_digit(text) if thai_digits else text
