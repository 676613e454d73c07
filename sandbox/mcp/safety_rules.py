"""The tables behind `mcp.safety`: which imports, calls, names and attributes it reports,
and how severe each is. Symbols are dotted names as the code reaches them
(`builtins.eval`, `os.system`, `subprocess.run`), after aliases are resolved."""

from __future__ import annotations

HIGH, MEDIUM, LOW = "high", "medium", "low"
RANK = {LOW: 1, MEDIUM: 2, HIGH: 3}

# module (or module.name for `from module import name`) → (severity, what it gives)
MODULES: dict[str, tuple[str, str]] = {
    "os": (HIGH, "operating-system access: processes, files, environment"),
    "os.path": (LOW, "path helpers"),
    "posix": (HIGH, "operating-system access: processes, files, environment"),
    "nt": (HIGH, "operating-system access: processes, files, environment"),
    "subprocess": (HIGH, "runs other programs"),
    "_posixsubprocess": (HIGH, "runs other programs"),
    "pty": (HIGH, "runs other programs on a terminal"),
    "multiprocessing": (HIGH, "starts processes"),
    "socket": (HIGH, "network sockets"),
    "_socket": (HIGH, "network sockets"),
    "ctypes": (HIGH, "calls native code and writes raw memory"),
    "_ctypes": (HIGH, "calls native code and writes raw memory"),
    "cffi": (HIGH, "calls native code and writes raw memory"),
    "importlib": (HIGH, "imports modules by computed name"),
    "imp": (HIGH, "imports modules by computed name"),
    "zipimport": (HIGH, "imports code from archives"),
    "runpy": (HIGH, "runs modules and files as code"),
    "builtins": (HIGH, "the builtins namespace (eval, exec, __import__)"),
    "__builtin__": (HIGH, "the builtins namespace (eval, exec, __import__)"),
    "marshal": (HIGH, "loads code objects"),
    "pickle": (HIGH, "unpickling runs code"),
    "_pickle": (HIGH, "unpickling runs code"),
    "cPickle": (HIGH, "unpickling runs code"),
    "dill": (HIGH, "unpickling runs code"),
    "shelve": (HIGH, "unpickling runs code"),
    "code": (HIGH, "an interactive interpreter"),
    "codeop": (HIGH, "compiles code"),
    "sys": (MEDIUM, "interpreter internals (modules, frames, hooks)"),
    "shutil": (MEDIUM, "file operations (copy, move, delete trees)"),
    "pathlib": (MEDIUM, "file operations"),
    "signal": (MEDIUM, "signal handlers"),
    "fcntl": (MEDIUM, "file-descriptor control"),
    "mmap": (MEDIUM, "memory-mapped files"),
    "gc": (MEDIUM, "reaches every live object"),
    "inspect": (MEDIUM, "reaches frames and their variables"),
    "pkgutil": (MEDIUM, "imports modules by computed name"),
    "site": (MEDIUM, "changes the import system"),
    "webbrowser": (MEDIUM, "starts other programs"),
    "tempfile": (LOW, "temporary files"),
    "glob": (LOW, "lists files"),
    "resource": (LOW, "resource limits"),
    "pdb": (LOW, "the debugger"),
    "urllib.request": (MEDIUM, "network access (the sandbox has none)"),
    "http.client": (MEDIUM, "network access (the sandbox has none)"),
    "ftplib": (MEDIUM, "network access (the sandbox has none)"),
    "smtplib": (MEDIUM, "network access (the sandbox has none)"),
    "telnetlib": (MEDIUM, "network access (the sandbox has none)"),
}

_OS_SYSTEM = (HIGH, "system_command", "runs a program or shell command")
_OS_FILE = (MEDIUM, "file_operation", "file operation")

