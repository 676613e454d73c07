"""Call checks for `mcp.safety`: what a call reaches once aliases and indirections are
resolved (`os.system`, `eval`, `subprocess.run`), `exec`/`eval`/`compile` of strings
that were decoded or assembled (and what those strings contain), `getattr` with
computed or introspective names, and imports by name."""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from mcp.safety_fold import fold
from mcp.safety_resolve import NAMESPACE, Resolver
from mcp.safety_rules import (
    ATTRIBUTE_CALLS,
    CALLS,
    CODE_CALLS,
    DECODER_METHODS,
    DECODER_SYMBOLS,
    HIGH,
    IMPORT_CALLS,
    INTROSPECTION,
    LOW,
    MEDIUM,
    MODULE_IMPORT_CALLS,
    RANK,
    canonical,
    lookup,
    module_entry,
)

Finding = dict[str, Any]
Nested = Callable[[str, int], "tuple[list[Finding], bool]"]
Entry = tuple[str, str, str]  # severity, rule, what it does

MAX_SCAN = 256  # nodes looked at to tell how a string passed to exec() was made
MAX_NESTING = 2  # exec('exec("...")'): strings analysed inside strings
MAX_NESTED = 16  # distinct strings analysed per source
_BUMP = {LOW: MEDIUM, MEDIUM: HIGH, HIGH: HIGH}


class CallChecks:
    """Mixed into `safety_walk.Analyzer`, which provides these."""

    resolver: Resolver
    depth: int
    nested: Nested
    truncated: bool
    dropped_count: int
    dropped: list[str]
    _roles: dict[int, str]
    _nested_results: dict[str, tuple[list[Finding], bool]]

    def add(self, node: ast.AST, rule: str, message: str, severity: str) -> None:
        ...

    def _reference(self, node: ast.AST) -> None:
        ...

    def _spelling(self, node: ast.AST) -> str | None:
        ...

    def _call(self, node: ast.Call) -> None:
        self._roles[id(node.func)] = "func"
        self._reference(node)  # what the call returns, when that is itself dangerous
        symbols = self.resolver.resolve(node.func)
        code = sorted(symbol for symbol in map(canonical, symbols) if symbol in CODE_CALLS)
        if code:
            self._code_call(node, code[0].partition(".")[2])
        elif symbols & ATTRIBUTE_CALLS or _method(node.func) == "__getattribute__":
            self._attribute_call(node, symbols)
        elif symbols & (IMPORT_CALLS | MODULE_IMPORT_CALLS):
            self._import_call(node)
        else:
            worst = worst_call(symbols)
            if worst is not None:
                shown, (severity, rule, what) = worst
                self.add(
                    node, rule, f"calls {shown}(){self._how(node.func, shown)}: {what}", severity
                )

    def _code_call(self, node: ast.Call, function: str) -> None:
        """exec/eval/compile: high either way; "decoded/computed" when the string was
        not written as a literal; then the string itself, when its value is known."""
        how = self._how(node.func, function)
        source = node.args[0] if node.args else None
        if source is None:
            source = next((k.value for k in node.keywords if k.arg == "source"), None)
        made = self._made(source) if source is not None else None
        if made:
            message = (
                f"calls {function}(){how} on a string made by {made}: "
                "executes a decoded/computed string"
            )
            self.add(node, "exec_decoded", message, HIGH)
        else:
            what = (
                "compiles a string to code"
                if function == "compile"
                else "runs a string as Python code"
            )
            self.add(node, "dangerous_call", f"calls {function}(){how}: {what}", HIGH)
        text = _text(source, self.resolver) if source is not None else None
        if text is None or self.depth >= MAX_NESTING:
            return
        if text not in self._nested_results:
            if len(self._nested_results) >= MAX_NESTED:
                self.truncated = True  # the call is flagged; what it runs is not read
                return
            self._nested_results[text] = self.nested(text, self.depth + 1)
        inner, truncated = self._nested_results[text]
        self.truncated = self.truncated or truncated
        for finding in inner:
            if finding["rule"] == "more_findings":
                self.dropped_count += finding["count"]
                self.dropped.append(finding["severity"])
            elif finding["rule"] != "syntax_error":  # it would fail; nothing runs
                message = f"in the code {function}() runs: {finding['message']}"
                self.add(node, finding["rule"], message, finding["severity"])

    def _attribute_call(self, node: ast.Call, symbols: frozenset[str]) -> None:
        """getattr/setattr/delattr/attrgetter/__getattribute__: a computed name (high on
        a module or builtins), or a constant name that walks into internals."""
        if isinstance(node.func, ast.Attribute) and node.func.attr == "__getattribute__":
            target: ast.AST | None = node.func.value
            names = node.args[:1]
        else:
            target = node.args[0] if node.args else None
            names = node.args if "operator.attrgetter" in symbols else node.args[1:2]
        for name_node in names:
            name = self.resolver.text(name_node)
            if name is None:
                base = self.resolver.resolve(target) if target is not None else frozenset()
                risky = sorted(symbol for symbol in base if _risky_base(symbol))
                on = f" on {risky[0]}" if risky else ""
                message = f"gets an attribute by computed name{on}"
                self.add(node, "dynamic_attribute", message, HIGH if risky else MEDIUM)
                continue
            for part in name.split("."):
                if part in INTROSPECTION:  # spelled as a string: a level more suspicious
                    message = f"gets {part} through a string: reaches types, globals or frames"
                    self.add(node, "introspection", message, _BUMP[INTROSPECTION[part]])

    def _import_call(self, node: ast.Call) -> None:
        argument = node.args[0] if node.args else None
        module = self.resolver.text(argument) if argument is not None else None
        written = _written(node.func) or "__import__"
        if module is None:
            message = f"imports a module by computed name through {written}()"
        elif isinstance(argument, ast.Constant):
            message = f"imports {module} through {written}()"
        else:
            message = f"imports a module by computed name through {written}() ({module!r})"
        self.add(node, "dynamic_import", message, HIGH)

    def _made(self, source: ast.AST) -> str | None:
        """How a string passed to exec() was made, when not written as a literal: its
        decoder (`base64.b64decode()`, `bytes.fromhex()`, `chr()`), another call, or
        "run-time string operations". Names are followed to what is assigned to them."""
        found: str | None = None
        todo: list[tuple[ast.AST, int]] = [(source, 0)]
        for _ in range(MAX_SCAN):
            if not todo:
                break
            node, hops = todo.pop()
            if isinstance(node, ast.Name):
                if node.id == "chr":
                    return "chr()"
                if hops < 3:
                    todo.extend((value, hops + 1) for value in self.resolver.assigned(node.id))
                continue
            if isinstance(node, ast.Call):
                for symbol in sorted(self.resolver.resolve(node.func)):
                    if symbol.startswith(DECODER_SYMBOLS):
                        return symbol.removeprefix("builtins.") + "()"
                method = _method(node.func)
                if method in DECODER_METHODS:
                    return f".{method}()"
                found = found or f"{_written(node.func) or 'a call'}()"
            elif isinstance(node, (ast.BinOp, ast.JoinedStr, ast.Subscript)):
                found = found or "run-time string operations"
            todo.extend((child, hops) for child in ast.iter_child_nodes(node))
        return found

    def _how(self, func: ast.AST, shown: str) -> str:
        """How a call was written when not plainly: ` (written o.system)`, ` (written
        ｅｖａｌ, which Python reads as eval)`, ` (reached indirectly)`."""
        written = _written(func)
        if written is None:
            return " (reached indirectly)"
        spelled = self._spelling(func)
        if spelled is not None and spelled != written:
            return f" (written {spelled}, which Python reads as {written})"
        return "" if written == shown else f" (written {written})"


