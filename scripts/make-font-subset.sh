#!/usr/bin/env bash
# Makes the default certificate font: the Simplified Chinese face of Noto Serif CJK (OFL),
# subset to ASCII + GB 2312 (all 7,445 characters) + crates/certpdf/fonts/extra-chars.txt.
# Needs Debian's fonts-noto-cjk and fontTools (pip install fonttools). Deterministic: the same
# inputs give the same file. See docs/fonts.md.
set -euo pipefail
cd "$(dirname "$0")/.."
TTC=${TTC:-/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc}
OUT=crates/certpdf/fonts/NotoSerifCJKsc-Regular-GB2312.otf
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

python3 - "$TTC" "$TMP" <<'PY'
import sys
from fontTools.ttLib import TTCollection
ttc, tmp = sys.argv[1], sys.argv[2]
# The face is picked by family name, not by position in the collection.
faces = [f["name"].getDebugName(1) for f in TTCollection(ttc, lazy=True).fonts]
idx = faces.index("Noto Serif CJK SC")
chars = set(chr(c) for c in range(0x20, 0x7F))
for hi in range(0xA1, 0xF8):
    for lo in range(0xA1, 0xFF):
        try:
            chars.add(bytes([hi, lo]).decode("gb2312"))
        except UnicodeDecodeError:
            pass
for line in open("crates/certpdf/fonts/extra-chars.txt", encoding="utf-8"):
    if not line.startswith("#"):
        chars.update(line.strip())
open(f"{tmp}/chars.txt", "w", encoding="utf-8").write("".join(sorted(chars)))
open(f"{tmp}/face", "w").write(str(idx))
print(f"face {idx} ({faces[idx]}), {len(chars)} characters", file=sys.stderr)
PY

pyftsubset "$TTC" --font-number="$(cat "$TMP/face")" --text-file="$TMP/chars.txt" \
  --output-file="$OUT" --no-hinting --desubroutinize --name-IDs='*' --name-languages='*' \
  --drop-tables+=vhea,vmtx,VORG,GSUB,GPOS,BASE
ls -l "$OUT"
sha256sum "$OUT"
