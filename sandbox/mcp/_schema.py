"""A tool's inputSchema made readable from Python: a docstring section and a
signature, so `help(mcp_fs.read_file)` shows what to pass."""

from __future__ import annotations

import inspect
import keyword
from collections.abc import Mapping
from typing import Any

_PYTHON_TYPES: dict[str, type] = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": bool,
    "array": list,
    "object": dict,
}


class _Optional:
    """Default shown for optional parameters: omitted unless passed."""

    def __repr__(self) -> str:
        return "..."


OPTIONAL = _Optional()


def properties(schema: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    props = schema.get("properties")
    if not isinstance(props, dict):
        return {}
    return {name: (spec if isinstance(spec, dict) else {}) for name, spec in props.items()}


def required(schema: Mapping[str, Any]) -> set[str]:
    names = schema.get("required")
    return {name for name in names if isinstance(name, str)} if isinstance(names, list) else set()


def type_name(spec: Mapping[str, Any]) -> str:
    """The JSON Schema type in a few words: `string`, `array of integer`, `one of: a, b`."""
    if isinstance(spec.get("enum"), list):
        return "one of: " + ", ".join(repr(value) for value in spec["enum"])
    kind = spec.get("type")
    if isinstance(kind, list):
        return " or ".join(str(k) for k in kind)
    if kind == "array" and isinstance(spec.get("items"), dict):
        return "array of " + type_name(spec["items"])
    if isinstance(kind, str):
        return kind
    for union in ("anyOf", "oneOf"):
        if isinstance(spec.get(union), list):
            return " or ".join(type_name(s) for s in spec[union] if isinstance(s, dict))
    return "any"


def parameters_doc(schema: Mapping[str, Any]) -> str:
    """The "Parameters:" section of a tool function's docstring."""
    props, needed = properties(schema), required(schema)
    if not props:
        return "Parameters: none."
    lines = ["Parameters (keyword arguments):"]
    for name, spec in props.items():
        notes = [type_name(spec), "required" if name in needed else "optional"]
        if "default" in spec:
            notes.append(f"default {spec['default']!r}")
        line = f"    {name} ({', '.join(notes)})"
        description = spec.get("description")
        if isinstance(description, str) and description.strip():
            line += ": " + " ".join(description.split())
        lines.append(line)
    return "\n".join(lines)


def signature(schema: Mapping[str, Any]) -> inspect.Signature:
    """Keyword-only parameters from the schema, as help() and inspect show them.

    Display only: the function takes any keywords (and an optional dict of arguments
    first, for names that are not Python identifiers)."""
    props, needed = properties(schema), required(schema)
    params = []
    for name, spec in props.items():
        if not name.isidentifier() or keyword.iskeyword(name):
            return inspect.Signature(
                [inspect.Parameter("arguments", inspect.Parameter.VAR_KEYWORD)]
            )
        kind = spec.get("type")
        annotation = (
            _PYTHON_TYPES.get(kind, inspect.Parameter.empty)
            if isinstance(kind, str)
            else inspect.Parameter.empty
        )
        default = inspect.Parameter.empty if name in needed else OPTIONAL
        params.append(
            inspect.Parameter(
                name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
            )
        )
    return inspect.Signature(params)
