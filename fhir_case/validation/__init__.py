"""Layered FHIR R4 validation: each layer turns a resource or Bundle into a list of Issues."""
