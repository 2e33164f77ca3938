#!/bin/sh
# Well-formedness of pictures and reports: parses every SVG / HTML file given as an argument
# with `xmllint --noout` (Debian: libxml2-utils) and checks that none holds the word "nan",
# "inf" or "infinity" (any case; "inference" is fine) outside an embedded base64 image. Skips, with a message and success, when xmllint is missing.
# Usage: sh tests/svg_check.sh FILE...      Last line: "svg_check: N passed, M failed".
if ! command -v xmllint >/dev/null 2>&1; then
    echo "skip svg_check: xmllint not installed (on Debian: apt-get install libxml2-utils)"
    echo "svg_check: 0 passed, 0 failed"
    exit 0
fi
if [ "$#" -eq 0 ]; then
    echo "usage: sh tests/svg_check.sh FILE.svg|FILE.html..." >&2
    exit 2
fi
pass=0; fail=0
for f in "$@"; do
    if [ ! -s "$f" ]; then
        echo "FAIL $f: missing or empty"; fail=$((fail + 1)); continue
    fi
    if ! err=$(xmllint --noout --nonet "$f" 2>&1); then
        echo "FAIL $f: not well-formed XML"; printf '%s\n' "$err" | sed -n '1,10p'
        fail=$((fail + 1)); continue
    fi
    if sed 's/base64,[A-Za-z0-9+\/=]*//g' "$f" | grep -qiwE 'nan|inf|infinity'; then
        echo "FAIL $f: contains nan or inf:"
        sed 's/base64,[A-Za-z0-9+\/=]*//g' "$f" | grep -niwE 'nan|inf|infinity' | cut -c1-160 | sed -n '1,5p'
        fail=$((fail + 1)); continue
    fi
    echo "ok $f"; pass=$((pass + 1))
done
echo "svg_check: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
