# shellcheck shell=bash
# Project environment; source it: `. scripts/env.sh` (the Makefile does so in every recipe).
# Puts the project's bun and virtualenv first on PATH and configures Reflex for this machine.

_compymac_root="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)"

export PATH="$_compymac_root/.tools/node_modules/.bin:$_compymac_root/.venv/bin:$PATH"
export VIRTUAL_ENV="$_compymac_root/.venv"
# Reflex's own bun download needs the internet; use the bun from .tools instead.
export REFLEX_USE_SYSTEM_BUN=1
export REFLEX_TELEMETRY_ENABLED=false
export PYTHONUNBUFFERED=1

if [ ! -x "$_compymac_root/.venv/bin/python" ]; then
    echo "env: no .venv yet; run 'make setup' (or 'make test', which sets up the test tools)" >&2
fi
unset _compymac_root
