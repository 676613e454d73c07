"""Static evaluation of the strings a cell builds from constants, for `mcp.safety`:
`'o' + 's'`, `f'{"o"}s'`, `''.join(chr(c) for c in [...])`, `'so'[::-1]`,
`base64.b64decode('...')`, `bytes.fromhex('...')`, `codecs.decode('...', 'rot13')`,
`zlib.decompress(b'...')`, and a name assigned exactly once from such an expression.

Nothing here runs user code: only pure functions of constants. Every value built is
capped (MAX_TEXT, decompression included), and each fold looks at MAX_STEPS nodes at
most, MAX_DEPTH deep."""

from __future__ import annotations

import ast
import base64
import binascii
import bz2
import codecs
import lzma
import zlib
from collections.abc import Callable
from typing import Any, AnyStr

MAX_TEXT = 65_536  # characters or bytes of a value built here
MAX_DEPTH = 16
MAX_STEPS = 2_000

Value = str | bytes | None
Resolve = Callable[[ast.AST], frozenset[str]]
Values = Callable[[str], list[ast.AST]]
Again = Callable[[ast.AST], Value]

_B64: dict[str, Callable[[Any], bytes]] = {
    "b64decode": base64.b64decode, "standard_b64decode": base64.standard_b64decode,
    "urlsafe_b64decode": base64.urlsafe_b64decode, "b32decode": base64.b32decode,
    "b16decode": base64.b16decode, "b85decode": base64.b85decode,
    "a85decode": base64.a85decode, "decodebytes": base64.decodebytes,
}  # fmt: skip
_TEXT_CODECS = frozenset({"utf-8", "utf8", "ascii", "latin-1", "latin1", "iso-8859-1"})
_DECOMPRESS = frozenset({"zlib.decompress", "gzip.decompress", "bz2.decompress", "lzma.decompress"})
_FAILURES = (ValueError, TypeError, LookupError, zlib.error, lzma.LZMAError, OSError, EOFError)


def fold(node: ast.AST, resolve: Resolve, values: Values) -> str | bytes | None:
    """The str or bytes value `node` always has, when it is built from constants by
    operations this knows; None otherwise. `resolve` gives the symbols a callee may be
    (`base64.b64decode`), `values` the expressions assigned to a name."""
    return _Folder(resolve, values).again(node)


class _Folder:
    """One fold's budget. (A class rather than a closure: a recursive closure is a
    reference cycle, left for the collector, which the check pauses.)"""

    def __init__(self, resolve: Resolve, values: Values) -> None:
        self.resolve, self.values = resolve, values
        self.steps, self.depth = MAX_STEPS, 0

    def again(self, node: ast.AST) -> str | bytes | None:
        self.steps -= 1
        if self.depth >= MAX_DEPTH or self.steps < 0:
            return None
        self.depth += 1
        try:
            return _value(node, self.again, self.resolve, self.values)
        finally:
            self.depth -= 1


def _value(node: ast.AST, again: Again, resolve: Resolve, values: Values) -> str | bytes | None:
    if isinstance(node, ast.Constant):
        # Any size: a literal is part of the source, already within its caps.
        return node.value if isinstance(node.value, (str, bytes)) else None
    if isinstance(node, ast.Name):
        assigned = values(node.id)
        return again(assigned[0]) if len(assigned) == 1 else None
    if isinstance(node, ast.BinOp):
        return _binop(node, again)
    if isinstance(node, ast.JoinedStr):
        return _joined(node, again)
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
        return _slice(node.value, node.slice, again)
    if isinstance(node, ast.Call) and not node.keywords:
        if not any(isinstance(arg, ast.Starred) for arg in node.args):
            return _call(node, again, resolve)
    return None


