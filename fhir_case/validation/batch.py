"""Validating many documents on several CPUs (POSIX ``fork``; elsewhere one process).

The parent loads the packages, then forks one worker per extra CPU; each process validates
its share and the workers send their issues back through a pipe. Documents are shared by
resource type, so that each process builds the R4B model classes of its own types only (that
class building is most of a cold start). The result is the same list, in the same order, as
validating one document after the other; a worker that fails has its share validated again
by the parent, so errors surface as they would without workers.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable, Sequence
from typing import Any

from fhir_case.validation.issues import Issue

Validate = Callable[[dict[str, Any]], list[Issue]]


def validate_all(
    validate: Validate, documents: Sequence[dict[str, Any]], jobs: int
) -> list[list[Issue]]:
    """``[validate(d) for d in documents]``, computed by up to ``jobs`` processes."""
    shares = _shares(documents, jobs) if hasattr(os, "fork") else []
    if len(shares) < 2:
        return [validate(document) for document in documents]
    workers = [_fork(validate, documents, share) for share in shares[1:]]
    results = {index: validate(documents[index]) for index in shares[0]}
    for (pid, pipe), share in zip(workers, shares[1:], strict=True):
        with os.fdopen(pipe, "rb") as reader:
            payload = reader.read()
        _, status = os.waitpid(pid, 0)
        if status == 0 and payload:
            results.update(pickle.loads(payload))
        else:
            results.update((index, validate(documents[index])) for index in share)
    return [results[index] for index in range(len(documents))]


def _fork(
    validate: Validate, documents: Sequence[dict[str, Any]], share: list[int]
) -> tuple[int, int]:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker: validate its share, send it, leave without any cleanup
        os.close(read_end)
        status = 1
        try:
            payload = pickle.dumps({index: validate(documents[index]) for index in share})
            with os.fdopen(write_end, "wb") as writer:
                writer.write(payload)
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    return pid, read_end


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
