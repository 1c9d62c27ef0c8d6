"""Workers, and ``Validator.validate_many``: the same issues, in the same order, with several
processes."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from fhir_case.validation import Validator
from fhir_case.validation.batch import Worker, _shares
from tests.validation.corpus import BROKEN, load


def test_workers_give_what_one_process_gives(validator: Validator, examples_dir: Path) -> None:
    paths = sorted(examples_dir.glob("*.json"))[::4] + sorted(BROKEN.glob("*.json"))[:6]
    documents = [load(path) for path in paths if path.name != "manifest.json"]
    assert validator.validate_many(documents, jobs=3) == [validator.validate(d) for d in documents]


def test_shares_keep_resource_types_together_and_balance_counts() -> None:
    documents = [{"resourceType": kind} for kind in ["Patient"] * 3 + ["Observation"] * 4]
    assert _shares(documents, 2) == [[3, 4, 5, 6], [0, 1, 2]]


def test_one_type_is_split_when_there_are_more_processes() -> None:
    documents = [{"resourceType": "Bundle"}] * 4
    assert _shares(documents, 2) == [[0, 1], [2, 3]]


def test_one_job_is_one_process() -> None:
    assert _shares([{"resourceType": "Patient"}, {"resourceType": "Condition"}], 1) == [[0, 1]]


def test_a_worker_computes_in_another_process() -> None:
    with Worker(os.getpid) as worker:
        assert worker.result() not in (None, os.getpid())


def test_a_failed_worker_gives_nothing() -> None:
    def fail() -> int:
        raise RuntimeError("broken")

    with Worker(fail) as worker:
        assert worker.result() is None


def test_without_fork_there_is_no_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "fork")
    ran: list[bool] = []
    with Worker(lambda: ran.append(True)) as worker:
        assert worker.result() is None
    assert ran == []


def test_leaving_without_the_result_stops_and_reaps_the_worker(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"

    def big() -> str:
        pid_file.write_text(str(os.getpid()))
        return "x" * 1_000_000  # more than a pipe holds: the worker waits for a reader

    with Worker(big):
        while not pid_file.exists() or not pid_file.read_text():
            time.sleep(0.01)
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)


def test_leaving_early_stops_a_worker_still_computing() -> None:
    started = time.perf_counter()
    with pytest.raises(KeyError), Worker(lambda: time.sleep(30)):
        raise KeyError("the caller fails before it asks for the result")
    assert time.perf_counter() - started < 5
