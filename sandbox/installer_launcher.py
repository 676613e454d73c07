# The package installer's entry: the host runs `python3 -I -u -c <program> <json>` in the
# installer container, where <program> is this file followed by a call of launch() with
# the sources of sandbox/mcp_installer and sandbox/mcp_shared (installerDriverSource in
# src/packages/installer-driver.ts). The container has nothing of ours on disk: the
# modules are served from memory, as sandbox/bootstrap.py serves the sandbox's.
from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib.abc import Loader, MetaPathFinder
from importlib.machinery import ModuleSpec
from types import ModuleType


class SourceFinder(MetaPathFinder, Loader):
    """Serves the program's modules from their sources (first on sys.meta_path)."""

    def __init__(self, modules: dict[str, dict[str, object]]) -> None:
        self.modules = modules

    def find_spec(
        self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        module = self.modules.get(name)
        if module is None:
            return None
        package = bool(module.get("package"))
        spec = ModuleSpec(name, self, origin=self.filename(name), is_package=package)
        spec.has_location = True
        return spec

    def create_module(self, spec: ModuleSpec) -> None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        name = module.__name__
        code = compile(self.get_source(name), self.filename(name), "exec", dont_inherit=True)
        exec(code, module.__dict__)

    def filename(self, name: str) -> str:
        package = bool(self.modules[name].get("package"))
        return "/installer/" + name.replace(".", "/") + ("/__init__.py" if package else ".py")

    def get_source(self, name: str) -> str:  # lets tracebacks show our source
        return str(self.modules[name]["source"])


def launch(modules: dict[str, dict[str, object]]) -> None:
    """Makes the modules importable; as the program itself (not imported), runs the
    installer."""
    sys.meta_path.insert(0, SourceFinder(modules))
    if __name__ == "__main__":
        from mcp_installer.driver import main

        main()
