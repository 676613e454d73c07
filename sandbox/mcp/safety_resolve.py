"""What the names and expressions of a cell refer to, for `mcp.safety`: a flow-insensitive
table of aliases (`import os as o`, `from os import system as s`, `e = eval`,
`b = __builtins__`, `def f(run=exec)`, `for f in (eval, exec)`) and a resolver that
follows attribute access, `getattr` with a constant name, `__builtins__[...]`,
`globals()[...]`, `vars(m)[...]`, `sys.modules[...]`, `print.__self__`,
`__import__('o' + 's')` and `importlib.import_module(...)` to dotted symbols such as
`builtins.eval` or `os.system`. Every walk here is bounded in depth or in steps."""

from __future__ import annotations

import ast
import builtins
from collections.abc import Callable

from mcp.safety_fold import fold
from mcp.safety_rules import (
    ATTRIBUTE_CALLS,
    BUILTIN_NAMES,
    IMPORT_CALLS,
    MODULE_IMPORT_CALLS,
    NAMESPACE_CALLS,
    module_entry,
)

NAMESPACE = "<namespace>"  # the dict globals()/locals()/vars() return
MAX_DEPTH = 12
MAX_ACTIVE = 24  # resolutions in progress (they fold strings, which resolve callees)
MAX_TEXT_NESTING = 4  # string folds started inside resolutions
MAX_SYMBOLS = 16  # per name or expression
MAX_VALUES = 8  # assigned values remembered per name
MAX_ROUNDS = 8  # passes over the assignments to follow alias chains
_LOOKUPS = (".get", ".__getitem__", ".pop", ".setdefault")
_TRANSPARENT = ("__dict__", "__call__")  # m.__dict__[k] is m.k; f.__call__ is f
_ALIASABLE = (
    ast.Name,
    ast.Attribute,
    ast.Subscript,
    ast.Call,
    ast.NamedExpr,
    ast.IfExp,
    ast.BoolOp,
)
_TO_BUILTINS = frozenset({"__builtins__", "f_builtins"})
_TO_NAMESPACE = frozenset({"__globals__", "f_globals", "f_locals"})
_EMPTY: frozenset[str] = frozenset()


