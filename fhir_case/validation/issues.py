"""The result type every validation layer returns.

Location convention (shared by every layer; the HL7 validator's style, so that findings can be
compared with it line by line):

- The path starts at the validated root: ``Patient.birthDate`` for a lone resource,
  ``Bundle.entry[2].resource.status`` for a resource inside a Bundle (never the
  ``/*Patient/null*/`` comments the HL7 validator adds).
- A JSON array always gets its index, also ``[0]``: ``Patient.name[0].given[1]``; a single
  element never does.
- A choice element is written by its name without ``[x]`` and its type in ``ofType()``, with the
  type spelled as in FHIR (primitives lower camel case): ``Observation.value.ofType(Quantity)``,
  ``Condition.onset.ofType(dateTime)``. :func:`fhir_case.validation.locations.fhirpath` builds
  such paths from JSON keys.
- A primitive's extension object (``_birthDate``) is located at the primitive (``birthDate``).
- What is *missing* (cardinality, required slices) and invariants are located at the element
  that owns them: ``Bundle.entry[1].resource`` for a Condition without ``subject``,
  ``Bundle`` for ``bdl-7``. Unknown properties are located at the object holding them and named
  in the message (``Unrecognized property 'severityScore'``).

One finding, one issue: when two layers can find the same thing (the R4B models and the base
StructureDefinition both know that ``Condition.subject`` is required; the bundle layer and the
Bundle invariants both know ``bdl-7``), both set the same ``rule`` and
:func:`fhir_case.validation.validate` keeps the first by layer order. ``rule`` spellings:
``min:<Type.path>`` / ``max:<Type.path>`` for cardinality of the base definition,
``binding:<Type.path>`` for a code outside the required value set of the base definition (the
JSON Schema's enums), an invariant's key (``bdl-7``, ``obs-6``) for invariants of the base
definition, ``unknown:<name>`` for an unrecognized property, and ``None`` when no other layer
can report the same finding. ``<Type.path>`` is the element's path in its definition
(``Condition.subject``, ``Observation.component.code``, ``Extension.url``). Findings of a
profile add ``@<canonical>`` so that they stay separate from the base definition's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["fatal", "error", "warning", "information"]
# The layers, in the order their findings are kept when two find the same thing.
LAYERS = ("structure", "schema", "bundle", "profile", "terminology")
# The IssueType of the issue a layer gives when it could not run (its FHIR packages are missing).
NOT_RUN = "not-supported"


@dataclass(frozen=True, order=True)
class Issue:
    """One finding: where (a FHIRPath such as ``Bundle.entry[3].resource.status``), what, and a fix.

    ``code`` is the FHIR IssueType used in the OperationOutcome (``structure``, ``required``,
    ``value``, ``invariant``, ``code-invalid``, ``not-found``, ``incomplete``, ...).
    """

    location: str
    severity: Severity
    layer: str
    message: str
    hint: str | None = None
    code: str = "invalid"
    rule: str | None = None

    @property
    def is_error(self) -> bool:
        """An error: the data is not shown valid. A layer that did not run is one too."""
        return self.severity in ("fatal", "error")

    @property
    def layer_did_not_run(self) -> bool:
        """The issue says that its layer could not run, not that the data is wrong."""
        return self.code == NOT_RUN

    @property
    def is_data_error(self) -> bool:
        """An error found in the data (not a layer that did not run)."""
        return self.is_error and not self.layer_did_not_run


def finding(
    layer: str,
    location: str,
    message: str,
    hint: str | None = None,
    severity: Severity = "error",
    code: str = "invalid",
    rule: str | None = None,
) -> Issue:
    """An :class:`Issue`, with its arguments in the order the layers write them."""
    return Issue(location, severity, layer, message, hint, code, rule)
