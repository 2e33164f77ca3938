#!/bin/sh
# Determinism of the command-line program across thread counts: each command is run with
# OMP_NUM_THREADS=1, 2 and 7 and every output file must be byte-identical (cmp).
# Usage: sh tests/determinism.sh ./tools/ridgediff
# Covers project (LM, SCMS) and density, and sample/train when the program has those verbs.
# Prints "ok ..." / "FAIL ..." per command and "determinism-cli: N passed, M failed" last.
RD=${1:-./tools/ridgediff}
case $RD in /*) ;; *) RD=$(pwd)/$RD ;; esac
LC_ALL=C; export LC_ALL
pass=0; fail=0
T=$(mktemp -d "${TMPDIR:-/tmp}/rdg_det.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT INT TERM
cd "$T" || exit 1

# npy NAME ROWS COLS V... : a float64 .npy file written with printf (no numpy needed)
npy() {
    name=$1; r=$2; c=$3; shift 3
    dict="{'descr': '<f8', 'fortran_order': False, 'shape': ($r, $c), }"
    len=$(( (10 + ${#dict} + 1 + 63) / 64 * 64 - 10 ))
    pad=$(( len - ${#dict} - 1 ))
    { printf '\223NUMPY\001\000'; printf "\\$(printf '%03o' $((len % 256)))\\$(printf '%03o' $((len / 256)))"
      printf '%s' "$dict"; printf "%${pad}s\n" ""
      awk -v vals="$*" 'BEGIN { n = split(vals, v, " ");
        for (i = 1; i <= n; i++) { x = v[i] + 0; s = 0; if (x < 0) { s = 1; x = -x }
          if (x == 0) { for (k = 0; k < 8; k++) printf "%c", 0; continue }
          e = 0; while (x >= 2) { x /= 2; e++ } while (x < 1) { x *= 2; e-- }
          m = x - 1; hi = int(m * 1048576); lo = (m * 1048576 - hi) * 4294967296; lo = int(lo + 0.5)
          if (lo >= 4294967296) { lo -= 4294967296; hi++ }
          be = e + 1023; w1 = s * 2147483648 + be * 1048576 + hi
          for (k = 0; k < 4; k++) { printf "%c", lo % 256; lo = int(lo / 256) }
          for (k = 0; k < 4; k++) { printf "%c", w1 % 256; w1 = int(w1 / 256) } } }'
    } > "$name"
}

# A noisy arc of 24 points in R^3 and 19 query points (deterministic values from awk).
X=$(awk 'BEGIN { for (i = 0; i < 24; i++) { s = i / 4; printf "%.6f %.6f %.6f ", s, 0.2 * s * s - 0.5 + 0.03 * ((i * 7) % 5 - 2), 0.02 * ((i * 3) % 7 - 3) } }')
Y=$(awk 'BEGIN { for (i = 0; i < 19; i++) { s = i / 3.2; printf "%.6f %.6f %.6f ", s + 0.1, 0.2 * s * s - 0.1 + 0.05 * (i % 3), 0.1 * ((i % 4) - 1.5) } }')
npy x.npy 24 3 $X
npy y.npy 19 3 $Y

verbs=$("$RD" --help 2>/dev/null | awk '/^verbs:/ { on = 1; next } on && NF { print $1 }')
has() { printf '%s\n' "$verbs" | grep -qx "$1"; }

# check NAME OUTPUTS -- ARGS... : run at 1, 2, 7 threads; compare the outputs with cmp
check() {
    name=$1; outs=$2; shift 2
    ok=1
    for n in 1 2 7; do
        mkdir -p "t$n"; rm -f t$n/*
        (cd "t$n" && OMP_NUM_THREADS=$n "$RD" "$@" > stdout 2> stderr); rc=$?
        if [ $rc -ne 0 ]; then
            echo "FAIL $name: exit $rc at $n threads: $(head -n 1 "t$n/stderr")"; fail=$((fail + 1)); return
        fi
    done
    for o in $outs; do
        for n in 2 7; do
            if ! cmp -s "t1/$o" "t$n/$o"; then echo "FAIL $name: $o differs between 1 and $n threads"; ok=0; fi
        done
    done
    if [ $ok -eq 1 ]; then echo "ok $name: $outs identical at 1, 2, 7 threads"; pass=$((pass + 1)); else fail=$((fail + 1)); fi
}

check "project lm" "p.npy i.csv" project --data ../x.npy --points ../y.npy --t 0.2 --dstar 1 --out p.npy --info i.csv
check "project scms" "p.npy i.csv" project --data ../x.npy --points ../y.npy --t 0.2 --dstar 1 --method scms --out p.npy --info i.csv
check "density" "l.npy s.npy h.npy m.npy" density --data ../x.npy --points ../y.npy --t 0.3 --logp l.npy --score s.npy --hessian h.npy --mean m.npy
if has sample; then
    check "sample sde (exact)" "s.npy tr.npy" sample --exact ../x.npy --n 13 --steps 60 --seed 3 --out s.npy --traj tr.npy --every 20
    check "sample ode (exact)" "s.npy" sample --exact ../x.npy --n 13 --steps 40 --ode --out s.npy
else
    echo "skip sample (the program has no 'sample' verb yet)"
fi
if has train; then
    check "train mlp" "m.rdg" train --data ../x.npy --model mlp --hidden 16,16 --steps 40 --seed 1 --out m.rdg
    check "train rfnn" "m.rdg" train --data ../x.npy --model rfnn --width 32 --steps 100 --seed 1 --out m.rdg
    if [ -f t1/m.rdg ] && has sample; then
        cp t1/m.rdg model.rdg
        check "sample (trained rfnn)" "s.npy" sample --model ../model.rdg --n 9 --steps 30 --out s.npy
    fi
else
    echo "skip train (the program has no 'train' verb yet)"
fi
echo "determinism-cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