class Resolver:
    """Aliases of one source, and the symbols its expressions resolve to."""

    def __init__(self, tick: Callable[[], None]) -> None:
        self.tick = tick  # called per binding and per string fold: the caller's time budget
        self.aliases: dict[str, set[str]] = {}
        self.values: dict[str, list[ast.AST]] = {}
        self.stars: list[str] = []  # modules imported with `from m import *`
        self.alias_values: dict[int, str] = {}  # id of a value bound to a plain name → name
        self.called: set[str] = set()  # names called directly somewhere: `e(...)`
        self._pending: list[tuple[str, ast.AST]] = []
        self._memo: dict[int, frozenset[str]] = {}
        self._active = 0

    # -- bindings ----------------------------------------------------------------------------

    def bind(self, node: ast.AST) -> None:
        """Records the names `node` binds (and the names called directly)."""
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name):
                self.called.add(node.func.id)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    self._add(alias.asname, alias.name)
                else:
                    top = alias.name.partition(".")[0]
                    self._add(top, top)
        elif isinstance(node, ast.ImportFrom):
            if node.level or not node.module:
                return  # relative imports reach the user's own modules
            for alias in node.names:
                if alias.name != "*":
                    self._add(alias.asname or alias.name, f"{node.module}.{alias.name}")
                elif len(self.stars) < MAX_SYMBOLS:
                    self.stars.append(node.module)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                self._pair(target, node.value)
        elif isinstance(node, (ast.AnnAssign, ast.NamedExpr)):
            if node.value is not None:
                self._pair(node.target, node.value)
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
            if isinstance(node.iter, (ast.List, ast.Tuple, ast.Set)):
                for element in node.iter.elts[:MAX_VALUES]:
                    self._pair(node.target, element)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            arguments = node.args
            positional = arguments.posonlyargs + arguments.args
            for arg, default in zip(positional[::-1], arguments.defaults[::-1]):
                self._pair_name(arg.arg, default)
            for arg, maybe in zip(arguments.kwonlyargs, arguments.kw_defaults):
                if maybe is not None:
                    self._pair_name(arg.arg, maybe)

    def settle(self) -> None:
        """Follows alias chains (`e = eval; f = e`) until nothing changes, MAX_ROUNDS at
        most."""
        for _ in range(MAX_ROUNDS):
            changed = False
            self._memo.clear()
            for name, value in self._pending:
                self.tick()
                symbols = self.resolve(value)
                known = self.aliases.setdefault(name, set())
                if not symbols <= known and len(known) < MAX_SYMBOLS:
                    known.update(sorted(symbols - known)[: MAX_SYMBOLS - len(known)])
                    changed = True
            if not changed:
                break
        self._memo.clear()

    def _pair(self, target: ast.AST, value: ast.AST) -> None:
        pairs = [(target, value)]
        for _ in range(64):  # nested tuple unpacking, bounded
            if not pairs:
                return
            target, value = pairs.pop()
            if isinstance(target, ast.Name):
                self._pair_name(target.id, value)
            elif isinstance(target, (ast.Tuple, ast.List)):
                if isinstance(value, (ast.Tuple, ast.List)) and len(target.elts) == len(value.elts):
                    pairs.extend(zip(target.elts, value.elts))

    def _pair_name(self, name: str, value: ast.AST) -> None:
        values = self.values.setdefault(name, [])
        if len(values) < MAX_VALUES:
            values.append(value)
        if isinstance(value, _ALIASABLE):
            self._pending.append((name, value))
            self.alias_values[id(value)] = name

    def _add(self, name: str, symbol: str) -> None:
        known = self.aliases.setdefault(name, set())
        if len(known) < MAX_SYMBOLS:
            known.add(symbol)

    # -- resolving ---------------------------------------------------------------------------

    def assigned(self, name: str) -> list[ast.AST]:
        """The expressions assigned to `name` anywhere (MAX_VALUES at most)."""
        return self.values.get(name, [])

    def text(self, node: ast.AST) -> str | None:
        """The constant string `node` evaluates to, if it is built from constants."""
        if self._active > MAX_TEXT_NESTING:
            return None
        self.tick()
        value = fold(node, self.resolve, self.assigned)
        return value if isinstance(value, str) else None

    def resolve(self, node: ast.AST, depth: int = 0) -> frozenset[str]:
        """Dotted symbols `node` may evaluate to (`builtins.eval`, `os`, `os.system`)."""
        if depth > MAX_DEPTH or self._active >= MAX_ACTIVE:
            return _EMPTY
        key = id(node)
        found = self._memo.get(key)
        if found is None:
            self._active += 1
            try:
                found = self._resolve(node, depth + 1)
            finally:
                self._active -= 1
            if len(found) > MAX_SYMBOLS:
                found = frozenset(sorted(found)[:MAX_SYMBOLS])
            self._memo[key] = found
        return found

    def name(self, name: str) -> frozenset[str]:
        """A bare name: its aliases, the builtin of that name, `__builtins__` (the
        builtins module), or failing those a name from a star-imported module."""
        symbols = set(self.aliases.get(name, ()))
        if name in BUILTIN_NAMES:
            symbols.add("builtins." + name)
        if name == "__builtins__":
            symbols.add("builtins")
        if not symbols:
            symbols.update(f"{module}.{name}" for module in self.stars)
        return frozenset(symbols)

    def _resolve(self, node: ast.AST, depth: int) -> frozenset[str]:
        if isinstance(node, ast.Name):
            return self.name(node.id)
        if isinstance(node, ast.Attribute):
            if node.attr == "__self__" and _builtin_function(node.value):
                return frozenset({"builtins"})  # print.__self__ is the builtins module
            if node.attr in _TO_BUILTINS:
                return frozenset({"builtins"})  # f.__builtins__, frame.f_builtins
            if node.attr in _TO_NAMESPACE:
                return frozenset({NAMESPACE})  # f.__globals__, frame.f_globals
            base = self.resolve(node.value, depth)
            return frozenset(_member(symbol, node.attr) for symbol in base if _room(symbol))
        if isinstance(node, ast.Subscript):
            key = self.text(node.slice)
            return _EMPTY if key is None else self._lookup(self.resolve(node.value, depth), key)
        if isinstance(node, ast.Call):
            return self._call(node, depth)
        if isinstance(node, ast.NamedExpr):
            return self.resolve(node.value, depth)
        if isinstance(node, ast.IfExp):
            return self.resolve(node.body, depth) | self.resolve(node.orelse, depth)
        if isinstance(node, ast.BoolOp):
            symbols: set[str] = set()
            for value in node.values[:MAX_SYMBOLS]:
                symbols.update(self.resolve(value, depth))
            return frozenset(symbols)
        return _EMPTY

    def _call(self, node: ast.Call, depth: int) -> frozenset[str]:
        """What a call returns, for the calls that return a module, a namespace or an
        attribute named by a constant."""
        args = node.args
        symbols: set[str] = set()
        for function in self.resolve(node.func, depth):
            if function in ATTRIBUTE_CALLS and function != "operator.attrgetter":
                attribute = self.text(args[1]) if len(args) >= 2 else None
                if attribute is not None:
                    base = self.resolve(args[0], depth)
                    symbols.update(_member(symbol, attribute) for symbol in base if _room(symbol))
            elif function in IMPORT_CALLS or function in MODULE_IMPORT_CALLS:
                module = self.text(args[0]) if args else None
                if module:
                    # __import__('a.b') returns a, unless a fromlist asks for a.b.
                    leaf = function in MODULE_IMPORT_CALLS or len(args) >= 4
                    leaf = leaf or any(keyword.arg == "fromlist" for keyword in node.keywords)
                    symbols.add(module if leaf else module.partition(".")[0])
            elif function in NAMESPACE_CALLS:
                symbols.update(self.resolve(args[0], depth) if args else {NAMESPACE})
            elif function.endswith(_LOOKUPS) and args:
                key = self.text(args[0])
                if key is not None:
                    symbols.update(self._lookup(frozenset({function.rpartition(".")[0]}), key))
        return frozenset(symbols)

    def _lookup(self, bases: frozenset[str], key: str) -> frozenset[str]:
        """`base[key]`: a module of sys.modules, a name of a namespace dict, a member of
        a module's dict."""
        symbols: set[str] = set()
        for base in bases:
            if base == "sys.modules":
                symbols.add(key)
            elif base == NAMESPACE:  # a name, or a module some namespace may hold
                symbols.update(self.name(key))
                if module_entry(key) is not None and key.isidentifier():
                    symbols.add(key)
            elif _room(base) and key.isidentifier():
                symbols.add(_member(base, key))
        return frozenset(symbols)


def _builtin_function(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and callable(getattr(builtins, node.id, None))


def _member(symbol: str, attribute: str) -> str:
    return symbol if attribute in _TRANSPARENT else f"{symbol}.{attribute}"


def _room(symbol: str) -> bool:
    """Room for one more dotted part (symbols stay short, whatever the chain)."""
    return symbol.count(".") < 6 and len(symbol) < 200
