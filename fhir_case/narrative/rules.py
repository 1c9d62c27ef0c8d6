"""FHIR R4's narrative rules, checked on a ``Narrative.div`` string.

The rules (https://hl7.org/fhir/R4/narrative.html, invariants txt-1 and txt-2):

- the div is well-formed XML, a ``div`` element in the XHTML namespace, with no DOCTYPE and no
  processing instruction, and every element inside it is in the XHTML namespace;
- it uses only the basic HTML formatting elements and their attributes (chapters 7-11 and 15 of
  HTML 4.0, ``a``, ``img``, tables, lists) and inline ``style``: no script, style sheet, form,
  frame, object, head or body, and no event attribute such as ``onclick``;
- it has some non-whitespace content (txt-2);
- block elements do not sit inside a paragraph, and list and table parts sit in their parents.

A link or image to another site is legal FHIR but makes the narrative depend on the network,
so it is reported as a warning ("external reference"); ``javascript:`` URLs are errors.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from fhir_case.narrative.xhtml import XHTML_NS
from fhir_case.validation.issues import Issue, Severity

LAYER = "narrative"

ALLOWED_ELEMENTS = frozenset(
    [
        "p",
        "br",
        "div",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "a",
        "span",
        "b",
        "em",
        "i",
        "strong",
        "small",
        "big",
        "tt",
        "dfn",
        "q",
        "var",
        "abbr",
        "acronym",
        "cite",
        "blockquote",
        "hr",
        "address",
        "bdo",
        "kbd",
        "sub",
        "sup",
        "ul",
        "ol",
        "li",
        "dl",
        "dt",
        "dd",
        "pre",
        "table",
        "caption",
        "colgroup",
        "col",
        "thead",
        "tr",
        "tfoot",
        "tbody",
        "th",
        "td",
        "code",
        "samp",
        "img",
        "map",
        "area",
    ]
)
ALLOWED_ATTRIBUTES = frozenset(
    [
        "title",
        "style",
        "class",
        "id",
        "lang",
        "xml:lang",
        "dir",
        "accesskey",
        "tabindex",
        "span",
        "width",
        "align",
        "valign",
        "char",
        "charoff",
        "abbr",
        "axis",
        "headers",
        "scope",
        "rowspan",
        "colspan",
    ]
)
# Attributes allowed on one element only, as ``element.attribute``.
ELEMENT_ATTRIBUTES = frozenset(
    [
        "a.href",
        "a.name",
        "a.charset",
        "a.type",
        "a.hreflang",
        "a.rel",
        "a.rev",
        "a.shape",
        "a.coords",
        "img.src",
        "img.border",
        "img.alt",
        "img.longdesc",
        "img.height",
        "img.width",
        "img.usemap",
        "img.ismap",
        "map.name",
        "area.shape",
        "area.coords",
        "area.href",
        "area.nohref",
        "area.alt",
        "table.summary",
        "table.width",
        "table.border",
        "table.frame",
        "table.rules",
        "table.cellspacing",
        "table.cellpadding",
        "pre.space",
        "td.nowrap",
        "blockquote.cite",
        "q.cite",
    ]
)
BLOCK_ELEMENTS = frozenset({"div", "p", "table", "ul", "ol", "blockquote", "pre", "dl"})
# Elements that are only meaningful inside one of the given parents.
REQUIRED_PARENTS: dict[str, frozenset[str]] = {
    "li": frozenset({"ul", "ol"}),
    "tr": frozenset({"table", "thead", "tbody", "tfoot"}),
    "td": frozenset({"tr"}),
    "th": frozenset({"tr"}),
    "thead": frozenset({"table"}),
    "tbody": frozenset({"table"}),
    "tfoot": frozenset({"table"}),
    "caption": frozenset({"table"}),
    "dt": frozenset({"dl"}),
    "dd": frozenset({"dl"}),
}
URL_ATTRIBUTES = frozenset({"href", "src", "longdesc", "usemap", "cite"})
_EXTERNAL_URL = re.compile(r"^\s*(?:[a-zA-Z][a-zA-Z0-9+.-]*:|//)")
_STYLE_URL = re.compile(r"url\s*\(|@import|expression\s*\(", re.IGNORECASE)
_XML_NS = "http://www.w3.org/XML/1998/namespace"


def check_narrative(div: object, location: str = "text.div") -> list[Issue]:
    """All breaches of FHIR's narrative rules in ``div``; an empty list means it is valid."""
    if not isinstance(div, str):
        return [_issue(location, "error", f"the div is a {type(div).__name__}, not a string")]
    if re.search(r"<!DOCTYPE", div, re.IGNORECASE):
        return [_issue(location, "error", "a narrative must not carry a DOCTYPE")]
    builder = ET.TreeBuilder(insert_pis=True)
    parser = ET.XMLParser(target=builder)
    try:
        parser.feed(div)
        root = parser.close()
    except ET.ParseError as error:
        return [
            _issue(
                location,
                "error",
                f"the div is not well-formed XML: {error}",
                "escape <, > and & in text, close every element, and use only XML's own "
                "entities (&amp; &lt; &gt; &quot; &apos;) or numeric character references",
            )
        ]
    issues: list[Issue] = []
    namespace, name = _split(root.tag)
    if name != "div" or namespace != XHTML_NS:
        issues.append(
            _issue(
                location,
                "error",
                f"the narrative root is {root.tag!r}; it must be a div in the XHTML namespace",
                f'write <div xmlns="{XHTML_NS}">…</div>',
            )
        )
    _check_element(root, location + "/div", None, False, issues)
    if not "".join(root.itertext()).strip() and root.find(f".//{{{XHTML_NS}}}img") is None:
        issues.append(_issue(location, "error", "the narrative has no content (txt-2)"))
    return issues