def _binop(node: ast.BinOp, again: Again) -> str | bytes | None:
    if isinstance(node.op, ast.Add):
        left, right = again(node.left), again(node.right)
        if isinstance(left, str) and isinstance(right, str):
            return _capped(left + right)
        if isinstance(left, bytes) and isinstance(right, bytes):
            return _capped(left + right)
    elif isinstance(node.op, ast.Mult):
        for text, count in ((node.left, node.right), (node.right, node.left)):
            times = _int(count)
            if times is not None and 0 <= times <= MAX_TEXT:
                value = again(text)
                if value is not None and len(value) * times <= MAX_TEXT:
                    return value * times
    return None


def _joined(node: ast.JoinedStr, again: Again) -> str | None:
    parts: list[str] = []
    for part in node.values:
        if isinstance(part, ast.FormattedValue):
            if part.format_spec is not None or part.conversion not in (-1, ord("s")):
                return None
            part = part.value
        value = again(part)
        if not isinstance(value, str):
            return None
        parts.append(value)
    return _capped("".join(parts))


def _slice(base: ast.expr, bounds: ast.Slice, again: Again) -> str | bytes | None:
    numbers: list[int | None] = []
    for part in (bounds.lower, bounds.upper, bounds.step):
        number = None if part is None else _int(part)
        if part is not None and number is None:
            return None
        numbers.append(number)
    value = again(base)
    if value is None or numbers[2] == 0:
        return None
    return value[slice(*numbers)]


def _call(node: ast.Call, again: Again, resolve: Resolve) -> str | bytes | None:
    func, args = node.func, node.args
    if isinstance(func, ast.Attribute):
        if func.attr == "join" and len(args) == 1:
            separator, items = again(func.value), _items(args[0], again, resolve)
            if isinstance(separator, str) and items and all(isinstance(i, str) for i in items):
                return _capped(separator.join(items))  # type: ignore[arg-type]
            if isinstance(separator, bytes) and items and all(isinstance(i, bytes) for i in items):
                return _capped(separator.join(items))  # type: ignore[arg-type]
        if func.attr in ("lower", "upper", "strip", "decode", "encode", "replace"):
            base = again(func.value)
            if base is not None:
                return _method(base, func.attr, [again(arg) for arg in args])
    symbols = sorted(resolve(func))
    values = [again(arg) for arg in args] if symbols else []
    for symbol in symbols:
        result = _decode(symbol, values, args)
        if result is not None:
            return result
    return None


def _items(node: ast.AST, again: Again, resolve: Resolve) -> list[str | bytes] | None:
    """What `node` iterates over, when constant: a literal list or tuple,
    `chr(c) for c in [...]`, `map(chr, [...])`, `reversed(...)`, or a string."""
    if isinstance(node, (ast.List, ast.Tuple)):
        items = [again(element) for element in node.elts]
        return None if any(item is None for item in items) else items  # type: ignore[return-value]
    if isinstance(node, (ast.GeneratorExp, ast.ListComp)) and len(node.generators) == 1:
        loop, element = node.generators[0], node.elt
        if loop.ifs or not isinstance(loop.target, ast.Name) or not isinstance(element, ast.Call):
            return None
        if "builtins.chr" in resolve(element.func) and len(element.args) == 1:
            argument = element.args[0]
            if isinstance(argument, ast.Name) and argument.id == loop.target.id:
                return _chars(loop.iter)
        return None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args:
        if node.func.id == "map" and len(node.args) == 2:
            return _chars(node.args[1]) if "builtins.chr" in resolve(node.args[0]) else None
        if node.func.id == "reversed" and len(node.args) == 1:
            value = again(node.args[0])
            return None if value is None else [value[i : i + 1] for i in range(len(value))][::-1]
    value = again(node)
    return None if value is None else [value[i : i + 1] for i in range(len(value))]


def _chars(node: ast.AST) -> list[str | bytes] | None:
    if not isinstance(node, (ast.List, ast.Tuple)) or len(node.elts) > MAX_TEXT:
        return None
    chars: list[str | bytes] = []
    for element in node.elts:
        number = _int(element)
        if number is None or not 0 <= number < 0x110000:
            return None
        chars.append(chr(number))
    return chars


