#!/usr/bin/env bash
# CI: the repository stands alone. Its files are copied into a scratch folder with nothing beside
# them, and the README's main command (scripts/walkthrough) runs there against a scratch database;
# a build, script or default that reads outside the repository fails here. Nothing in the tree may
# name the folder the project was developed beside.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "check-standalone: $*" >&2; exit 1; }

# Built from pieces so this check does not find itself.
outside="..""/shared"
if hits="$(git grep -n -F "$outside" -- . ':!scripts/check-standalone.sh')" && [[ -n "$hits" ]]; then
  fail "the tree reads outside the repository:"$'\n'"$hits"
fi

scratch="$(mktemp -d /var/tmp/osop-standalone.XXXXXX)"
database="osop_standalone_$(date +%s)"
admin_url="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
cleanup() {
  rm -rf "$scratch"
  psql_drop || true
}
psql_drop() {
  command -v psql >/dev/null && psql "$admin_url" -qc "DROP DATABASE IF EXISTS \"$database\" WITH (FORCE)" >/dev/null 2>&1
}
trap cleanup EXIT

# The files a clone has (tracked, plus new ones not ignored), and nothing else.
mkdir "$scratch/osop"
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  [[ -e "$f" ]] && printf '%s\0' "$f"
done | tar --null -T - -cf - | tar -xf - -C "$scratch/osop"
[[ "$(ls -A "$scratch")" == "osop" ]] || fail "the scratch folder holds more than the copy"

echo "check-standalone: scripts/walkthrough in $scratch/osop (database $database)"
(
  cd "$scratch/osop"
  export DATABASE_URL="${admin_url%/*}/$database"
  export NATS_EVENTS_STREAM=OSOP_CI_STANDALONE NATS_SUBJECT_PREFIX=osopcistandalone
  scripts/walkthrough --out out/proposal-pack
) > "$scratch/walkthrough.log" 2>&1 || { cat "$scratch/walkthrough.log" >&2; fail "the walkthrough failed in the copy"; }

pack="$scratch/osop/out/proposal-pack"
for f in qa-pack.xlsx qa-pack.docx ratecard.xlsx team-shape.json support-docs.json pitch-deck.md \
  pitch-outline.md implementation-plan.json costs.json events.json summary.json; do
  [[ -s "$pack/$f" ]] || { cat "$scratch/walkthrough.log" >&2; fail "the pack has no $f"; }
done
stage="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["current_stage"])' "$pack/summary.json")"
[[ "$stage" == 17 ]] || fail "the walkthrough stopped at stage $stage"
# Its first lines are for people: no warnings while the streams are being created.
if grep -E "WARN|ERROR" "$scratch/walkthrough.log" | grep -v "^warning:" >&2; then
  fail "the walkthrough printed warnings"
fi
echo "check-standalone: ok (the walkthrough ran in a copy with nothing beside it)"
