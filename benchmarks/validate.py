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


def child(folder: Path, jobs: int) -> None:
    from fhir_case.validation import Validator

    files = sorted(folder.glob("*.json"))
    documents = [json.loads(path.read_bytes()) for path in files]
    results = Validator().validate_many(documents, jobs)
    errors = sum(issue.is_error for issues in results for issue in issues)
    warnings = sum(issue.severity == "warning" for issues in results for issue in issues)
    print(json.dumps({"files": len(files), "errors": errors, "warnings": warnings}))


def timed_run(folder: Path, jobs: int) -> tuple[float, int, float, dict[str, int]]:
    """Wall time, peak memory (KB) and CPU time of one fresh process, and what it found.

    ``wait4`` gives the child's resource usage including the workers it waited for.
    """
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, __file__, "--child", str(folder), str(jobs)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.exit(f"the validating process failed with exit code {process.returncode}")
    cpu = usage.ru_utime + usage.ru_stime
    return wall, usage.ru_maxrss, cpu, json.loads(output)


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        child(Path(sys.argv[2]), int(sys.argv[3]))
        return
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared/fhir/examples-r4"
    if not folder.is_dir():
        sys.exit(f"{folder}: no such folder of examples")
    cpus = os.cpu_count() or 1
    timed_run(folder, 1)  # warm the rule cache
    for jobs in sorted({1, cpus}):
        wall, max_rss_kb, cpu, counts = timed_run(folder, jobs)
        files = counts["files"]
        found = f"{counts['errors']} errors, {counts['warnings']} warnings"
        print(f"validate_many(jobs={jobs}), fresh process, warm rule cache:")
        print(f"  files validated:    {files} ({found})")
        print(f"  wall time:          {wall:.2f} s")
        print(f"  CPU time:           {cpu:.2f} s (user + system, the process and its workers)")
        print(f"  peak memory:        {max_rss_kb / 1024:.0f} MB (ru_maxrss, the largest process)")
        print(f"  time per resource:  {wall / files * 1000:.1f} ms")


if __name__ == "__main__":
    main()
