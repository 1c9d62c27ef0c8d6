"""Benchmark: ``fhir-case validate`` of a large NDJSON export, streaming, in a fresh process.

Usage: .venv/bin/python benchmarks/validate_ndjson.py [SIZES...]   (default: 1000 5000 20000)

The corpus is built deterministically from the official R4 examples (../shared/fhir/examples-r4)
and the case (bundles/*.collection.json, exported as by ``fhir-case export``): copy ``k`` of
each resource gets the id ``<id>-k`` (``<id>`` shortened to keep it a FHIR id), and every
reference to a resource of the templates is rewritten to its copy ``k``, so the corpus holds
distinct resources whose references resolve as well as in the originals. It is written as one
``Type.ndjson`` per resource type with a manifest, like an export.

The corpus is written by a process of its own (this one stays small: a child's peak memory
counts what it inherited from its parent). One untimed run fills the rule cache; then for each
size ``python -m fhir_case validate DIR --jobs J`` runs in a fresh process for J = 1 and J =
the number of CPUs, timed from the outside:
wall time, CPU time (the process and its workers), peak memory (ru_maxrss of the largest
process), resources per second (wall, and per core: resources / CPU seconds). Packages come from
the package cache, as for ``fhir-case validate``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT.parent / "shared" / "fhir" / "examples-r4"
SIZES = (1000, 5000, 20000)
_RELATIVE = re.compile(r"^([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})$")


def templates() -> list[dict[str, Any]]:
    """The official examples and the case's resources (with Type/id references)."""
    from fhir_case.export import standalone_resources

    found = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(EXAMPLES.glob("*.json"))]
    for path in sorted((ROOT / "bundles").glob("*.collection.json")):
        bundle = json.loads(path.read_text(encoding="utf-8"))
        found += [item.resource for item in standalone_resources(bundle, str(path))]
    return found


def corpus(size: int) -> list[dict[str, Any]]:
    """``size`` distinct resources: copy ``i // len(templates)`` of template ``i % len``."""
    base = templates()
    keys = {f"{r['resourceType']}/{r['id']}" for r in base}
    resources = []
    for number in range(size):
        copy, template = divmod(number, len(base))
        resources.append(_copy(base[template], copy, keys))
    return resources


def _copy(resource: dict[str, Any], copy: int, keys: set[str]) -> dict[str, Any]:
    def renamed(resource_id: str) -> str:
        suffix = f"-{copy}"
        return resource_id[: 64 - len(suffix)] + suffix

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            out = {key: walk(value) for key, value in node.items()}
            reference = out.get("reference")
            if isinstance(reference, str) and reference in keys:
                kind, _, target = reference.partition("/")
                out["reference"] = f"{kind}/{renamed(target)}"
            return out
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node

    copied: dict[str, Any] = walk(resource)
    copied["id"] = renamed(resource["id"])
    return copied


def write_corpus(resources: list[dict[str, Any]], folder: Path) -> None:
    from fhir_case.export.ndjson import ndjson_line

    by_type: dict[str, list[bytes]] = {}
    for resource in resources:
        by_type.setdefault(resource["resourceType"], []).append(ndjson_line(resource))
    for kind, lines in by_type.items():
        (folder / f"{kind}.ndjson").write_bytes(b"".join(lines))


def timed_run(folder: Path, jobs: int) -> tuple[float, float, int, str]:
    """Wall time, CPU time (s), peak memory (KB) and the last line printed, of a fresh run."""
    command = [sys.executable, "-m", "fhir_case", "validate", str(folder), "--jobs", str(jobs)]
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        sys.exit(f"fhir-case validate failed with exit code {os.waitstatus_to_exitcode(status)}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, output


def main() -> None:
    if sys.argv[1:2] == ["--write"]:
        write_corpus(corpus(int(sys.argv[2])), Path(sys.argv[3]))
        return
    sizes = [int(arg) for arg in sys.argv[1:]] or list(SIZES)
    cpus = os.cpu_count() or 1
    folder = Path(tempfile.mkdtemp(prefix="fhir-case-ndjson-"))
    rows = []
    try:
        for number, size in enumerate(sizes):
            for old in folder.iterdir():
                old.unlink()
            # In a process of its own: a child forked from a parent that built the corpus
            # would count the parent's memory in its peak (ru_maxrss survives exec).
            subprocess.run(
                [sys.executable, __file__, "--write", str(size), str(folder)], check=True
            )
            megabytes = sum(p.stat().st_size for p in folder.iterdir()) / 1e6
            if number == 0:
                timed_run(folder, 1)  # fill the rule cache
            for jobs in sorted({1, cpus}):
                wall, cpu, rss_kb, output = timed_run(folder, jobs)
                issues = output.count("\n") - len(list(folder.iterdir()))
                rows.append((size, megabytes, jobs, wall, cpu, rss_kb / 1024, issues))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print("fhir-case validate DIR (NDJSON), fresh process, warm rule cache")
    print(
        f"{'resources':>9} {'MB':>6} {'jobs':>4} {'wall s':>7} {'CPU s':>7} "
        f"{'res/s':>7} {'res/CPU-s':>9} {'peak MB':>7} {'issues':>7}"
    )
    for size, megabytes, jobs, wall, cpu, rss, issues in rows:
        print(
            f"{size:>9} {megabytes:>6.1f} {jobs:>4} {wall:>7.2f} {cpu:>7.2f} "
            f"{size / wall:>7.0f} {size / cpu:>9.0f} {rss:>7.0f} {issues:>7}"
        )


if __name__ == "__main__":
    main()
