"""Benchmark: a cold ``fhir-case build`` of the shipped case, timed from the outside.

Usage: .venv/bin/python benchmarks/build.py [RUNS]   (default: 20 runs)

Each run is a fresh process (``python -m fhir_case build``, all three bundles, every validation
layer) writing to a temporary folder; the first, untimed run fills the rule cache, as any
earlier run would have. Prints the wall time (minimum, median, maximum), the CPU time (the
process and its validation worker) and the peak memory of the largest process; then the same
pinned to one CPU with ``taskset``, where that exists, to show what the worker buys.
The FHIR packages come from the package cache, as for ``fhir-case build``.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

COMMAND = [sys.executable, "-m", "fhir_case", "build", "--out"]


def timed_run(out: str, prefix: list[str]) -> tuple[float, float, int]:
    """Wall time, CPU time (s) and peak memory (KB) of one build in a fresh process."""
    start = time.perf_counter()
    process = subprocess.Popen([*prefix, *COMMAND, out], stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"fhir-case build failed with exit code {os.waitstatus_to_exitcode(status)}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def report(title: str, runs: list[tuple[float, float, int]]) -> None:
    walls = sorted(wall for wall, _, _ in runs)
    print(f"{title} ({len(runs)} runs):")
    print(
        f"  wall time:    min {walls[0]:.2f} s, median {statistics.median(walls):.2f} s, "
        f"max {walls[-1]:.2f} s"
    )
    print(f"  CPU time:     median {statistics.median(cpu for _, cpu, _ in runs):.2f} s")
    print(f"  peak memory:  {max(rss for _, _, rss in runs) / 1024:.0f} MB (largest process)")


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    out = tempfile.mkdtemp(prefix="fhir-case-bench-")
    try:
        timed_run(out, [])  # fill the rule cache
        report(
            "fhir-case build, cold process, warm rule cache",
            [timed_run(out, []) for _ in range(count)],
        )
        taskset = shutil.which("taskset")
        if taskset and (os.cpu_count() or 1) > 1:
            pinned = [taskset, "-c", "0"]
            report(
                "the same on one CPU (taskset -c 0)", [timed_run(out, pinned) for _ in range(count)]
            )
    finally:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
