"""Invariants met on most clinical resources, evaluated natively instead of by fhirpathpy.

Profiling ``fhir-case validate`` on a bulk export showed these were nearly all the FHIRPath
evaluations left to fhirpathpy (a few hundred microseconds each): Observation's ``obs-7``,
Timing's ``tim-4``, ``tim-5`` and ``tim-9``, Duration's ``drt-1``, Condition's ``con-4`` and
``con-5``, and US Core's ``us-core-3`` (Observation) and ``us-core-7`` (Procedure). Each function
gives what fhirpathpy gives for the FHIRPath it is keyed by, three-valued logic included (an
invariant that evaluates to nothing holds), and a primitive with only an extension (``_x``)
exists without a value. tests/validation/profiles/test_common_invariants.py checks them against
fhirpathpy on the examples, the case and edge cases.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeGuard

from fhir_case.validation.profiles.logic import both, holds, present

UCUM = "http://unitsofmeasure.org"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
_MEAL_RELATIVE = frozenset({"C", "CM", "CD", "CV"})


def _choicepresent(holder: Any, name: str) -> bool:
    """``name.exists()`` for a choice element ``name[x]`` (``valueQuantity``, ``_valueString``)."""
    if not isinstance(holder, dict):
        return False
    for key, item in holder.items():
        base = key[1:] if key[:1] == "_" else key
        if base.startswith(name) and base[len(name) : len(name) + 1].isupper() and item is not None:
            return True
    return False


def _number(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _codings(concept: Any) -> list[dict[str, Any]]:
    codings = concept.get("coding") if isinstance(concept, dict) else None
    return [c for c in codings if isinstance(c, dict)] if isinstance(codings, list) else []


def _obs_7(observation: Any, root: Any) -> bool:
    """value.empty() or component.code.where(coding.intersect(%resource.code.coding)
    .exists()).empty(): no component may repeat the Observation's own code when it has a value."""
    if not _choicepresent(observation, "value"):
        return True
    own = _codings(observation.get("code"))
    components = observation.get("component")
    for component in components if isinstance(components, list) else ():
        if isinstance(component, dict) and any(c in own for c in _codings(component.get("code"))):
            return False
    return True


def _not_negative(name: str) -> Callable[[Any, Any], bool]:
    """``name.exists() implies name >= 0`` (tim-4, tim-5)."""

    def check(repeat: Any, root: Any) -> bool:
        value = repeat.get(name) if isinstance(repeat, dict) else None
        return not _number(value) or value >= 0

    return check


def _tim_9(repeat: Any, root: Any) -> bool:
    """offset.empty() or (when.exists() and ((when in ('C' | 'CM' | 'CD' | 'CV')).not())):
    an offset only with a ``when`` that is not relative to a meal."""
    if not present(repeat, "offset"):
        return True
    when = repeat.get("when")
    codes = [code for code in when if code is not None] if isinstance(when, list) else []
    others = repeat.get("_when")
    extended = isinstance(others, list) and any(item is not None for item in others)
    if not codes and not extended:
        return False  # when.exists() is false
    if len(codes) != 1:
        return True  # ``in`` needs one item: fhirpathpy gives nothing
    return codes[0] not in _MEAL_RELATIVE


def _drt_1(duration: Any, root: Any) -> bool:
    """code.exists() implies ((system = %ucum) and value.exists())."""
    if not present(duration, "code"):
        return True
    system = duration.get("system")
    is_ucum = None if system is None else system == UCUM
    return holds(both(is_ucum, present(duration, "value")))


def _con_4(condition: Any, root: Any) -> bool:
    """abatement.empty() or clinicalStatus.coding.where(system = condition-clinical and
    (code = 'resolved' or 'remission' or 'inactive')).exists()."""
    if not _choicepresent(condition, "abatement"):
        return True
    return any(
        c.get("system") == CONDITION_CLINICAL
        and c.get("code") in ("resolved", "remission", "inactive")
        for c in _codings(condition.get("clinicalStatus"))
    )


def _con_5(condition: Any, root: Any) -> bool:
    """verificationStatus.coding.where(system = condition-ver-status and code =
    'entered-in-error').empty() or clinicalStatus.empty()."""
    refuted = any(
        c.get("system") == CONDITION_VERIFICATION and c.get("code") == "entered-in-error"
        for c in _codings(condition.get("verificationStatus"))
    )
    return not refuted or not present(condition, "clinicalStatus")


def _us_core_3(observation: Any, root: Any) -> bool:
    """value.ofType(Quantity).system.empty() or value.ofType(Quantity).system = UCUM."""
    quantity = observation.get("valueQuantity") if isinstance(observation, dict) else None
    if not isinstance(quantity, dict) or not present(quantity, "system"):
        return True
    return bool(quantity.get("system") == UCUM)  # only an extension: false, as in fhirpathpy


def _us_core_7(procedure: Any, root: Any) -> bool:
    """(status='completed' or status='in-progress') implies performed.exists()."""
    status = procedure.get("status") if isinstance(procedure, dict) else None
    return holds(
        status not in ("completed", "in-progress") or _choicepresent(procedure, "performed")
    )


COMMON_INVARIANTS: dict[str, Callable[[Any, Any], bool]] = {
    "value.empty() or component.code.where(coding.intersect(%resource.code.coding).exists())"
    ".empty()": _obs_7,
    "duration.exists() implies duration >= 0": _not_negative("duration"),
    "period.exists() implies period >= 0": _not_negative("period"),
    "offset.empty() or (when.exists() and ((when in ('C' | 'CM' | 'CD' | 'CV')).not()))": _tim_9,
    "code.exists() implies ((system = %ucum) and value.exists())": _drt_1,
    "abatement.empty() or clinicalStatus.coding.where(system='http://terminology.hl7.org/"
    "CodeSystem/condition-clinical' and (code='resolved' or code='remission' or "
    "code='inactive')).exists()": _con_4,
    "verificationStatus.coding.where(system='http://terminology.hl7.org/CodeSystem/"
    "condition-ver-status' and code='entered-in-error').empty() or clinicalStatus.empty()": _con_5,
    "value.ofType(Quantity).system.empty() or value.ofType(Quantity).system = "
    "'http://unitsofmeasure.org'": _us_core_3,
    "(status='completed' or status='in-progress') implies performed.exists()": _us_core_7,
}
