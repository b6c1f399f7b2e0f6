#!/usr/bin/env bash
# Validates the committed openapi/openapi.json against the OpenAPI 3.1 specification with
# openapi-spec-validator (unique operationIds, resolvable $refs, well-formed schemas and security
# requirements, ...). Any error fails the script. That the file is what the code generates is
# checked by api/tests/openapi.rs; this checks that what it generates is valid OpenAPI.
#
# Environment: OSOP_TOOLS_DIR (where the private venv lives, default /var/tmp/osop-tools).
set -euo pipefail
cd "$(dirname "$0")/.."

tools="${OSOP_TOOLS_DIR:-/var/tmp/osop-tools}"
venv="$tools/openapi-spec-validator-venv"
version="0.9.0"
spec="openapi/openapi.json"

say() { echo "validate-openapi: $*"; }
fail() { echo "validate-openapi: $*" >&2; exit 1; }

# The tool, in a private venv reused while it has the pinned version.
installed() {
  "$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("openapi-spec-validator"))' 2>/dev/null
}
if [[ "$(installed)" != "$version" || ! -x "$venv/bin/openapi-spec-validator" ]]; then
  say "installing openapi-spec-validator $version into $venv"
  mkdir -p "$tools"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "openapi-spec-validator==$version"
fi

[[ -f "$spec" ]] || fail "$spec is missing"
"$venv/bin/openapi-spec-validator" --schema 3.1 --validation-errors all "$spec" \
  || fail "$spec is not valid OpenAPI 3.1"
say "ok: $spec is valid OpenAPI 3.1"
