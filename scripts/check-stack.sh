#!/usr/bin/env bash
# CI: the local stack on alternate ports while the machine's own PostgreSQL and NATS keep running:
# up, the walkthrough against the private servers, the outputs checked, down, and afterwards no
# process the stack started is left.
set -euo pipefail
cd "$(dirname "$0")/.."

export OSOP_STACK_DIR
OSOP_STACK_DIR="$(mktemp -d /var/tmp/osop-stack-check.XXXXXX)"
# mktemp makes the folder private; PostgreSQL runs as an unprivileged user when we are root.
chmod 755 "$OSOP_STACK_DIR"
out="$OSOP_STACK_DIR/pack"
pids=""

fail() { echo "check-stack: $*" >&2; exit 1; }
cleanup() {
  python3 scripts/stack down >/dev/null 2>&1 || true
  rm -rf "$OSOP_STACK_DIR"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pg_port="$(free_port)"
nats_port="$(free_port)"
json() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))$2)" "$1"; }

echo "check-stack: private stack on PostgreSQL :$pg_port and NATS :$nats_port in $OSOP_STACK_DIR"
python3 scripts/stack up --private --pg-port "$pg_port" --nats-port "$nats_port"
pids="$(json "$OSOP_STACK_DIR/state.json" "['postgres']['pid']") $(json "$OSOP_STACK_DIR/state.json" "['nats']['pid']")"

eval "$(python3 scripts/stack env --export)"
[[ "$DATABASE_URL" == *"127.0.0.1:$pg_port/"* ]] || fail "DATABASE_URL is $DATABASE_URL, not the private server"
[[ "$NATS_URL" == "nats://127.0.0.1:$nats_port" ]] || fail "NATS_URL is $NATS_URL, not the private server"

cargo run -q -p api --bin osop -- walkthrough --out "$out"

for f in qa-pack.xlsx qa-pack.docx ratecard.xlsx team-shape.json support-docs.json pitch-deck.md \
  pitch-outline.md implementation-plan.json costs.json events.json summary.json; do
  [[ -s "$out/$f" ]] || fail "the pack has no $f"
done
[[ "$(json "$out/summary.json" "['current_stage']")" == 17 ]] || fail "the walkthrough did not reach stage 17"
[[ "$(json "$out/summary.json" "['agent_runs']")" == 9 ]] || fail "not every agent ran"

# The events are in the private PostgreSQL, not the machine's.
opportunity="$(json "$out/summary.json" "['opportunity_id']")"
psql_bin="$(find "$OSOP_STACK_DIR/packages" -path '*pginstall/bin/psql' | head -n1)"
stored="$("$psql_bin" -h 127.0.0.1 -p "$pg_port" -U postgres -d osop -tAc \
  "SELECT count(*) FROM events WHERE aggregate_id = '$opportunity'")"
[[ "$stored" == "$(json "$out/summary.json" "['events']")" ]] || fail "the private database holds $stored events of the walk"

python3 scripts/stack down
# A process that has exited but not yet been reaped by init (state Z) holds nothing; it is gone.
running() { local state; state="$(ps -o stat= -p "$1" 2>/dev/null || true)"; [[ -n "$state" && "$state" != Z* ]]; }
for pid in $pids; do
  if running "$pid"; then fail "process $pid of the stack is still running after down"; fi
done
if pgrep -f "$OSOP_STACK_DIR" >/dev/null; then
  fail "processes started from the stack are left: $(pgrep -af "$OSOP_STACK_DIR")"
fi
echo "check-stack: ok (walkthrough on the private stack, everything stopped)"
