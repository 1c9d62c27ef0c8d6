"""A minimal, escaping (X)HTML builder shared by the narratives and the case view.

Text passed as a plain ``str`` is always escaped; only ``Markup`` (built here) is inserted as is,
so no caller can inject markup by accident. The output is deterministic: attributes are written
in the order given, and every element is closed (valid XML and valid HTML alike).
"""

from __future__ import annotations

from collections.abc import Iterable

XHTML_NS = "http://www.w3.org/1999/xhtml"

# Elements that HTML writes without a closing tag; in XML they are written self-closed.
VOID_ELEMENTS = frozenset({"br", "hr", "img", "col", "area", "meta"})


class Markup(str):
    """A string that is already safe (X)HTML."""

    __slots__ = ()


def text(value: object) -> Markup:
    """Escape any value for use as element content or a double-quoted attribute value."""
    escaped = str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return Markup(escaped.replace('"', "&quot;"))


def join(parts: Iterable[str | Markup | None]) -> Markup:
    """Concatenate children, escaping those that are plain text and skipping ``None``."""
    out: list[str] = []
    for part in parts:
        if part is None:
            continue
        out.append(part if isinstance(part, Markup) else text(part))
    return Markup("".join(out))


def el(
    tag: str,
    *children: str | Markup | Iterable[str | Markup | None] | None,
    attrs: Iterable[tuple[str, object]] = (),
) -> Markup:
    """``<tag attrs>children</tag>``; ``None`` children and attributes are left out."""
    flat: list[str | Markup | None] = []
    for child in children:
        if child is None or isinstance(child, str):
            flat.append(child)
        else:
            flat.extend(child)
    rendered_attrs = "".join(
        f' {name}="{text(value)}"' for name, value in attrs if value is not None
    )
    if tag in VOID_ELEMENTS and not any(flat):
        return Markup(f"<{tag}{rendered_attrs}/>")
    return Markup(f"<{tag}{rendered_attrs}>{join(flat)}</{tag}>")
