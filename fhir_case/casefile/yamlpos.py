"""Read YAML into plain data while remembering the line of every value, for error messages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

Path_ = tuple[str | int, ...]


# libyaml's parser when PyYAML was built with it (several times faster), else the pure-Python one.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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


def load_positioned(text: str) -> PositionedData:
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
    finally:
        loader.dispose()
    return PositionedData(data, lines)


def _construct(node: yaml.Node, path: Path_, lines: dict[Path_, int], loader: _Loader) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(loader.construct_object(key_node))
            if key in result:
                raise YamlSyntaxError(key_node.start_mark.line + 1, f"duplicate key '{key}'")
            result[key] = _construct(value_node, (*path, key), lines, loader)
            # A field is where its key is (a block value starts on the next line).
            lines[(*path, key)] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _construct(item, (*path, index), lines, loader) for index, item in enumerate(node.value)
        ]
    return loader.construct_object(node)