# symbol → (severity, rule, what it does); a key ending in "." matches every name under it.
CALLS: dict[str, tuple[str, str, str]] = {
    "builtins.exec": (HIGH, "dangerous_call", "runs a string as Python code"),
    "builtins.eval": (HIGH, "dangerous_call", "runs a string as Python code"),
    "builtins.compile": (HIGH, "dangerous_call", "compiles a string to code"),
    "builtins.__import__": (HIGH, "dynamic_import", "imports a module by name"),
    "builtins.open": (MEDIUM, "file_operation", "opens a file"),
    "builtins.file": (MEDIUM, "file_operation", "opens a file (Python 2 file())"),
    "builtins.breakpoint": (LOW, "dangerous_call", "starts the debugger"),
    "builtins.input": (LOW, "dangerous_call", "reads standard input (empty in the sandbox)"),
    "builtins.globals": (LOW, "builtins_access", "reads the global namespace as a dict"),
    "builtins.locals": (LOW, "builtins_access", "reads a namespace as a dict"),
    "builtins.vars": (LOW, "builtins_access", "reads a namespace as a dict"),
    "io.open": (MEDIUM, "file_operation", "opens a file"),
    "codecs.open": (MEDIUM, "file_operation", "opens a file"),
    "os.system": _OS_SYSTEM, "os.popen": _OS_SYSTEM, "os.exec": _OS_SYSTEM,
    "os.spawn": _OS_SYSTEM, "os.posix_spawn": _OS_SYSTEM, "os.fork": _OS_SYSTEM,
    "os.forkpty": _OS_SYSTEM, "os.kill": _OS_SYSTEM, "os.killpg": _OS_SYSTEM,
    "os.remove": _OS_FILE, "os.unlink": _OS_FILE, "os.rmdir": _OS_FILE,
    "os.removedirs": _OS_FILE, "os.rename": _OS_FILE, "os.renames": _OS_FILE,
    "os.replace": _OS_FILE, "os.chmod": _OS_FILE, "os.chown": _OS_FILE, "os.lchown": _OS_FILE,
    "os.link": _OS_FILE, "os.symlink": _OS_FILE, "os.truncate": _OS_FILE, "os.mkdir": _OS_FILE,
    "os.makedirs": _OS_FILE, "os.open": _OS_FILE, "os.fdopen": _OS_FILE, "os.mkfifo": _OS_FILE,
    "os.mknod": _OS_FILE, "os.chdir": _OS_FILE, "os.chroot": _OS_FILE, "os.write": _OS_FILE,
    "subprocess.": (HIGH, "system_command", "runs another program"),
    "_posixsubprocess.": (HIGH, "system_command", "runs another program"),
    "pty.spawn": (HIGH, "system_command", "runs another program"),
    "pty.fork": (HIGH, "system_command", "forks the process"),
    "asyncio.create_subprocess_exec": (HIGH, "system_command", "runs another program"),
    "asyncio.create_subprocess_shell": (HIGH, "system_command", "runs a shell command"),
    "multiprocessing.": (MEDIUM, "system_command", "starts processes"),
    "webbrowser.": (MEDIUM, "system_command", "starts another program"),
    "shutil.rmtree": _OS_FILE, "shutil.move": _OS_FILE, "shutil.copy": _OS_FILE,
    "shutil.chown": _OS_FILE, "shutil.make_archive": _OS_FILE, "shutil.unpack_archive": _OS_FILE,
    "importlib.": (HIGH, "dynamic_import", "imports a module by name"),
    "imp.": (HIGH, "dynamic_import", "imports a module by name"),
    "pkgutil.": (MEDIUM, "dynamic_import", "imports or finds modules by name"),
    "runpy.": (HIGH, "dangerous_call", "runs a module or file as code"),
    "code.": (HIGH, "dangerous_call", "runs code in an interpreter"),
    "codeop.": (HIGH, "dangerous_call", "compiles code"),
    "types.FunctionType": (HIGH, "dangerous_call", "builds a function from a code object"),
    "types.CodeType": (HIGH, "dangerous_call", "builds a code object"),
    "marshal.load": (HIGH, "deserialization", "loads code objects"),
    "pickle.load": (HIGH, "deserialization", "unpickling runs code"),
    "pickle.Unpickler": (HIGH, "deserialization", "unpickling runs code"),
    "_pickle.": (HIGH, "deserialization", "unpickling runs code"),
    "dill.load": (HIGH, "deserialization", "unpickling runs code"),
    "shelve.open": (HIGH, "deserialization", "unpickling runs code"),
    "ctypes.": (HIGH, "native_code", "calls native code or writes raw memory"),
    "_ctypes.": (HIGH, "native_code", "calls native code or writes raw memory"),
    "sys._getframe": (HIGH, "introspection", "reaches the caller's frame and variables"),
    "sys.settrace": (MEDIUM, "introspection", "traces every frame"),
    "sys.setprofile": (MEDIUM, "introspection", "traces every frame"),
    "sys.addaudithook": (MEDIUM, "introspection", "hooks interpreter events"),
    "sys.setrecursionlimit": (LOW, "introspection", "changes the recursion limit"),
    "gc.get_objects": (MEDIUM, "introspection", "reaches every live object"),
    "gc.get_referrers": (MEDIUM, "introspection", "reaches objects through references"),
    "gc.get_referents": (MEDIUM, "introspection", "reaches objects through references"),
    "inspect.currentframe": (MEDIUM, "introspection", "reaches frames and their variables"),
    "inspect.stack": (MEDIUM, "introspection", "reaches frames and their variables"),
    "inspect.getouterframes": (MEDIUM, "introspection", "reaches frames and their variables"),
}  # fmt: skip

