#!/usr/bin/env bash
# Property-based API testing with schemathesis against the committed openapi/openapi.json and a
# real `osop serve` (dev identity, so every request is an admin's and what is judged is the rest).
#
# What it checks, on every documented operation (examples, coverage and fuzzing phases, a fixed
# example budget per operation and a fixed seed, so a CI failure reproduces):
#   not_a_server_error            no request a client can send gets a 5xx;
#   status_code_conformance       every status answered is documented for that operation;
#   content_type_conformance      every answer's Content-Type is one documented for its status;
#   response_schema_conformance   every JSON answer matches the documented schema;
#   response_headers_conformance  documented response headers are there and well-formed;
#   negative_data_rejection       a request that violates the schema is answered 4xx;
#   unsupported_method            an undocumented method on a documented path is 405.
# Not checked, and why:
#   positive_data_acceptance      a schema-valid request may still be refused by a business rule
#                                 (random ids are 404s, stages complete in order, ...);
#   missing_required_header, ignored_auth
#                                 the document declares no required headers, and the server runs
#                                 with the dev identity, which by design ignores the bearer token
#                                 the document requires: no Authorization header is generated
#                                 (authorisation is covered by api/tests/authorization.rs);
#   use_after_free, ensure_resource_availability, object_level_authorization
#                                 they need OpenAPI links (stateful phase), which the document has not;
#   allow_header_conformance      axum's 405 answers carry an Allow header; checking it adds nothing
#                                 the 405 check does not.
#
# The server runs against a fresh scratch database (osop_schemathesis, dropped and created here) on
# the PostgreSQL of DATABASE_URL, and its own NATS stream and subjects (deleted afterwards) on
# NATS_URL; a few real objects are seeded so path parameters can name things that exist. Everything
# started here is stopped on exit. Any finding fails the script.
#
# Environment: DATABASE_URL, NATS_URL (defaults: the machine's servers), CARGO_TARGET_DIR,
# OSOP_TOOLS_DIR (where the private venv lives, default /var/tmp/osop-tools),
# SCHEMATHESIS_MAX_EXAMPLES (default 25), SCHEMATHESIS_SEED (default 20261201).
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/osop-target}"
DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
NATS_URL="${NATS_URL:-nats://127.0.0.1:4222}"
tools="${OSOP_TOOLS_DIR:-/var/tmp/osop-tools}"
venv="$tools/schemathesis-venv"
version="4.32.5"
max_examples="${SCHEMATHESIS_MAX_EXAMPLES:-25}"
seed="${SCHEMATHESIS_SEED:-20261201}"
database="osop_schemathesis"
stream="OSOP_SCHEMATHESIS_$$"
prefix="osopschemathesis$$"

say() { echo "schemathesis: $*"; }
fail() { echo "schemathesis: $*" >&2; exit 1; }

work="$(mktemp -d /var/tmp/osop-schemathesis.XXXXXX)"
server_pid=""
cleanup() {
  local rc=$?
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [[ -x "$venv/bin/python" ]]; then
    "$venv/bin/python" scripts/schemathesis_support.py cleanup "$DATABASE_URL" "$database" \
      "$NATS_URL" "$stream" >/dev/null 2>&1 || true
  fi
  if [[ $rc -ne 0 && -f "$work/server.log" ]]; then
    echo "schemathesis: last lines of the server log:" >&2
    tail -n 40 "$work/server.log" >&2 || true
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT INT TERM

# 1. The tools, in a private venv reused while it has the pinned version.
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$version" \
  || ! "$venv/bin/python" -c 'import psycopg, nats' 2>/dev/null; then
  say "installing schemathesis $version into $venv"
  mkdir -p "$tools"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "schemathesis==$version" "psycopg[binary]>=3.2,<4" \
    "nats-py>=2.9,<3"
fi

# 2. The server, on a free loopback port, against a fresh scratch database.
say "building osop"
cargo build -q -p api --bin osop
bin="$CARGO_TARGET_DIR/debug/osop"
scratch_url="$("$venv/bin/python" scripts/schemathesis_support.py fresh-database "$DATABASE_URL" "$database")"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
say "starting osop serve on $base (database $database, NATS stream $stream)"
DATABASE_URL="$scratch_url" NATS_URL="$NATS_URL" BIND="127.0.0.1:$port" DEV_AUTH_BYPASS=true \
  DEV_AUTH_EMAIL=admin@schemathesis.test DEV_AUTH_ROLE=admin NATS_EVENTS_STREAM="$stream" \
  NATS_SUBJECT_PREFIX="$prefix" WORKERS_IN_PROCESS=1 LLM_PROVIDER=offline MAX_UPLOAD_MB=2 \
  AGENT_RUNS_PER_MINUTE_PER_USER=10000 AGENT_RUNS_PER_MINUTE_PER_OPPORTUNITY=10000 \
  RUST_LOG="${RUST_LOG:-warn}" OSOP_STACK_DIR="$work/no-stack" \
  "$bin" serve >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 120); do
  if curl -fsS "$base/api/health" >/dev/null 2>&1; then break; fi
  kill -0 "$server_pid" 2>/dev/null || fail "osop serve exited before it answered"
  sleep 0.5
done
curl -fsS "$base/api/health" >/dev/null || fail "osop serve did not become healthy within 60 s"

# 3. Real objects for the path parameters, and the config that names them.
"$venv/bin/python" scripts/schemathesis_support.py seed "$base" >"$work/schemathesis.toml"

# 4. The run, bounded in time even if the server turns slow (schemathesis's own --max-time would
# instead keep fuzzing until the budget is spent).
say "running schemathesis ($max_examples examples per operation, seed $seed)"
set +e
# It runs in the scratch folder: its cache of past failures stays out of the clone and each run is
# the same from scratch.
spec="$PWD/openapi/openapi.json"
(cd "$work" && timeout --signal=INT --kill-after=20 420 "$venv/bin/schemathesis" \
  --config-file "$work/schemathesis.toml" run "$spec" \
  --url "$base" \
  --phases examples,coverage,fuzzing \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance,negative_data_rejection,unsupported_method \
  --max-examples "$max_examples" --seed "$seed" \
  --generation-database none --generation-with-security-parameters false \
  --workers 2 --request-timeout 20 \
  --suppress-health-check all --no-color --warnings off)
rc=$?
set -e
kill -0 "$server_pid" 2>/dev/null || fail "osop serve died during the run"
[[ $rc -eq 0 ]] || fail "schemathesis found problems (exit $rc)"
say "ok: no findings"
