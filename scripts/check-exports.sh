#!/usr/bin/env bash
# Proves the document exports open in a real office suite: the exports test
# writes its sample files to a temp dir, then LibreOffice converts every
# .xlsx/.docx to PDF. Fails if a conversion fails or leaves no PDF.
# Exits 0 with "libreoffice not installed: skipped" only when neither
# `libreoffice` nor `soffice` is on PATH.
set -euo pipefail

cd "$(dirname "$0")/.."

office="$(command -v libreoffice || command -v soffice || true)"
if [[ -z "$office" ]]; then
    echo "libreoffice not installed: skipped"
    exit 0
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/osop-exports.XXXXXX")"
if [[ -z "${KEEP_EXPORTS:-}" ]]; then
    trap 'rm -rf "$work"' EXIT
fi
samples="$work/samples"
pdfs="$work/pdf"
mkdir -p "$samples" "$pdfs"

echo "Writing sample exports to $samples"
OSOP_EXPORT_DIR="$samples" CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/osop-target}" \
    cargo test --quiet -p api --test exports

shopt -s nullglob
files=("$samples"/*.xlsx "$samples"/*.docx)
if ((${#files[@]} == 0)); then
    echo "FAIL: the exports test wrote no .xlsx or .docx files to $samples" >&2
    exit 1
fi

failures=0
for file in "${files[@]}"; do
    name="$(basename "$file")"
    # One output directory per file: qa-pack.xlsx and qa-pack.docx must not share a PDF.
    outdir="$pdfs/$name"
    mkdir -p "$outdir"
    pdf="$outdir/${name%.*}.pdf"
    # The import filter is named explicitly: left to guess, LibreOffice opens a
    # broken file as plain text and "converts" it happily.
    case "$name" in
        *.xlsx) filter="Calc MS Excel 2007 XML" ;;
        *.docx) filter="MS Word 2007 XML" ;;
    esac
    # A private profile, so a running LibreOffice or a first-run profile cannot interfere.
    if ! timeout 180 "$office" --headless --norestore "-env:UserInstallation=file://$work/profile" \
        --infilter="$filter" --convert-to pdf --outdir "$outdir" "$file" >"$work/$name.log" 2>&1; then
        echo "FAIL: $name: LibreOffice exited with an error:" >&2
        cat "$work/$name.log" >&2
        failures=$((failures + 1))
    elif [[ ! -s "$pdf" ]] || grep -q '^Error' "$work/$name.log"; then
        echo "FAIL: $name: LibreOffice produced no PDF:" >&2
        cat "$work/$name.log" >&2
        failures=$((failures + 1))
    else
        echo "ok: $name -> PDF ($(wc -c <"$pdf") bytes)"
    fi
done

if ((failures > 0)); then
    echo "$failures of ${#files[@]} exports failed to convert" >&2
    exit 1
fi
echo "All ${#files[@]} exports converted to PDF with $("$office" --version 2>/dev/null | head -n 1)"
