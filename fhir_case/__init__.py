"""fhir-case: a published oncology case report as a faithful, validated FHIR R4 record.

The flow is pure from end to end: case file -> case model -> FHIR resources -> Bundle ->
validation issues. Writing files, HTTP and the command line are thin layers around it.
"""

__version__ = "0.1.0"
