"""The package installer's program (docs/packages.md). It runs in the short-lived
installer container, never in the sandbox, with the package store volume mounted
read-write at /packages: `python3 -I -u -c <program> <json>`, where <program> is
sandbox/installer_launcher.py carrying this package and sandbox/mcp_shared as sources
(installerDriverSource in src/packages/installer-driver.ts); it runs driver.main().

Security: pip and this program run isolated (`-I`): no PYTHON* variable, no user site,
and never the store on sys.path, so nothing an earlier install put there (a
sitecustomize, a module named like the standard library) runs here. The container has
no network; with an index, pip's proxy is a forwarder to the bridge's package relay
(relay_forwarder), which reaches the index and its file hosts only.
"""
