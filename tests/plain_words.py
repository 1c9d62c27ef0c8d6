"""What a reader must never meet in a narrative or on the case page, found in a text.

- a UUID (a list of them is what the Provenance narrative once was);
- an internal case-file id (``pathology-ilium-result``): any id of the shipped case file that
  its own prose never uses as a word;
- a unit in its UCUM-only spelling (``68 a``, ``600 ug``, ``120 mg/m2``, ``12 mg/d``), outside
  quotations (a quotation reproduces its source verbatim);
- a phrase said twice in a row ("Date not stated: date not stated.", "source source").
"""

from __future__ import annotations

import re
from functools import cache
from html.parser import HTMLParser
from typing import Any

import yaml

from tests.helpers import ROOT

CASE_FILE = ROOT / "fhir_case" / "cases" / "mpnst-chen-2024.yaml"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
QUOTED = re.compile(r"“[^”]*”")
UCUM_ONLY = re.compile(
    r"(?<![\d.])\d+(?:\.\d+)?\s*"
    r"(?:ug|mcg|mg/m2|kg/m2|m2|mg/d|ug/d|\[iU\]|\[IU\]|Cel|mm\[Hg\]|10\*\d+)(?![\w²])"
    r"|\b\d+(?:\.\d+)?\s(?:a|wk|mo|d|h)\b(?![-\w])"
    r"|\(UCUM [^)]*\)"
)
# A clause said twice: at a clause's start, the same words again after a space or a colon.
REPEATED = re.compile(
    r"(?:^|(?<=[.;:,(—] ))(?P<phrase>[A-Za-z]+(?: [A-Za-z]+){0,8}):? (?P=phrase)(?![\w])",
    re.IGNORECASE,
)
# Parts of the page that name the record on its source: ids are their content there.
ID_PLACES = frozenset({"record", "origin", "bundle-identifier"})


def _strings(value: Any, key: str = "") -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [pair for k, v in value.items() for pair in _strings(v, k)]
    if isinstance(value, list):
        return [pair for item in value for pair in _strings(item, key)]
    return [(key, value)] if isinstance(value, str) else []


@cache
def case_file_ids() -> frozenset[str]:
    """The case file's ids that are machine keys: hyphenated, and never a word of its prose."""
    data = yaml.safe_load(CASE_FILE.read_text(encoding="utf-8"))
    pairs = _strings(data)
    ids = {value for key, value in pairs if key == "id" and "-" in value}
    prose = " ".join(value for key, value in pairs if key != "id" and " " in value)
    return frozenset(i for i in ids if not re.search(rf"(?<![\w-]){re.escape(i)}(?![\w-])", prose))


class _Texts(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self._skip: list[str | None] = []  # per open element: why its text is skipped

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID:
            return
        reason = dict(attrs).get("id") if dict(attrs).get("id") in ID_PLACES else None
        self._skip.append(tag if tag in ("style", "script") else reason)

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID and self._skip:
            self._skip.pop()

    def handle_data(self, data: str) -> None:
        if data.strip() and not any(self._skip):
            self.texts.append(" ".join(data.split()))


VOID = frozenset({"meta", "br", "hr", "img", "col", "area", "input", "link"})


def texts(markup: str) -> list[str]:
    """The texts of an HTML page or an XHTML narrative, one per text node, as a reader sees
    them (the style sheet and the parts that name the record on its source left out)."""
    parser = _Texts()
    parser.feed(markup)
    parser.close()
    return parser.texts


def findings(text: str) -> list[str]:
    """Everything in ``text`` a reader must not meet, each named with its context."""
    found = [f"UUID {m[0]}" for m in UUID.finditer(text)]
    for case_id in sorted(case_file_ids()):
        if re.search(rf"(?<![\w-]){re.escape(case_id)}(?![\w-])", text):
            found.append(f"case-file id {case_id}")
    unquoted = QUOTED.sub("“…”", text)
    found += [f"UCUM-only spelling {m[0]!r}" for m in UCUM_ONLY.finditer(unquoted)]
    found += [f"repeated phrase {m[0]!r}" for m in REPEATED.finditer(unquoted)]
    return found
