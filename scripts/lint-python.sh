#!/usr/bin/env bash
# Lints and type-checks the Python in sandbox/ (part of `npm run lint`): flake8 (.flake8)
# and mypy (mypy.ini, strict, for Python 3.11). Debian ships both (apt-get install flake8
# mypy); scripts/test-host-setup.sh installs them, as CI runs it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

missing=()
for tool in flake8 mypy; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if ((${#missing[@]} > 0)); then
  cat >&2 <<MESSAGE
npm run lint: ${missing[*]} not found. The Python in sandbox/ is linted with flake8 and
type-checked with mypy. Install them: on Debian or Ubuntu \`sudo apt-get install flake8
mypy\` (scripts/test-host-setup.sh does this), elsewhere \`pip install flake8 mypy\`.
MESSAGE
  exit 1
fi

# Both run, so one lint shows everything to fix.
status=0
flake8 sandbox || status=1
mypy || status=1
exit "$status"