def worst_call(symbols: frozenset[str]) -> tuple[str, Entry] | None:
    """The most severe CALLS entry among `symbols`, with its symbol as shown to users."""
    best: tuple[str, Entry] | None = None
    for symbol in sorted(symbols):
        entry = lookup(CALLS, symbol)
        if entry is not None and (best is None or RANK[entry[0]] > RANK[best[1][0]]):
            best = (canonical(symbol).removeprefix("builtins."), entry)
    return best


def _method(node: ast.AST) -> str | None:
    return node.attr if isinstance(node, ast.Attribute) else None


def _written(node: ast.AST) -> str | None:
    """The dotted text of a plain name or attribute chain (`o.system`), else None."""
    parts: list[str] = []
    for _ in range(8):
        if isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Name):
            parts.append(node.id)
            return ".".join(reversed(parts))
        else:
            return None
    return None


def _risky_base(symbol: str) -> bool:
    if symbol in ("builtins", NAMESPACE):
        return True
    entry = module_entry(symbol)
    return entry is not None and entry[0] != LOW


def _text(source: ast.AST, resolver: Resolver) -> str | None:
    """The text a string expression always has, decoders included
    (`base64.b64decode('...')` → its UTF-8 text); None when it is not constant."""
    resolver.tick()
    value = fold(source, resolver.resolve, resolver.assigned)
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return value
