#!/usr/bin/env bash
# Back up or restore the compose stack's data: every PostgreSQL database (the app's and
# Keycloak's, with roles) and the app-data volume (workspaces, uploads). docs/operations.md.
#
#   scripts/backup.sh backup  DIR   while the stack runs: DIR/postgres.sql, DIR/app-data.tar.gz
#   scripts/backup.sh restore DIR   into fresh volumes: starts postgres alone, loads both, then
#                                   `docker compose up -d --wait` starts the rest on the old data
#
# COMPOSE_ARGS passes options to every `docker compose` (e.g. "-f docker-compose.yml -f x.yml").
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
action=${1:-}
dir=${2:-}
[[ $action == backup || $action == restore ]] && [[ -n $dir ]] ||
    { echo "usage: scripts/backup.sh backup|restore DIR" >&2; exit 2; }
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
# shellcheck disable=SC2086 # COMPOSE_ARGS is a list of options
compose() { docker compose ${COMPOSE_ARGS:-} "$@"; }
# The app image, with the app-data volume at /data (the one-off migrate service's mounts).
with_data() { compose run --rm --no-deps -T --user root -v "$dir:/backup" --entrypoint sh migrate -c "$1"; }

if [[ $action == backup ]]; then
    compose exec -T postgres sh -c 'pg_dumpall -U "$POSTGRES_USER" --clean --if-exists' >"$dir/postgres.sql.part"
    mv "$dir/postgres.sql.part" "$dir/postgres.sql"
    with_data 'tar -C /data -czf /backup/app-data.tar.gz .'
    echo "backup: $dir/postgres.sql, $dir/app-data.tar.gz"
else
    [[ -s $dir/postgres.sql && -s $dir/app-data.tar.gz ]] || { echo "restore: no backup in $dir" >&2; exit 1; }
    compose up -d --wait postgres
    # --clean drops and recreates each database; the errors about the role psql connects as
    # (it cannot drop itself) are expected, so the script goes on past them.
    compose exec -T postgres sh -c 'psql -q -U "$POSTGRES_USER" -d postgres' <"$dir/postgres.sql" >/dev/null
    with_data 'tar -C /data -xzf /backup/app-data.tar.gz && chown -R 1000:1000 /data'
    echo "restore: done; start the stack with docker compose up -d --wait"
fi