# Symbols reported wherever they are used, called or not.
REFERENCES: dict[str, tuple[str, str, str]] = {
    "sys.modules": (HIGH, "introspection", "reaches the table of loaded modules"),
}

# Bare names reported wherever they appear.
NAMES: dict[str, tuple[str, str, str]] = {
    "__builtins__": (MEDIUM, "builtins_access", "reaches eval, exec and __import__"),
    "__loader__": (MEDIUM, "dynamic_import", "the module loader loads modules by name"),
}

# Symbols that name another module: `posix.system` is `os.system`.
SAME_AS = {"posix": "os", "nt": "os", "__builtin__": "builtins", "cPickle": "pickle"}

# Builtins the resolver knows by name (NFKC-normalised by the parser, as Python runs them).
BUILTIN_NAMES = frozenset(
    "exec eval compile __import__ open file breakpoint input getattr setattr delattr "
    "globals locals vars chr bytes bytearray str".split()
)
# Calls whose result is a namespace dict: a subscript with a name reaches that name.
NAMESPACE_CALLS = frozenset({"builtins.globals", "builtins.locals", "builtins.vars"})
ATTRIBUTE_CALLS = frozenset(
    {"builtins.getattr", "builtins.setattr", "builtins.delattr", "operator.attrgetter"}
)
IMPORT_CALLS = frozenset({"builtins.__import__", "importlib.__import__"})
MODULE_IMPORT_CALLS = frozenset({"importlib.import_module"})
CODE_CALLS = frozenset({"builtins.exec", "builtins.eval", "builtins.compile"})

# Attributes that walk from an object to its type, its functions' globals or frames.
INTROSPECTION: dict[str, str] = {
    "__subclasses__": HIGH, "__globals__": HIGH, "__builtins__": HIGH, "f_globals": HIGH,
    "f_builtins": HIGH, "f_locals": HIGH, "func_globals": HIGH, "__import__": HIGH,
    "__bases__": MEDIUM, "__base__": MEDIUM, "__mro__": MEDIUM, "__closure__": MEDIUM,
    "__code__": MEDIUM, "__getattribute__": MEDIUM, "__self__": MEDIUM, "__reduce__": MEDIUM,
    "__reduce_ex__": MEDIUM, "__loader__": MEDIUM, "f_back": MEDIUM, "f_code": MEDIUM,
    "tb_frame": MEDIUM, "gi_frame": MEDIUM, "cr_frame": MEDIUM, "ag_frame": MEDIUM,
    "gi_code": MEDIUM, "co_code": MEDIUM,
    "__class__": LOW, "__dict__": LOW, "mro": LOW,
}  # fmt: skip

# Calls (by symbol or by method name) that decode or assemble a string at run time.
DECODER_SYMBOLS = (
    "base64.", "binascii.", "codecs.decode", "codecs.encode", "zlib.decompress",
    "gzip.decompress", "bz2.decompress", "lzma.decompress", "marshal.loads", "pickle.loads",
    "builtins.chr", "builtins.bytes", "builtins.bytearray", "builtins.str",
)  # fmt: skip
DECODER_METHODS = frozenset(
    "b64decode b32decode b16decode b85decode a85decode decodebytes standard_b64decode "
    "urlsafe_b64decode unhexlify a2b_base64 a2b_hex fromhex decode decompress join chr "
    "translate replace format encode".split()
)


def lookup(table: dict[str, tuple[str, str, str]], symbol: str) -> tuple[str, str, str] | None:
    """The entry for `symbol`: exact, or a prefix key ending in "." (`subprocess.`), or
    the `os.exec*`/`os.spawn*` families (`os.execvp` → `os.exec`)."""
    symbol = canonical(symbol)
    entry = table.get(symbol)
    if entry is not None:
        return entry
    module, _, name = symbol.partition(".")
    if name:
        if module + "." in table:
            return table[module + "."]
        for family in ("exec", "spawn", "posix_spawn", "popen", "fork"):
            if module == "os" and name.startswith(family) and "." not in name:
                return table.get("os." + family)
        for key in ("pickle.load", "marshal.load", "dill.load"):
            if symbol.startswith(key) and "." not in symbol[len(key) :]:
                return table[key]
    return None


def canonical(symbol: str) -> str:
    """`posix.system` → `os.system`; other symbols unchanged."""
    module, dot, rest = symbol.partition(".")
    return SAME_AS.get(module, module) + dot + rest


def module_entry(module: str) -> tuple[str, str] | None:
    """Severity and description of importing `module` (dotted): the longest listed
    prefix, so `os.path` is low while `os` and `os.anything` are high."""
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        entry = MODULES.get(".".join(parts[:end]))
        if entry is not None:
            return entry
    return None
