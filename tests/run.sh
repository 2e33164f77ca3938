#!/bin/sh
# Runs every test program given as an argument, sums their "N passed, M failed" lines and
# prints the total on the last line. Exits non-zero if any program failed or crashed.
pass=0; fail=0; status=0
for t in "$@"; do
  out=$("$t" 2>&1); rc=$?
  printf '%s\n' "$out" | grep -v '^ok ' 
  line=$(printf '%s\n' "$out" | grep -E '[0-9]+ passed, [0-9]+ failed' | tail -n 1)
  if [ -z "$line" ]; then
    echo "$t: no result line (exit $rc)"; fail=$((fail + 1)); status=1; continue
  fi
  p=$(printf '%s\n' "$line" | sed -E 's/.*[^0-9]([0-9]+) passed.*/\1/; s/^([0-9]+) passed.*/\1/')
  f=$(printf '%s\n' "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
  pass=$((pass + p)); fail=$((fail + f))
  if [ "$rc" -ne 0 ]; then status=1; [ "$f" -eq 0 ] && fail=$((fail + 1)); fi
done
echo "total: $pass passed, $fail failed"
exit $status
