#!/bin/sh
# docker-entrypoint.sh - starts the FastCGI pool in the Stremora image (the "app" service of
# docker-compose.yml; docs/deploy.md):
#   1. requires MONGODB_URI;
#   2. on first start, writes the signing-key file STREMORA_KEY_FILE (on the state volume);
#   3. applies sql-free-schemas/ (stremoractl migrate), waiting up to STREMORA_MIGRATE_WAIT
#      (60) seconds for MongoDB to answer;
#   4. execs spawn-fcgi, which execs multiwatch: STREMORA_WORKERS (4) stremora-fcgi workers on
#      /run/stremora/fcgi.sock, mode 0660, group stremora (nginx's workers run in that group).
# Given arguments, it runs them instead: `docker-compose run --rm app stremoractl migrate`.
set -eu

if [ "$#" -gt 0 ]; then
    exec "$@"
fi

me=docker-entrypoint
die() {
    echo "$me: $*" >&2
    exit 1
}

[ -n "${MONGODB_URI:-}" ] || die "MONGODB_URI is not set (e.g. mongodb://mongo:27017/stremora)"

export STREMORA_KEY_FILE="${STREMORA_KEY_FILE:-/var/lib/stremora/keys.json}"
export STREMORA_MEDIA_ROOT="${STREMORA_MEDIA_ROOT:-/var/lib/stremora/media}"
export STREMORA_SHM_FILE="${STREMORA_SHM_FILE:-/run/stremora/stremora.shm}"
bin=/opt/stremora/bin
schemas=/opt/stremora/sql-free-schemas
sock=/run/stremora/fcgi.sock
workers=${STREMORA_WORKERS:-4}
wait_s=${STREMORA_MIGRATE_WAIT:-60}

case $workers in '' | *[!0-9]*) die "STREMORA_WORKERS is not a whole number: $workers" ;; esac
[ "$workers" -ge 1 ] && [ "$workers" -le 256 ] || die "STREMORA_WORKERS must be 1-256: $workers"
case $wait_s in '' | *[!0-9]*) die "STREMORA_MIGRATE_WAIT is not a whole number: $wait_s" ;; esac

# Files the workers create (media) are group-readable for nginx and nothing for others.
umask 027
mkdir -p "$STREMORA_MEDIA_ROOT/tmp" "$STREMORA_MEDIA_ROOT/videos" "${STREMORA_KEY_FILE%/*}" \
    "${sock%/*}"

if [ ! -e "$STREMORA_KEY_FILE" ]; then
    "$bin/stremoractl" gen-keys "$STREMORA_KEY_FILE"
    echo "$me: generated signing keys in $STREMORA_KEY_FILE (back it up with the database)"
fi

start=$(date +%s)
waited=
until out=$("$bin/stremoractl" migrate --schemas "$schemas" 2>&1); do
    if [ $(($(date +%s) - start)) -ge "$wait_s" ]; then
        printf '%s\n' "$out" >&2
        die "stremoractl migrate did not succeed within ${wait_s}s; does MongoDB answer at MONGODB_URI?"
    fi
    if [ -z "$waited" ]; then
        echo "$me: waiting for MongoDB (up to ${wait_s}s)" >&2
        waited=1
    fi
    sleep 2
done
printf '%s\n' "$out"
echo "$me: schemas applied"

# One request in CGI mode first, so that a bad setting or key file stops here with its one
# line instead of making multiwatch restart workers that die at once.
if ! err=$(REQUEST_METHOD=GET REQUEST_URI=/api/v1/health "$bin/stremora-fcgi" 2>&1 >/dev/null); then
    printf '%s\n' "$err" >&2
    die "stremora-fcgi does not start"
fi

echo "$me: starting $workers workers on $sock"
exec /usr/bin/spawn-fcgi -n -s "$sock" -M 0660 -- \
    /usr/bin/multiwatch -f "$workers" -- "$bin/stremora-fcgi"