def _method(base: str | bytes, method: str, args: list[str | bytes | None]) -> str | bytes | None:
    try:
        if method in ("lower", "upper", "strip") and not args:
            return getattr(base, method)()  # type: ignore[no-any-return]
        if method == "decode" and isinstance(base, bytes) and _text_codec(args):
            return base.decode(*args)  # type: ignore[arg-type]
        if method == "encode" and isinstance(base, str) and _text_codec(args):
            return base.encode(*args)  # type: ignore[arg-type]
        if method == "replace" and len(args) == 2:
            old, new = args
            if type(base) is str and type(old) is str and type(new) is str:
                return _capped(base.replace(old, new))
            if type(base) is bytes and type(old) is bytes and type(new) is bytes:
                return _capped(base.replace(old, new))
    except _FAILURES:
        pass
    return None


def _decode(
    symbol: str, args: list[str | bytes | None], nodes: list[ast.expr]
) -> str | bytes | None:
    """The value of calling the decoder `symbol` on constant `args`; None for anything
    else, or when decoding fails."""
    if symbol == "builtins.chr" and len(nodes) == 1:
        number = _int(nodes[0])
        return chr(number) if number is not None and 0 <= number < 0x110000 else None
    data = args[0] if len(args) >= 1 else None
    if data is None:
        return None
    module, _, name = symbol.partition(".")
    try:
        if module == "base64" and name in _B64 and len(args) == 1:
            return _B64[name](data)
        if symbol in ("binascii.unhexlify", "binascii.a2b_hex") and len(args) == 1:
            return binascii.unhexlify(data)
        if symbol == "binascii.a2b_base64" and len(args) == 1:
            return binascii.a2b_base64(data)
        if symbol in ("builtins.bytes.fromhex", "builtins.bytearray.fromhex"):
            return bytes.fromhex(data) if isinstance(data, str) and len(args) == 1 else None
        if symbol == "codecs.decode" and len(args) == 2 and isinstance(args[1], str):
            return _codecs_decode(data, args[1].lower().replace("-", "_"))
        if symbol in _DECOMPRESS and isinstance(data, bytes) and len(args) == 1:
            return _decompress(module, data)
    except _FAILURES:
        return None
    return None


def _codecs_decode(data: str | bytes, codec: str) -> str | bytes | None:
    if codec in ("rot13", "rot_13") and isinstance(data, str):
        return codecs.decode(data, "rot13")
    if codec in ("hex", "hex_codec"):
        return binascii.unhexlify(data)
    if codec in ("base64", "base64_codec", "base_64"):
        return base64.b64decode(data)
    text_codec = codec.replace("_", "-")
    if text_codec in _TEXT_CODECS and isinstance(data, bytes):
        return data.decode(text_codec)
    return None


def _decompress(module: str, data: bytes) -> bytes | None:
    """At most MAX_TEXT bytes of output: a decompression bomb gives None, not memory."""
    decompressor: bz2.BZ2Decompressor | lzma.LZMADecompressor | zlib._Decompress
    if module == "bz2":
        decompressor = bz2.BZ2Decompressor()
    elif module == "lzma":
        decompressor = lzma.LZMADecompressor()
    else:
        decompressor = zlib.decompressobj(31 if module == "gzip" else 15)
    out = decompressor.decompress(data, MAX_TEXT + 1)
    return out if len(out) <= MAX_TEXT else None


def _text_codec(args: list[str | bytes | None]) -> bool:
    if not args:
        return True
    return len(args) == 1 and isinstance(args[0], str) and args[0].lower() in _TEXT_CODECS


def _int(node: ast.AST) -> int | None:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        operand = node.operand
        if isinstance(operand, ast.Constant) and type(operand.value) is int:
            return -operand.value
    return None


def _capped(value: AnyStr) -> AnyStr | None:
    return value if len(value) <= MAX_TEXT else None
