"""The walk behind `mcp.safety`: visits every node of a parsed cell, iteratively (no
recursion, whatever the nesting), under a wall-clock budget, and reports dangerous
imports, names, references and introspection chains (calls: `safety_calls`)."""

from __future__ import annotations

import ast
import re
import time

from mcp.safety_calls import CallChecks, Finding, Nested, worst_call
from mcp.safety_resolve import NAMESPACE, Resolver
from mcp.safety_rules import (
    HIGH,
    INTROSPECTION,
    LOW,
    MEDIUM,
    NAMES,
    RANK,
    REFERENCES,
    canonical,
    module_entry,
)

MAX_KEPT = 1000  # findings kept per analysis; the rest are only counted
_LINES = re.compile(r"\r\n|\r|\n")  # the line ends Python counts


class OutOfTime(Exception):
    """The walk's wall-clock budget ran out."""


class Budget:
    """The wall-clock budget, checked every 256 ticks. Shared by the analyzer and its
    resolver without either referring to the other (no reference cycle to keep a large
    tree alive until the next collection)."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.count = 0

    def tick(self) -> None:
        self.count += 1
        if not self.count & 0xFF and time.monotonic() > self.deadline:
            raise OutOfTime


class Analyzer(CallChecks):
    """Findings for one source (a cell, or a string it passes to exec)."""

    def __init__(self, source: str, deadline: float, depth: int, nested: Nested) -> None:
        self.source = source
        self.depth = depth
        self.nested = nested
        self.findings: list[Finding] = []
        self.truncated = False
        self.dropped: list[str] = []  # severities of the findings not kept
        self.dropped_count = 0
        self.budget = Budget(deadline)
        self.tick = self.budget.tick
        self.resolver = Resolver(self.tick)
        self._roles: dict[int, str] = {}  # id(node) → "func" | "base", set by its parent
        self._chained: set[int] = set()  # attributes already reported as part of a chain
        self._nested_results: dict[str, tuple[list[Finding], bool]] = {}
        self._lines: list[str] | None = None

    def run(self, tree: ast.AST) -> None:
        """Collects bindings, settles aliases, then reports. Raises OutOfTime."""
        nodes: list[ast.AST] = []  # preorder: a parent comes before its children
        stack = [tree]
        while stack:
            node = stack.pop()
            self.tick()
            nodes.append(node)
            children = list(ast.iter_child_nodes(node))
            children.reverse()
            stack.extend(children)
        for node in nodes:
            self.tick()
            self.resolver.bind(node)
        self.resolver.settle()
        for node in nodes:
            self.tick()
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                self._import(node)
            elif isinstance(node, ast.Call):
                self._call(node)
            elif isinstance(node, ast.Name):
                self._name(node)
            elif isinstance(node, ast.Attribute):
                self._attribute(node)
            elif isinstance(node, ast.Subscript):
                self._subscript(node)

    # -- nodes ---------------------------------------------------------------------------------

    def _import(self, node: ast.Import | ast.ImportFrom) -> None:
        """One finding per statement, as severe as its worst module, naming each."""
        modules: list[str] = []
        if isinstance(node, ast.Import):
            for alias in node.names:  # `import a.b` binds a and loads a.b: both count
                top = alias.name.partition(".")[0]
                if not alias.asname:
                    modules.append(top)
                if alias.asname or module_entry(alias.name) != module_entry(top):
                    modules.append(alias.name)
        elif node.level == 0 and node.module:  # relative imports: the user's own modules
            for alias in node.names:
                modules.append(node.module if alias.name == "*" else f"{node.module}.{alias.name}")
        flagged = [(entry, module) for module in modules if (entry := module_entry(module))]
        if flagged:
            severity = max((entry[0] for entry, _ in flagged), key=RANK.__getitem__)
            what = "; ".join(f"{module}: {entry[1]}" for entry, module in flagged)
            self.add(node, "dangerous_import", f"imports {what}", severity)

    def _name(self, node: ast.Name) -> None:
        entry = NAMES.get(node.id)
        if entry is not None:
            self.add(node, entry[1], f"refers to {node.id}: {entry[2]}", entry[0])
        if isinstance(node.ctx, ast.Load):
            self._reference(node)

    def _attribute(self, node: ast.Attribute) -> None:
        self._roles[id(node.value)] = "base"
        if node.attr in INTROSPECTION and id(node) not in self._chained:
            self._chain(node)
        if isinstance(node.ctx, ast.Load):
            self._reference(node)

    def _subscript(self, node: ast.Subscript) -> None:
        self._roles[id(node.value)] = "base"
        base = self.resolver.resolve(node.value)
        if base & {"builtins", NAMESPACE} and self.resolver.text(node.slice) is None:
            where = "__builtins__" if "builtins" in base else "a namespace dict"
            self.add(node, "dynamic_attribute", f"looks up a computed name in {where}", HIGH)
        if isinstance(node.ctx, ast.Load):
            self._reference(node)

    def _reference(self, node: ast.AST) -> None:
        """A value that is itself a dangerous symbol: `sys.modules` wherever it is used,
        builtins reached through `globals()['__builtins__']` and the like, a dangerous
        function passed around uncalled (`map(eval, ...)`, `{'f': os.system}`), or bound
        to a name never called directly (`run = os.system` in a class body)."""
        role = self._roles.pop(id(node), None)
        symbols = self.resolver.resolve(node)
        if not symbols:
            return
        inner = self._inner_symbols(node)  # reported where they first appear
        for symbol in sorted(symbols - inner):
            entry = REFERENCES.get(canonical(symbol))
            if entry is not None:
                self.add(node, entry[1], f"uses {canonical(symbol)}: {entry[2]}", entry[0])
        if "builtins" in symbols and "builtins" not in inner and not isinstance(node, ast.Name):
            self.add(node, "builtins_access", "reaches the builtins module indirectly", MEDIUM)
        alias = self.resolver.alias_values.get(id(node))
        if role is None and (alias is None or alias not in self.resolver.called):
            worst = worst_call(symbols)
            if worst is not None and worst[1][0] != LOW:
                shown, (severity, _, what) = worst
                message = f"passes {shown} around without calling it directly: {what}"
                self.add(node, "indirect_reference", message, severity)

    def _inner_symbols(self, node: ast.AST) -> frozenset[str]:
        if isinstance(node, (ast.Attribute, ast.Subscript)):
            return self.resolver.resolve(node.value)
        if isinstance(node, ast.Call):
            inner: set[str] = set()
            for arg in node.args[:2]:
                inner.update(self.resolver.resolve(arg))
            return frozenset(inner)
        return frozenset()

    def _chain(self, node: ast.Attribute) -> None:
        """`().__class__.__bases__[0].__subclasses__()`: one finding for the chain,
        high when it walks through two or more of these attributes past `__class__`
        and `__dict__`; a lone `self.__class__` is low."""
        attributes: list[str] = []
        current: ast.AST = node
        for _ in range(64):
            if isinstance(current, ast.Attribute):
                if current.attr in INTROSPECTION:
                    attributes.append(current.attr)
                    self._chained.add(id(current))
                current = current.value
            elif isinstance(current, ast.Subscript):
                current = current.value
            elif isinstance(current, ast.Call):
                current = current.func
            else:
                break
        attributes.reverse()
        severities = {INTROSPECTION[attribute] for attribute in attributes}
        several = len(set(attributes)) >= 2
        if HIGH in severities or (several and MEDIUM in severities):
            severity = HIGH
        else:
            severity = MEDIUM if several else max(severities, key=RANK.__getitem__)
        if several:
            path = ".".join(attributes)
            message = f"walks {path}: reaches other classes, functions' globals or frames"
        else:
            message = f"uses {attributes[0]}: introspection"
        self.add(node, "introspection", message, severity)

    # -- output ----------------------------------------------------------------------------------

    def add(self, node: ast.AST, rule: str, message: str, severity: str) -> None:
        if len(self.findings) >= MAX_KEPT:
            self.dropped_count += 1
            if severity not in self.dropped:
                self.dropped.append(severity)
            return
        line = getattr(node, "lineno", 0)
        column = self._column(line, getattr(node, "col_offset", 0))
        self.findings.append(
            {"rule": rule, "message": message, "line": line, "col": column, "severity": severity}
        )

    def _column(self, line: int, offset: int) -> int:
        """1-based character column from the parser's UTF-8 byte offset."""
        text = self._line(line)
        if text is None or text.isascii():
            return offset + 1
        return len(text.encode("utf-8", "surrogatepass")[:offset].decode("utf-8", "ignore")) + 1

    def _spelling(self, node: ast.AST) -> str | None:
        """The source text of a one-line node, as written (before NFKC normalisation)."""
        line = getattr(node, "lineno", 0)
        text = self._line(line)
        if text is None or getattr(node, "end_lineno", None) != line:
            return None
        raw = text.encode("utf-8", "surrogatepass")
        return raw[getattr(node, "col_offset", 0) : getattr(node, "end_col_offset", 0)].decode(
            "utf-8", "replace"
        )

    def _line(self, line: int) -> str | None:
        if self._lines is None:
            self._lines = _LINES.split(self.source)
        return self._lines[line - 1] if 0 < line <= len(self._lines) else None
