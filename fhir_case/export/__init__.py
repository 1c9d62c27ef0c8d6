"""Export a Bundle for other tools: FHIR Shorthand for IG authors, bulk NDJSON for servers.

Both start from :func:`~fhir_case.export.resources.standalone_resources` (each entry's
resource with ``Type/id`` references) and return the files to write as ``{relative path:
bytes}``; writing them (all or nothing) is the command line's job.

- :func:`export_fsh`: a SUSHI project, one FSH instance per resource (:mod:`.fsh`);
- :func:`export_ndjson`: ``Type.ndjson`` files and a bulk-data manifest (:mod:`.ndjson`).
"""

from __future__ import annotations

from typing import Any

from fhir_case.document import record_timestamp
from fhir_case.errors import DocumentError, ExportError
from fhir_case.export.fsh import SushiProject, fsh_files
from fhir_case.export.ndjson import ndjson_files
from fhir_case.export.resources import Exported, standalone_resources
from fhir_case.packages import R4_CORE, PackageSet

__all__ = ["DEFAULT_CANONICAL", "Exported", "export_fsh", "export_ndjson", "standalone_resources"]

DEFAULT_CANONICAL = "http://example.org/fhir/fhir-case"


def export_ndjson(bundle: Any, source: str, *, base_url: str | None = None) -> dict[str, bytes]:
    """The NDJSON files and manifest of ``bundle`` (``source`` names it in messages and in the
    manifest's ``request``)."""
    resources = standalone_resources(bundle, source)
    return ndjson_files(
        resources,
        request=f"fhir-case export {source.rsplit('/', 1)[-1]} --format ndjson",
        transaction_time=_timestamp(bundle),
        base_url=base_url,
    )


def export_fsh(
    bundle: Any, source: str, packages: PackageSet, *, canonical: str = DEFAULT_CANONICAL
) -> dict[str, bytes]:
    """The SUSHI project of ``bundle``: its ``dependencies`` are the packages (from
    ``packages``) that define the profiles the resources claim, with their dependencies."""
    resources = standalone_resources(bundle, source)
    project = SushiProject(canonical, _dependencies(resources, packages, source))
    return fsh_files(resources, project)


def _dependencies(
    resources: list[Exported], packages: PackageSet, source: str
) -> list[tuple[str, str]]:
    by_name = {package.ref.name: package for package in packages.packages}
    queue = []
    for item in resources:
        for profile in (item.resource.get("meta") or {}).get("profile") or []:
            package = packages.package_of(str(profile))
            if package is None:
                raise ExportError(
                    f"{source}: Bundle.entry[{item.entry}] ({item.key}) claims the profile "
                    f"{profile}, which no FHIR package given defines, so SUSHI could not compile "
                    "its instance. Fix: install the package that defines it (`fhir-case packages "
                    "install NAME#VERSION`), or name it with --package"
                )
            queue.append(package)
    needed: dict[str, str] = {}
    while queue:
        package = queue.pop()
        if package.ref.name in needed:
            continue
        needed[package.ref.name] = package.ref.version
        queue += [by_name[name] for name in package.dependencies if name in by_name]
    needed.pop(R4_CORE.name, None)
    return sorted(needed.items())


def _timestamp(bundle: dict[str, Any]) -> str | None:
    """When the data were made: the Bundle's timestamp, else the record's own (its latest
    Provenance.recorded, else its latest date); None when nothing dates it."""
    if isinstance(bundle.get("timestamp"), str):
        return str(bundle["timestamp"])
    try:
        return record_timestamp(bundle.get("entry") or [])
    except DocumentError:
        return None
