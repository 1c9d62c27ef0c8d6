from fhir_case.cli import console

console()
