#!/bin/sh
# Cross-check of the ridgediff CLI against the independent numpy reference tools/ref_ridge.py.
# usage: sh tests/crosscheck.sh ./tools/ridgediff [PYTHON]
# Skips (exit 0) when PYTHON cannot import numpy. The last line is "crosscheck: N passed, M failed".
exe=${1:-./tools/ridgediff}
py=${2:-python3}
here=$(dirname "$0")
if ! "$py" -c 'import numpy' >/dev/null 2>&1; then
  echo "crosscheck: skipped (no numpy)"
  echo "crosscheck: 0 passed, 0 failed"
  exit 0
fi
if [ ! -x "$exe" ]; then
  echo "FAIL crosscheck: $exe is not an executable"
  echo "crosscheck: 0 passed, 1 failed"
  exit 1
fi
exec "$py" "$here/crosscheck.py" "$exe"
