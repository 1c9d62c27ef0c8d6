"""The case view: one self-contained HTML page rendered from a FHIR Bundle's resources."""

from fhir_case.view.page import render_case_view

__all__ = ["render_case_view"]
