"""A parser for UCUM unit expressions (the case-sensitive ``c/s`` syntax).

Grammar (UCUM 2.1, section 2 and its BNF)::

    mainTerm    := '/' term | term
    term        := component | term '.' component | term '/' component
    component   := annotatable [annotation] | annotation | factor | '(' term ')'
    annotatable := simpleUnit [exponent]
    simpleUnit  := atom | prefix metricAtom
    exponent    := ['+' | '-'] digits
    factor      := digits
    annotation  := '{' printable ASCII except braces '}'

The atoms and prefixes are in ``data/ucum.json``. ``check_unit`` returns None for a valid
unit, otherwise a message naming the offending part.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

_EXPONENT = re.compile(r"^(?P<unit>.*?)(?P<exponent>[+-]?[0-9]+)?$", re.DOTALL)
_DIGITS = re.compile(r"^[0-9]+$")

# Symbols people write that are not UCUM, with the UCUM code they mean.
COMMON_MISTAKES = {
    "mcg": "ug",
    "cc": "mL",
    "sec": "s",
    "secs": "s",
    "hr": "h",
    "hrs": "h",
    "hour": "h",
    "hours": "h",
    "day": "d",
    "days": "d",
    "week": "wk",
    "weeks": "wk",
    "month": "mo",
    "months": "mo",
    "year": "a",
    "years": "a",
    "yr": "a",
    "kgs": "kg",
    "lbs": "[lb_av]",
    "lb": "[lb_av]",
    "in": "[in_i]",
    "ft": "[ft_i]",
    "IU": "[iU]",
    "iu": "[iU]",
    "units": "[iU] or {unit}",
    "unit": "[iU] or {unit}",
    "°C": "Cel",
    "degC": "Cel",
    "°F": "[degF]",
    "mmHg": "mm[Hg]",
    "cmH2O": "cm[H2O]",
    "bpm": "/min",
    "ml": "mL",
    "mls": "mL",
    "dl": "dL",
    "µg": "ug",
    "μg": "ug",
    "µL": "uL",
    "μL": "uL",
    "gm": "g",
    "gms": "g",
    "mgs": "mg",
    "tab": "{tablet}",
    "tablet": "{tablet}",
    "cells": "{cells}",
}


@dataclass(frozen=True)
class UcumTable:
    prefixes: tuple[str, ...]
    metric: frozenset[str]
    atoms: frozenset[str]


@cache
def load_table() -> UcumTable:
    text = resources.files("fhir_case.validation").joinpath("data/ucum.json").read_text("utf-8")
    data = json.loads(text)
    metric = frozenset(data["base"]) | frozenset(data["metric"])
    prefixes = tuple(sorted(data["prefixes"], key=len, reverse=True))
    return UcumTable(prefixes, metric, metric | frozenset(data["nonmetric"]))


class UcumSyntaxError(ValueError):
    """A unit expression that is not valid UCUM."""


class _Parser:
    def __init__(self, text: str, table: UcumTable) -> None:
        self.text = text
        self.pos = 0
        self.table = table

    def parse(self) -> None:
        if not self.text:
            raise UcumSyntaxError("the unit is empty")
        if self._peek() == "/":
            self.pos += 1
        self._term()
        if self.pos < len(self.text):
            raise UcumSyntaxError(f"unexpected '{self.text[self.pos]}' at position {self.pos + 1}")

    def _peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def _term(self) -> None:
        self._component()
        while self._peek() in (".", "/") and self._peek():
            self.pos += 1
            self._component()

    def _component(self) -> None:
        char = self._peek()
        if char == "(":
            self.pos += 1
            self._term()
            if self._peek() != ")":
                raise UcumSyntaxError(f"missing ')' at position {self.pos + 1}")
            self.pos += 1
            return
        if char == "{":
            self._annotation()
            return
        symbol = self._symbol()
        if not symbol:
            where = f"'{char}' at position {self.pos + 1}" if char else "the end"
            raise UcumSyntaxError(f"expected a unit, found {where}")
        if not _DIGITS.match(symbol):
            self._annotatable(symbol)
        if self._peek() == "{":
            self._annotation()

    def _symbol(self) -> str:
        """The characters of one simple unit with its exponent (square brackets kept whole)."""
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in "./(){}":
            if self.text[self.pos] == "[":
                end = self.text.find("]", self.pos)
                if end < 0:
                    raise UcumSyntaxError(f"unclosed '[' at position {self.pos + 1}")
                self.pos = end
            self.pos += 1
        return self.text[start : self.pos]

    def _annotatable(self, symbol: str) -> None:
        match = _EXPONENT.match(symbol)
        unit = match.group("unit") if match else symbol
        if not unit or not self._is_simple_unit(unit):
            raise UcumSyntaxError(f"'{unit or symbol}' is not a UCUM unit")

    def _is_simple_unit(self, unit: str) -> bool:
        if unit in self.table.atoms:
            return True
        return any(
            unit.startswith(prefix) and unit[len(prefix) :] in self.table.metric
            for prefix in self.table.prefixes
        )

    def _annotation(self) -> None:
        end = self.text.find("}", self.pos)
        if end < 0:
            raise UcumSyntaxError(f"unclosed '{{' at position {self.pos + 1}")
        body = self.text[self.pos + 1 : end]
        if any(not 33 <= ord(char) <= 126 or char == "{" for char in body):
            raise UcumSyntaxError(f"annotation '{{{body}}}' holds characters UCUM does not allow")
        self.pos = end + 1


def check_unit(code: str) -> str | None:
    """None when ``code`` is a valid UCUM expression, else what is wrong with it."""
    try:
        _Parser(code, load_table()).parse()
    except UcumSyntaxError as error:
        return str(error)
    return None


def suggest(code: str) -> str | None:
    """The UCUM code a common non-UCUM spelling most likely means."""
    return COMMON_MISTAKES.get(code) or COMMON_MISTAKES.get(code.strip())
