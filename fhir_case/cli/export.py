"""``fhir-case export``: a Bundle as FSH (a SUSHI project) or as bulk NDJSON, in a folder."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from fhir_case.export.ndjson import MANIFEST, SUFFIX
from fhir_case.fileio import write_folder_atomic
from fhir_case.safeinput import read_resource

FORMATS = ("fsh", "ndjson")
# What an earlier FSH export (and a SUSHI run in it) leaves at the top of its folder.
FSH_ENTRIES = frozenset({"sushi-config.yaml", "input", "fsh-generated"})


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "export",
        help="export a bundle as FHIR Shorthand (for SUSHI) or as bulk NDJSON",
        description="Export the resources of a Bundle: --format fsh writes a SUSHI project "
        "(one FSH instance per resource, aliases, sushi-config.yaml); --format ndjson writes "
        "one Type.ndjson per resource type and a bulk-data manifest.json. References between "
        "entries become Type/id. The folder is written all at once; an existing folder is "
        "replaced only if it holds an earlier export.",
    )
    parser.add_argument("bundle", type=Path, metavar="BUNDLE", help="a Bundle file (JSON)")
    parser.add_argument("--format", choices=FORMATS, required=True, help="fsh or ndjson")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    parser.add_argument(
        "--base-url",
        metavar="URL",
        help="ndjson: where the folder will be served; makes the manifest's urls absolute, as "
        "$import needs (default: file names relative to the manifest)",
    )
    parser.add_argument(
        "--canonical",
        metavar="URL",
        help="fsh: the canonical URL in sushi-config.yaml (default: an example.org URL)",
    )
    parser.add_argument(
        "--package",
        action="append",
        default=None,
        metavar="PATH",
        help="fsh: a FHIR package (.tgz, folder, or NAME#VERSION) that defines claimed "
        "profiles; repeat for several. Default: the packages in the package cache",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    bundle = read_resource(args.bundle, "bundle")
    source = str(args.bundle)
    if args.format == "ndjson":
        from fhir_case.export import export_ndjson

        files = export_ndjson(bundle, source, base_url=args.base_url)
        write_folder_atomic(args.out, files, _earlier_ndjson)
        count = sum(data.count(b"\n") for name, data in files.items() if name != MANIFEST)
        print(f"wrote {args.out}: {len(files) - 1} NDJSON files ({count} resources) and {MANIFEST}")
        return 0
    from fhir_case.export import DEFAULT_CANONICAL, export_fsh
    from fhir_case.packages import PackageSet
    from fhir_case.validation import installed_package_specs

    specs = args.package if args.package is not None else installed_package_specs()
    files = export_fsh(
        bundle, source, PackageSet.load(specs), canonical=args.canonical or DEFAULT_CANONICAL
    )
    write_folder_atomic(args.out, files, _earlier_fsh)
    instances = sum(
        data.count(b"\nInstance: ") + data.startswith(b"Instance: ") for data in files.values()
    )
    print(
        f"wrote {args.out}: a SUSHI project with {instances} FSH instances; compile it with "
        f"`sushi build {args.out}`"
    )
    return 0


def _earlier_ndjson(folder: Path) -> bool:
    names = [path.name for path in folder.iterdir()]
    return MANIFEST in names and all(n == MANIFEST or n.endswith(SUFFIX) for n in names)


def _earlier_fsh(folder: Path) -> bool:
    names = {path.name for path in folder.iterdir()}
    return "sushi-config.yaml" in names and names <= FSH_ENTRIES
