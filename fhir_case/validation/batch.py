"""Validation on several CPUs (POSIX ``fork``; elsewhere everything runs in one process).

:class:`Worker` computes one function in a forked process and hands back its pickled result;
:func:`validate_all` shares many documents between the parent and such workers. A worker that
fails returns nothing, and the parent computes its share itself, so errors surface as they
would without workers.

Documents are shared by resource type, so that each process builds the R4B model classes of
its own types only (that class building is most of a cold start). The result is the same list,
in the same order, as validating one document after the other.
"""

from __future__ import annotations

import os
import pickle
import signal
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from types import TracebackType
from typing import Any, Generic, TypeVar

from fhir_case.validation.issues import Issue

Validate = Callable[[dict[str, Any]], list[Issue]]
Result = TypeVar("Result")


class Worker(Generic[Result]):
    """``compute()`` in a forked process, started at once; :meth:`result` waits for it.

    Use it as a context manager: leaving the block without asking for the result (an
    exception, say) kills the worker and reaps it.
    """

    def __init__(self, compute: Callable[[], Result]) -> None:
        self._pid: int | None = None
        self._pipe: int | None = None
        if not hasattr(os, "fork"):
            return
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker: compute, send, leave without any cleanup
            os.close(read_end)
            status = 1
            try:
                payload = pickle.dumps(compute())
                with os.fdopen(write_end, "wb") as writer:
                    writer.write(payload)
                status = 0
            finally:
                os._exit(status)
        os.close(write_end)
        self._pid, self._pipe = pid, read_end

    def result(self) -> Result | None:
        """What ``compute()`` returned; None without fork, or when the worker failed."""
        if self._pipe is None:
            return None
        with os.fdopen(self._pipe, "rb") as reader:
            self._pipe = None
            payload = reader.read()
        status = self._reap()
        if status != 0 or not payload:
            return None
        found: Result = pickle.loads(payload)
        return found

    def close(self) -> None:
        """Stop the worker if its result was not taken, and reap it."""
        if self._pipe is not None:
            os.close(self._pipe)
            self._pipe = None
            if self._pid is not None:
                os.kill(self._pid, signal.SIGKILL)
        self._reap()

    def _reap(self) -> int:
        if self._pid is None:
            return 1
        _, status = os.waitpid(self._pid, 0)
        self._pid = None
        return status

    def __enter__(self) -> Worker[Result]:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def validate_all(
    validate: Validate, documents: Sequence[dict[str, Any]], jobs: int
) -> list[list[Issue]]:
    """``[validate(d) for d in documents]``, computed by up to ``jobs`` processes."""
    shares = _shares(documents, jobs) if hasattr(os, "fork") and documents else []
    if len(shares) < 2:
        return [validate(document) for document in documents]
    with ExitStack() as stack:
        workers = [
            (stack.enter_context(Worker(_validating(validate, documents, share))), share)
            for share in shares[1:]
        ]
        results = {index: validate(documents[index]) for index in shares[0]}
        for worker, share in workers:
            found = worker.result()
            if found is None:  # the worker failed: its share is validated here
                found = _validating(validate, documents, share)()
            results.update(found)
    return [results[index] for index in range(len(documents))]


def _validating(
    validate: Validate, documents: Sequence[dict[str, Any]], share: list[int]
) -> Callable[[], dict[int, list[Issue]]]:
    return lambda: {index: validate(documents[index]) for index in share}


def _shares(documents: Sequence[dict[str, Any]], jobs: int) -> list[list[int]]:
    """Indices for each process, grouped by resource type, balanced by count (largest first)."""
    by_type: dict[str, list[int]] = {}
    for index, document in enumerate(documents):
        by_type.setdefault(str(document.get("resourceType")), []).append(index)
    groups = list(by_type.values())
    while len(groups) < jobs and max(len(group) for group in groups) > 1:
        largest = max(groups, key=len)  # fewer types than processes: split the largest type
        groups.remove(largest)
        groups += [largest[: len(largest) // 2], largest[len(largest) // 2 :]]
    shares: list[list[int]] = [[] for _ in range(max(1, min(jobs, len(groups))))]
    for group in sorted(groups, key=lambda indices: (-len(indices), indices[0])):
        min(shares, key=len).extend(group)
    return [sorted(share) for share in shares if share]
