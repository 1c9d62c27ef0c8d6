import sys

from fhir_case.cli import main

sys.exit(main())