def _check_element(
    element: ET.Element,
    path: str,
    parent_name: str | None,
    in_paragraph: bool,
    issues: list[Issue],
) -> None:
    if not isinstance(element.tag, str):  # a processing instruction
        issues.append(_issue(path, "error", "processing instructions are not allowed"))
        return
    namespace, name = _split(element.tag)
    if namespace != XHTML_NS:
        issues.append(
            _issue(path, "error", f"element {element.tag!r} is not in the XHTML namespace")
        )
    elif name not in ALLOWED_ELEMENTS:
        what = "scripts are" if name == "script" else f"element <{name}> is"
        issues.append(
            _issue(path, "error", f"{what} not allowed in a narrative", _ALLOWED_ELEMENTS_HINT)
        )
    if in_paragraph and name in BLOCK_ELEMENTS:
        issues.append(_issue(path, "error", f"block element <{name}> inside a paragraph"))
    required = REQUIRED_PARENTS.get(name)
    if required is not None and parent_name not in required:
        issues.append(
            _issue(
                path,
                "error",
                f"<{name}> must be inside {' or '.join(f'<{p}>' for p in sorted(required))}, "
                f"not <{parent_name}>",
            )
        )
    for attribute, value in element.attrib.items():
        _check_attribute(name, attribute, value, path, issues)
    for index, child in enumerate(element):
        child_name = _split(child.tag)[1] if isinstance(child.tag, str) else "?"
        _check_element(
            child,
            f"{path}/{child_name}[{index}]",
            name,
            in_paragraph or name == "p",
            issues,
        )


def _check_attribute(
    element_name: str, attribute: str, value: str, path: str, issues: list[Issue]
) -> None:
    namespace, local = _split(attribute)
    qualified = f"xml:{local}" if namespace == _XML_NS else local
    where = f"{path}/@{qualified}"
    if local.lower().startswith("on"):
        issues.append(_issue(where, "error", f"event attribute {qualified!r} is not allowed"))
        return
    if not (
        qualified.startswith("xmlns")
        or qualified in ALLOWED_ATTRIBUTES
        or f"{element_name}.{qualified}" in ELEMENT_ATTRIBUTES
    ):
        issues.append(
            _issue(where, "error", f"attribute {qualified!r} is not allowed on <{element_name}>")
        )
        return
    if local in URL_ATTRIBUTES:
        stripped = value.strip().lower()
        if stripped.startswith(("javascript:", "vbscript:")):
            issues.append(_issue(where, "error", "script URLs are not allowed"))
        elif _EXTERNAL_URL.match(value) and not stripped.startswith(("data:", "urn:")):
            issues.append(
                _issue(
                    where,
                    "warning",
                    f"external reference {value!r}: the narrative depends on the network",
                    "link to a resource in the bundle (#id or Type/id) or inline the content",
                )
            )
    if local == "style" and _STYLE_URL.search(value):
        issues.append(
            _issue(where, "error", "inline styles must not load anything (url(), @import)")
        )


_ALLOWED_ELEMENTS_HINT = "use only " + ", ".join(sorted(ALLOWED_ELEMENTS))


def _split(tag: str) -> tuple[str | None, str]:
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return None, tag


def _issue(location: str, severity: Severity, message: str, hint: str | None = None) -> Issue:
    return Issue(location=location, severity=severity, layer=LAYER, message=message, hint=hint)
