"""``fhir-case packages``: install FHIR packages into the package cache, and list them."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from fhir_case.packages import DEFAULT_REGISTRY, PackageCache, install


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "packages",
        help="install and list FHIR packages (StructureDefinitions, ValueSets, CodeSystems)",
        description="Manage the FHIR package cache the validator reads "
        "(~/.fhir/packages, or $FHIR_PACKAGE_CACHE).",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    add = actions.add_parser(
        "install",
        help="install packages from .tgz files or by NAME#VERSION (with dependencies)",
    )
    add.add_argument(
        "specs",
        nargs="+",
        metavar="PATH.tgz|NAME#VERSION",
        help="a package tarball, or a package to download from the registry",
    )
    add.add_argument(
        "--registry",
        default=DEFAULT_REGISTRY,
        help=f"package registry base URL (default: {DEFAULT_REGISTRY})",
    )
    add.add_argument(
        "--offline",
        action="store_true",
        help="never download; report dependencies that are missing",
    )
    add.add_argument("--replace", action="store_true", help="reinstall packages already present")
    add.add_argument("--cache", type=Path, help="package cache folder (default: see above)")
    add.set_defaults(func=run_install)

    listing = actions.add_parser("list", help="list the packages in the cache")
    listing.add_argument("--cache", type=Path, help="package cache folder")
    listing.set_defaults(func=run_list)


def _cache(args: argparse.Namespace) -> PackageCache:
    return PackageCache(args.cache) if args.cache else PackageCache()


def run_install(args: argparse.Namespace) -> int:
    cache = _cache(args)
    report = install(
        args.specs,
        cache,
        registry=None if args.offline else args.registry,
        replace=args.replace,
    )
    for ref in report.installed:
        print(f"installed {ref} in {cache.path_of(ref)}")
    for ref in report.already_present:
        print(f"already installed {ref}")
    for ref in report.missing_dependencies:
        print(f"missing dependency {ref}: install it with `fhir-case packages install {ref}`")
    return 1 if report.missing_dependencies else 0


def run_list(args: argparse.Namespace) -> int:
    cache = _cache(args)
    packages = cache.installed()
    if not packages:
        print(f"no FHIR packages in {cache.root}")
        return 0
    for package in packages:
        deps = ", ".join(f"{n}#{v}" for n, v in sorted(package.dependencies.items()))
        print(f"{package.ref}" + (f"  (depends on {deps})" if deps else ""))
    return 0
