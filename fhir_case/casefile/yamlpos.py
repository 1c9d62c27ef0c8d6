"""Read YAML into plain data while remembering the line of every value, for error messages.

The text is first checked by :func:`fhir_case.safeinput.check_yaml` (alias expansion and
nesting bounded); then only the values a case file can hold are built: mappings with plain keys,
sequences, text, whole and finite numbers, booleans and null. Anything else (``!!binary``,
``!!set``, a NaN, a number of thousands of digits, a text over FHIR's 1 MB limit, a control
character) is refused with its line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import yaml

from fhir_case.safeinput import CONTROL, FHIR_MAX_STRING, MAX_NUMBER_CHARS, check_yaml

Path_ = tuple[str | int, ...]

# libyaml's parser when PyYAML was built with it (several times faster), else the pure-Python one.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# The YAML tags of the values a case file holds; the others (binary, set, omap...) are refused.
PLAIN_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:map",
}


class _Loader(_SafeLoader):  # type: ignore[valid-type,misc]
    """A safe loader that keeps dates as text: the case model parses and checks them itself."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True)
class YamlSyntaxError(Exception):
    line: int | None
    problem: str
    fix: str = "correct the YAML syntax"
    path: Path_ = ()


@dataclass(frozen=True)
class PositionedData:
    """YAML data and the 1-based line of each value, keyed by its path from the root."""

    data: Any
    lines: dict[Path_, int]

    def line_of(self, path: Path_) -> int | None:
        """The line of ``path``, or of its nearest ancestor that has one."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return None


def load_positioned(text: str, source: str = "<text>") -> PositionedData:
    """Plain data with lines; InputFileError for text beyond the YAML limits (with ``source``)."""
    check_yaml(text, source, _Loader)
    loader = _Loader(text)
    lines: dict[Path_, int] = {}
    try:
        node = loader.get_single_node()
        data = _construct(node, (), lines, loader) if node is not None else None
    except yaml.MarkedYAMLError as error:
        # An unclosed bracket or quote is found later than it is made: the context names the
        # construct that was left open, which is where the fix belongs.
        mark = error.context_mark or error.problem_mark
        line = mark.line + 1 if mark is not None else None
        problem = " ".join(part for part in (error.context, error.problem) if part)
        raise YamlSyntaxError(line, problem) from None
    except yaml.reader.ReaderError as error:  # a character YAML does not allow
        line = text.count("\n", 0, error.position) + 1
        raise YamlSyntaxError(
            line,
            f"the character U+{error.character:04X} is not allowed in YAML"
            if isinstance(error.character, int)
            else "a character YAML does not allow",
            "remove it",
        ) from None
    finally:
        loader.dispose()
    return PositionedData(data, lines)


def _construct(node: yaml.Node, path: Path_, lines: dict[Path_, int], loader: _Loader) -> Any:
    line = node.start_mark.line + 1
    lines[path] = line
    if node.tag not in PLAIN_TAGS:
        raise YamlSyntaxError(
            line,
            f"the YAML tag {node.tag.replace('tag:yaml.org,2002:', '!!')} is not allowed here",
            "write a plain value: text, a number, true/false, a list or a mapping",
            path,
        )
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                raise YamlSyntaxError(
                    key_line, "a key must be a plain name, not a list or mapping", "use a name"
                )
            key = str(key_node.value)
            if key in result:
                raise YamlSyntaxError(key_line, f"duplicate key '{key}'")
            result[key] = _construct(value_node, (*path, key), lines, loader)
            # A field is where its key is (a block value starts on the next line).
            lines[(*path, key)] = key_line
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _construct(item, (*path, index), lines, loader) for index, item in enumerate(node.value)
        ]
    return _scalar(node, path, line, loader)


def _scalar(node: yaml.Node, path: Path_, line: int, loader: _Loader) -> Any:
    text = str(node.value)
    if node.tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float"):
        if len(text) > MAX_NUMBER_CHARS:
            raise YamlSyntaxError(
                line,
                f"a number of {len(text)} characters; at most {MAX_NUMBER_CHARS} are read "
                "(limit MAX_NUMBER_CHARS, see docs/limits.md)",
                "write the number the source gives",
                path,
            )
        value = loader.construct_object(node)
        if isinstance(value, float) and not math.isfinite(value):
            raise YamlSyntaxError(
                line, f"'{text}' is not a finite number", "write the number the source gives", path
            )
        return value
    if node.tag == "tag:yaml.org,2002:str":
        if len(text) > FHIR_MAX_STRING:
            raise YamlSyntaxError(
                line,
                f"a text of {len(text)} characters; FHIR strings are at most {FHIR_MAX_STRING} "
                "characters (1 MB)",
                "shorten it",
                path,
            )
        control = CONTROL.search(text)
        if control:
            raise YamlSyntaxError(
                line,
                f"the text holds the control character U+{ord(control.group()):04X}, which FHIR "
                "strings do not allow (only tab, line feed and carriage return)",
                "remove it",
                path,
            )
    return loader.construct_object(node)
