"""The Thai catalogue is complete and its compiled .mo (committed, since CI does not run
pybabel) matches the .po; every template string goes through the translation layer."""

from __future__ import annotations

import re
from io import BytesIO
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "webapp" / "translations"
TEMPLATES = ROOT / "webapp" / "templates"


def thai_catalogue() -> dict[str, str]:
    with open(TRANSLATIONS / "th" / "LC_MESSAGES" / "messages.po", "rb") as handle:
        catalog = read_po(handle, locale="th")
    return {str(m.id): str(m.string) for m in catalog if m.id and "fuzzy" not in m.flags}


def test_every_string_in_the_code_has_a_thai_translation() -> None:
    extracted = {
        str(message[2])
        for message in extract_from_dir(
            str(ROOT / "webapp"),
            method_map=[("**.py", "python"), ("templates/**.html", "jinja2")],
            keywords={"_": None, "gettext": None, "_l": None, "lazy_gettext": None},
        )
    }
    thai = thai_catalogue()
    missing = sorted(text for text in extracted if not thai.get(text))
    assert not missing, f"untranslated: {missing}"


def test_compiled_catalogue_matches_the_po() -> None:
    with open(TRANSLATIONS / "th" / "LC_MESSAGES" / "messages.mo", "rb") as handle:
        compiled = read_mo(BytesIO(handle.read()))
    compiled_strings = {str(m.id): str(m.string) for m in compiled if m.id}
    assert compiled_strings == thai_catalogue(), "run pybabel compile -d webapp/translations"


def test_placeholders_survive_translation() -> None:
    for english, thai in thai_catalogue().items():
        assert set(re.findall(r"%\(\w+\)s", english)) == set(re.findall(r"%\(\w+\)s", thai)), (
            english
        )


def test_templates_have_no_untranslated_text() -> None:
    """Text between tags is a Jinja expression, punctuation, or data, never bare words."""
    bare_words = re.compile(r">\s*([A-Za-z][A-Za-z ,.'?!]{2,})\s*<")
    allowed = {"memoflow", "English"}
    problems = []
    for template in TEMPLATES.rglob("*.html"):
        text = re.sub(r"{#.*?#}", "", template.read_text(encoding="utf-8"), flags=re.S)
        for match in bare_words.finditer(text):
            if match.group(1).strip() not in allowed:
                problems.append(f"{template.relative_to(TEMPLATES)}: {match.group(1)!r}")
    assert not problems, problems
