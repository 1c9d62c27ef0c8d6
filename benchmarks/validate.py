"""Benchmark: validate the official R4 examples with every layer in a fresh process.

Usage: .venv/bin/python benchmarks/validate.py [EXAMPLES_DIR]
(default EXAMPLES_DIR: ../shared/fhir/examples-r4)

Runs one untimed process first (it fills the rule cache, as any earlier run would have), then
a fresh process that is timed from the outside: interpreter start, imports, loading the cached
rules, reading and validating every file. Prints wall time, the child's peak memory
(ru_maxrss) and the time per resource. Packages come from the package cache as for
``fhir-case validate`` (install them first: ``fhir-case packages install ...``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def child(folder: Path) -> None:
    from fhir_case.validation import Validator

    validator = Validator()
    files = sorted(folder.glob("*.json"))
    errors = warnings = 0
    for path in files:
        issues = validator.validate(json.loads(path.read_bytes()))
        errors += sum(issue.is_error for issue in issues)
        warnings += sum(issue.severity == "warning" for issue in issues)
    print(json.dumps({"files": len(files), "errors": errors, "warnings": warnings}))


def timed_run(folder: Path) -> tuple[float, int, dict[str, int]]:
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, __file__, "--child", str(folder)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.exit(f"the validating process failed with exit code {process.returncode}")
    return wall, usage.ru_maxrss, json.loads(output)


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        child(Path(sys.argv[2]))
        return
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared/fhir/examples-r4"
    if not folder.is_dir():
        sys.exit(f"{folder}: no such folder of examples")
    timed_run(folder)  # warm the rule cache
    wall, max_rss_kb, counts = timed_run(folder)
    files = counts["files"]
    print(
        f"files validated:      {files} ({counts['errors']} errors, {counts['warnings']} warnings)"
    )
    print(f"wall time:            {wall:.2f} s (fresh process, warm rule cache)")
    print(f"peak memory:          {max_rss_kb / 1024:.0f} MB (ru_maxrss)")
    print(f"time per resource:    {wall / files * 1000:.1f} ms")


if __name__ == "__main__":
    main()
