"""Benchmark: where ``fhir-case validate`` spends its time, layer by layer, on an NDJSON corpus.

Usage: .venv/bin/python benchmarks/layers.py [SIZE]   (default: 5000)

The corpus is the one of ``benchmarks/validate_ndjson.py`` (official R4 examples and the case,
copied into distinct resources). It is parsed once; then each step of checking a line runs
over every resource on its own, timed in CPU seconds (``time.process_time``), after one
untimed pass that loads the packages and builds the rules and models:

parse (the NDJSON line read with every check of ``safeinput``), structure (R4B models and
the quick model check), schema (R4 JSON Schema), profile (StructureDefinitions), terminology
(code register, UCUM), references (resolved against the export's index), and combine (one
issue per finding, sorted). The last row is the whole check of a line, as ``validate`` runs
it; its figure, not the sum of the rows, is the speed (the rows overlap a little: the
whole also computes content digests to remember entries). It reaches into the validator's
internals (the layer functions, the loaded packages) to time each step on its own.
"""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent))

from validate_ndjson import corpus

from fhir_case.export.ndjson import ndjson_line
from fhir_case.safeinput import parse_json
from fhir_case.validation import Validator, _own_core_issues
from fhir_case.validation.ndjson import (
    ExportIndex,
    _ChunkChecker,
    _digest,
    _key_of,
    _references,
)
from fhir_case.validation.profiles import check_resource
from fhir_case.validation.schema import check_schema
from fhir_case.validation.structure import check_structure
from fhir_case.validation.terminology import check_terminology

Item = TypeVar("Item")
REPEAT = 3  # the fastest of three runs: the least disturbed by other processes


def main() -> None:
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    lines = [ndjson_line(resource).rstrip(b"\n") for resource in corpus(size)]
    resources = [
        parse_json(line.decode("utf-8"), "corpus.ndjson", n) for n, line in enumerate(lines, 1)
    ]
    validator = Validator()
    validator.load()
    context, schemas = validator._context, validator._schemas
    assert context is not None and schemas is not None, "install the FHIR packages first"
    index = ExportIndex(_digest(key) for key in map(_key_of, resources) if key is not None)
    checker = _ChunkChecker(validator, index)
    path = Path("corpus.ndjson")

    found = [
        (_own_core_issues(r, r["resourceType"]), validator.package_findings(r)) for r in resources
    ]
    numbered = list(enumerate(lines, 1))
    steps: list[tuple[str, Callable[[], None]]] = [
        ("parse", over(numbered, lambda n_t: parse_json(n_t[1].decode("utf-8"), "c", n_t[0]))),
        ("structure", over(resources, lambda r: check_structure(r, r["resourceType"]))),
        ("schema", over(resources, lambda r: check_schema(r, r["resourceType"], schemas))),
        ("profile", over(resources, lambda r: check_resource(r, r["resourceType"], context))),
        ("terminology", over(resources, lambda r: check_terminology(r, r["resourceType"]))),
        ("references", over(resources, lambda r: list(_references(r, index)))),
        ("combine", over(found, lambda pair: Validator.combine(*pair))),
        ("whole line", over(numbered, lambda n_t: checker.check_line(n_t[1], path, n_t[0]))),
    ]
    for _, run in steps:  # load everything: models, rules, schemas
        run()
    gc.freeze()  # as validate does once loaded: the rules and models are never garbage
    print(f"{size} resources, {sum(map(len, lines)) / 1e6:.1f} MB; CPU time per step")
    print(f"{'step':<12} {'CPU s':>7} {'µs/res':>7} {'res/CPU-s':>9}")
    for name, run in steps:
        cpu = min(_timed(run) for _ in range(REPEAT))
        print(f"{name:<12} {cpu:>7.2f} {cpu / size * 1e6:>7.0f} {size / cpu:>9.0f}")


def over(items: Sequence[Item], step: Callable[[Item], object]) -> Callable[[], None]:
    """A run of ``step`` over every item."""

    def run() -> None:
        for item in items:
            step(item)

    return run


def _timed(run: Callable[[], None]) -> float:
    start = time.process_time()
    run()
    return time.process_time() - start


if __name__ == "__main__":
    main()
