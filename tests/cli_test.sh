#!/bin/sh
# Tests of the ridgediff command-line program: sh tests/cli_test.sh ./tools/ridgediff
#
# The core checks need only a POSIX shell, printf, od and awk: the .npy inputs are written
# byte by byte (an awk function encodes float64 values) and the outputs are decoded with od.
# When /usr/bin/python3 (or python3) can import numpy, extra checks compare the outputs with
# a direct numpy evaluation. Prints "ok ..." or "FAIL ..." per check and, last,
# "cli: N passed, M failed"; exits non-zero when anything failed.

RD=${1:-./tools/ridgediff}
case $RD in /*) ;; *) RD=$(pwd)/$RD ;; esac
LC_ALL=C; export LC_ALL

pass=0; fail=0
ok()  { pass=$((pass + 1)); echo "ok $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
finish() { echo "cli: $pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit $?; }

if [ ! -x "$RD" ]; then bad "program $RD is not executable"; finish; fi
T=$(mktemp -d "${TMPDIR:-/tmp}/ridgediff_cli.XXXXXX") || { bad "mktemp -d"; finish; }
trap 'rm -rf "$T"' EXIT
trap 'rm -rf "$T"; exit 130' INT TERM
IN=$T/in; mkdir "$IN"

# ---- .npy writing and reading without numpy --------------------------------------------

# f64esc V... : printf escapes of the little-endian float64 bytes of each value ("nan" allowed)
f64esc() {
  awk -v vals="$*" '
  function bytes(v,   i) { for (i = 0; i < 4; i++) { printf "\\%03o", v % 256; v = int(v / 256) } }
  BEGIN {
    n = split(vals, a, " ")
    for (k = 1; k <= n; k++) {
      x = a[k]
      if (x == "nan") { hi = 2146959360; lo = 0 }           # 0x7FF80000 00000000
      else {
        x = x + 0; s = 0
        if (x < 0) { s = 1; x = -x }
        if (x == 0) { e = 0; m = 0 }
        else {
          e = 1023
          while (x >= 2) { x /= 2; e++ }
          while (x < 1) { x *= 2; e-- }
          m = (x - 1) * 4503599627370496                     # 2^52, exact
        }
        hi = s * 2147483648 + e * 1048576 + int(m / 4294967296)
        lo = m - int(m / 4294967296) * 4294967296
      }
      bytes(lo); bytes(hi)
    }
  }'
}

# npy FILE SHAPE DESCR V... : writes a .npy (format 1.0) with the given shape text ("2, 2",
# "4,"), dtype descr (only '<f8' is encoded correctly; another descr just labels the bytes)
npy() {
  _f=$1; _shape=$2; _descr=$3; shift 3
  _dict="{'descr': '$_descr', 'fortran_order': False, 'shape': ($_shape), }"
  _len=$((${#_dict} + 1))
  _hlen=$(( (10 + _len + 63) / 64 * 64 - 10 ))
  {
    printf '\223NUMPY\001\000'
    printf "\\$(printf %03o $((_hlen % 256)))\\$(printf %03o $((_hlen / 256)))"
    printf '%s' "$_dict"
    printf "%$((_hlen - _len))s\n" ""
    [ $# -gt 0 ] && printf "$(f64esc "$@")"
  } > "$_f"
}

# header length of a .npy (format 1.0) file
npy_hlen() { [ -f "$1" ] || { echo 0; return 1; }; od -An -tu1 -j8 -N2 "$1" | awk '{ print $1 + 256 * $2 }'; }
# its header text
npy_header() { dd if="$1" bs=1 skip=10 count="$(npy_hlen "$1")" 2>/dev/null; }
# its values, one per line (od reads native byte order: only used on little-endian hosts)
npy_values() { od -An -v -tf8 -j "$((10 + $(npy_hlen "$1")))" "$1" | awk '{ for (i = 1; i <= NF; i++) print $i }'; }

LITTLE=0
[ "$(printf '\001\000' | od -An -tu2 | tr -d ' ')" = 1 ] && LITTLE=1

# npy_check FILE SHAPE COUNT : magic, float64 little-endian, C order, shape text, file size
npy_check() {
  _f=$1; _shape=$2; _count=$3
  if [ ! -f "$_f" ]; then echo "missing"; return 1; fi
  _magic=$(od -An -c -N6 "$_f" | tr -d ' ')
  _h=$(npy_header "$_f")
  _size=$(wc -c < "$_f" | tr -d ' ')
  _want=$((10 + $(npy_hlen "$_f") + 8 * _count))
  [ "$_magic" = "223NUMPY" ] || { echo "bad magic $_magic"; return 1; }
  case $_h in *"'descr': '<f8'"*) ;; *) echo "not <f8: $_h"; return 1 ;; esac
  case $_h in *"'fortran_order': False"*) ;; *) echo "not C order: $_h"; return 1 ;; esac
  case $_h in *"'shape': ($_shape)"*) ;; *) echo "shape is not ($_shape): $_h"; return 1 ;; esac
  [ "$_size" -eq "$_want" ] || { echo "size $_size, expected $_want"; return 1; }
  return 0
}

# ---- runners ------------------------------------------------------------------------------

# expect_ok DESC ARGS... : exit 0, nothing on stdout or stderr; run in the fresh directory $T/ok
expect_ok() {
  _d=$1; shift
  rm -rf "$T/ok"; mkdir "$T/ok"
  (cd "$T/ok" && "$RD" "$@" > "$T/stdout" 2> "$T/stderr"); _rc=$?
  if [ $_rc -eq 0 ] && [ ! -s "$T/stdout" ] && [ ! -s "$T/stderr" ]; then ok "$_d"; return 0; fi
  bad "$_d (exit $_rc; stderr: $(head -n 3 "$T/stderr"); stdout: $(head -c 200 "$T/stdout"))"
  return 1
}

# expect_help DESC ARGS... : exit 0, usage text on stdout, nothing on stderr
expect_help() {
  _d=$1; shift
  "$RD" "$@" > "$T/stdout" 2> "$T/stderr"; _rc=$?
  if [ $_rc -eq 0 ] && grep -q 'usage' "$T/stdout" && [ ! -s "$T/stderr" ]; then ok "$_d"
  else bad "$_d (exit $_rc; stderr: $(head -n 3 "$T/stderr"))"; fi
}

# expect_error DESC CODE PATTERN ARGS... : run in the fresh directory $T/err (outputs go there),
# exit CODE, exactly one line on stderr starting with "ridgediff" and containing PATTERN
# (a fixed string; empty = any), nothing on stdout, and no file left in $T/err.
expect_error() {
  _d=$1; _code=$2; _pat=$3; shift 3
  rm -rf "$T/err"; mkdir "$T/err"
  (cd "$T/err" && "$RD" "$@" > "$T/stdout" 2> "$T/stderr"); _rc=$?
  _lines=$(wc -l < "$T/stderr" | tr -d ' ')
  _left=$(ls -A "$T/err")
  _why=""
  [ $_rc -eq "$_code" ] || _why="$_why exit $_rc (want $_code);"
  [ "$_lines" -eq 1 ] && [ "$(wc -c < "$T/stderr" | tr -d ' ')" -gt 0 ] || _why="$_why $_lines stderr lines;"
  grep -q '^ridgediff[ :]' "$T/stderr" || _why="$_why message does not start with 'ridgediff';"
  [ -z "$_pat" ] || grep -qF -- "$_pat" "$T/stderr" || _why="$_why message lacks '$_pat';"
  [ -s "$T/stdout" ] && _why="$_why output on stdout;"
  [ -z "$_left" ] || _why="$_why left files: $(echo $_left);"
  if [ -z "$_why" ]; then ok "$_d: $(cat "$T/stderr")"
  else bad "$_d:$_why stderr: $(head -n 3 "$T/stderr")"; fi
}

# ---- inputs ------------------------------------------------------------------------------

X=$IN/x2.npy;      npy "$X" "2, 2" "<f8" -3 0 3 0
Y=$IN/y2.npy;      npy "$Y" "2, 2" "<f8" 0.5 0.7 1 -2
Y3=$IN/y3.npy;     npy "$Y3" "2, 3" "<f8" 0 0 0 1 1 1
X1=$IN/x1d.npy;    npy "$X1" "4," "<f8" -3 0 3 0
XD1=$IN/xd1.npy;   npy "$XD1" "3, 1" "<f8" -1 0 2
YD1=$IN/yd1.npy;   npy "$YD1" "1, 1" "<f8" 0.5
XNAN=$IN/xnan.npy; npy "$XNAN" "2, 2" "<f8" -3 nan 3 0
YNAN=$IN/ynan.npy; npy "$YNAN" "2, 2" "<f8" 0.5 0.7 nan -2
XTR=$IN/xtrunc.npy; npy "$XTR" "2, 2" "<f8" -3 0 3
XEMPTY=$IN/xempty.npy; npy "$XEMPTY" "0, 2" "<f8"
XI4=$IN/xint.npy;  npy "$XI4" "2, 2" "<i8" 1 2 3 4
TXT=$IN/notnpy.npy; printf 'x,y\n-3,0\n3,0\n' > "$TXT"
HALF=$IN/half.npy; printf '\223NUMPY\001\000\166\000{'"'"'descr'"'" > "$HALF"
NOFILE=$IN/does_not_exist.npy

# the encoder itself (od decodes what awk encoded)
if [ $LITTLE -eq 1 ]; then
  v=$(npy_values "$Y" | tr '\n' ' ')
  [ "$v" = "0.5 0.7 1 -2 " ] && ok "test helper: npy encoder round-trips" || bad "test helper: npy encoder gives '$v'"
fi

# ---- help --------------------------------------------------------------------------------

expect_help "--help" --help
expect_help "-h" -h
expect_help "help" help
expect_help "help density" help density
expect_help "help project" help project
expect_help "density --help" density --help
expect_help "project --help" project --help
expect_help "density --help after other options" density --data "$X" --t 0 --help
"$RD" --version > "$T/stdout" 2>&1 && grep -q '^ridgediff [0-9]' "$T/stdout" && ok "--version" || bad "--version"
for verb in density project; do
  "$RD" --help | grep -q "^  $verb " && ok "--help lists $verb" || bad "--help does not list $verb"
done

# ---- density -----------------------------------------------------------------------------

if expect_ok "density: all four outputs" density --data "$X" --points "$Y" --t 0.5 \
     --logp L.npy --score S.npy --hessian H.npy --mean M.npy; then
  shapes_ok=1
  for spec in "L.npy|2,|2" "S.npy|2, 2|4" "H.npy|2, 2, 2|8" "M.npy|2, 2|4"; do
    f=${spec%%|*}; rest=${spec#*|}; shape=${rest%|*}; count=${rest#*|}
    why=$(npy_check "$T/ok/$f" "$shape" "$count") && ok "density: $f has shape ($shape)" \
      || { bad "density: $f: $why"; shapes_ok=0; }
  done
  [ "$(ls -A "$T/ok" | tr '\n' ' ')" = "H.npy L.npy M.npy S.npy " ] && ok "density: no stray files" \
    || bad "density: directory holds $(ls -A "$T/ok" | tr '\n' ' ')"
  if [ $LITTLE -eq 1 ] && [ $shapes_ok -eq 1 ]; then
    # two-point data (+-3, 0): m = (3 tanh(3 a y1 / s2), 0), C = diag(9 - m1^2, 0)
    { npy_values "$T/ok/L.npy"; npy_values "$T/ok/S.npy"; npy_values "$T/ok/H.npy"; npy_values "$T/ok/M.npy"; } |
    awk -v t=0.5 '
      function th(z) { return (exp(2 * z) - 1) / (exp(2 * z) + 1) }
      function chk(a, b, what,   tol) {
        tol = 1e-10 * (b > 1 || b < -1 ? (b < 0 ? -b : b) : 1)
        if (a - b > tol || b - a > tol) printf "FAIL density value %s: %.17g, expected %.17g\n", what, a, b
        else printf "ok density value %s = %.10g\n", what, b
      }
      { v[NR] = $1 }
      END {
        if (NR != 18) { printf "FAIL density: %d values in the outputs, expected 18\n", NR; exit }
        a = exp(-t); s2 = 1 - exp(-2 * t)
        y[1,1] = 0.5; y[1,2] = 0.7; y[2,1] = 1; y[2,2] = -2
        for (b = 1; b <= 2; b++) {
          d1 = (y[b,1] + 3 * a)^2 + y[b,2]^2; d2 = (y[b,1] - 3 * a)^2 + y[b,2]^2
          lp = log(0.5 * (exp(-d1 / (2 * s2)) + exp(-d2 / (2 * s2)))) - log(2 * 3.141592653589793 * s2)
          m1 = 3 * th(3 * a * y[b,1] / s2)
          chk(v[b], lp, "logp[" b "]")
          chk(v[2 + 2 * b - 1], (a * m1 - y[b,1]) / s2, "score[" b ",1]")
          chk(v[2 + 2 * b], (0 - y[b,2]) / s2, "score[" b ",2]")
          h = 6 + 4 * (b - 1)
          chk(v[h + 1], -1 / s2 + a * a / (s2 * s2) * (9 - m1 * m1), "hessian[" b ",1,1]")
          chk(v[h + 2], 0, "hessian[" b ",1,2]")
          chk(v[h + 3], 0, "hessian[" b ",2,1]")
          chk(v[h + 4], -1 / s2, "hessian[" b ",2,2]")
          chk(v[14 + 2 * b - 1], m1, "mean[" b ",1]")
          chk(v[14 + 2 * b], 0, "mean[" b ",2]")
        }
      }' > "$T/vals" || echo "FAIL density values: awk failed" >> "$T/vals"
    [ -s "$T/vals" ] || echo "FAIL density values: no checks ran" > "$T/vals"
    while IFS= read -r line; do
      case $line in ok\ *) ok "${line#ok }" ;; *) bad "${line#FAIL }" ;; esac
    done < "$T/vals"
  fi
fi

if expect_ok "density: --logp only, --name=value form" density --data="$X" --points "$Y" --t=0.5 --logp only.npy; then
  [ "$(ls -A "$T/ok")" = "only.npy" ] && ok "density: only the requested output is written" \
    || bad "density: wrote $(ls -A "$T/ok" | tr '\n' ' ')"
fi
expect_ok "density: negative coordinates and large t" density --data "$X" --points "$Y" --t 12 --mean M.npy

# ---- project -----------------------------------------------------------------------------

check_projection() {  # check_projection LABEL DIR : P.npy on the x axis at Y's abscissae, I.csv
  _l=$1; _dir=$2
  why=$(npy_check "$_dir/P.npy" "2, 2" 4) && ok "$_l: P.npy has shape (2, 2)" || bad "$_l: P.npy: $why"
  if [ -f "$_dir/I.csv" ]; then
    [ "$(head -n 1 "$_dir/I.csv")" = "distance,resid0,resid,iters,converged,curv_ok,gap" ] \
      && ok "$_l: info header" || bad "$_l: info header is '$(head -n 1 "$_dir/I.csv")'"
    [ "$(wc -l < "$_dir/I.csv" | tr -d ' ')" -eq 3 ] && ok "$_l: info has 2 rows" \
      || bad "$_l: info has $(($(wc -l < "$_dir/I.csv") - 1)) rows"
    awk -F, -v l="$_l" 'NR == 1 { next }
      { want = (NR == 2) ? 0.7 : 2; e = $1 - want; if (e < 0) e = -e
        if (NF != 7) { printf "FAIL %s: info row %d has %d fields\n", l, NR - 1, NF; next }
        if ($4 !~ /^[0-9]+$/ || $5 !~ /^[01]$/ || $6 !~ /^[01]$/) { printf "FAIL %s: info row %d: iters/converged/curv_ok not integers: %s\n", l, NR - 1, $0; next }
        if (e > 1e-8 || $5 != 1 || $6 != 1 || !($7 > 0)) printf "FAIL %s: info row %d: %s (want distance %g, converged, curv_ok, gap > 0)\n", l, NR - 1, $0, want
        else printf "ok %s: info row %d: distance %s, converged, curvature ok\n", l, NR - 1, $1 }' "$_dir/I.csv" > "$T/vals"
    while IFS= read -r line; do
      case $line in ok\ *) ok "${line#ok }" ;; *) bad "${line#FAIL }" ;; esac
    done < "$T/vals"
  fi
  if [ $LITTLE -eq 1 ] && [ -z "$why" ]; then
    npy_values "$_dir/P.npy" | awk -v l="$_l" '{ v[NR] = $1 }
      function far(a, b) { return a - b > 1e-8 || b - a > 1e-8 }
      END { if (NR != 4 || far(v[1], 0.5) || far(v[2], 0) || far(v[3], 1) || far(v[4], 0))
              printf "FAIL %s: P = [[%s, %s], [%s, %s]], expected [[0.5, 0], [1, 0]]\n", l, v[1], v[2], v[3], v[4]
            else printf "ok %s: P is the foot of Y on the x axis\n", l }' > "$T/vals"
    while IFS= read -r line; do
      case $line in ok\ *) ok "${line#ok }" ;; *) bad "${line#FAIL }" ;; esac
    done < "$T/vals"
  fi
}

expect_ok "project: lm with --info" project --data "$X" --points "$Y" --t 0.5 --dstar 1 --out P.npy --info I.csv \
  && check_projection "project lm" "$T/ok"
expect_ok "project: scms, beta 0.1" project --data "$X" --points "$Y" --t 0.5 --dstar 1 --method scms --beta 0.1 \
  --out P.npy --info I.csv && check_projection "project scms" "$T/ok"
if expect_ok "project: without --info" project --data "$X" --points "$Y" --t 0.5 --dstar 1 --out P.npy; then
  [ "$(ls -A "$T/ok")" = "P.npy" ] && ok "project: only P.npy written" || bad "project: wrote $(ls -A "$T/ok" | tr '\n' ' ')"
  check_projection "project default" "$T/ok"
fi
expect_ok "project: output may overwrite an existing file" project --data "$X" --points "$Y" --t 0.5 --dstar 1 --out "$IN/overwrite.npy"
expect_ok "project: ... twice" project --data "$X" --points "$Y" --t 0.5 --dstar 1 --out "$IN/overwrite.npy"

# ---- errors: one line on stderr, non-zero exit, no output file ---------------------------

D="--data $X --points $Y --t 0.5"   # paths under mktemp have no spaces
expect_error "no verb" 2 "" 
expect_error "unknown verb" 2 "frobnicate" frobnicate --data "$X"
expect_error "help for an unknown verb" 2 "frobnicate" help frobnicate
expect_error "density: missing --data" 2 "--data" density --points "$Y" --t 0.5 --logp L.npy
expect_error "project: missing --out" 2 "--out" project $D --dstar 1
expect_error "project: missing --dstar" 2 "--dstar" project $D --out P.npy
expect_error "density: unknown option" 2 "--frob" density $D --logp L.npy --frob 1
expect_error "density: single-dash option" 2 "-t" density --data "$X" --points "$Y" -t 0.5 --logp L.npy
expect_error "density: stray argument" 2 "stray" density $D --logp L.npy stray
expect_error "density: duplicate option" 2 "--t" density $D --t 0.5 --logp L.npy
expect_error "density: missing value at the end" 2 "--logp" density $D --logp
expect_error "density: missing value before an option" 2 "--t" density --data "$X" --points "$Y" --t --logp L.npy
expect_error "density: empty file name" 2 "--logp" density $D --logp ""
expect_error "density: --t 0" 2 "--t" density --data "$X" --points "$Y" --t 0 --logp L.npy
expect_error "density: --t -1" 2 "--t" density --data "$X" --points "$Y" --t -1 --logp L.npy
expect_error "density: --t abc" 2 "abc" density --data "$X" --points "$Y" --t abc --logp L.npy
expect_error "density: --t 0.5x" 2 "0.5x" density --data "$X" --points "$Y" --t 0.5x --logp L.npy
expect_error "density: --t inf" 2 "finite" density --data "$X" --points "$Y" --t inf --logp L.npy
expect_error "density: --t nan" 2 "--t" density --data "$X" --points "$Y" --t nan --logp L.npy
expect_error "density: --t 1e999" 2 "--t" density --data "$X" --points "$Y" --t 1e999 --logp L.npy
expect_error "density: no output option" 2 "--logp" density $D
expect_error "density: same output twice" 2 "same" density $D --logp A.npy --mean A.npy
expect_error "project: --dstar 0" 2 "--dstar" project $D --dstar 0 --out P.npy
expect_error "project: --dstar 2 (= d)" 2 "--dstar" project $D --dstar 2 --out P.npy --info I.csv
expect_error "project: --dstar 1.5" 2 "--dstar" project $D --dstar 1.5 --out P.npy
expect_error "project: --dstar 1 with d = 1" 2 "--dstar" project --data "$XD1" --points "$YD1" --t 0.5 --dstar 1 --out P.npy
expect_error "project: --beta -1" 2 "--beta" project $D --dstar 1 --beta -1 --out P.npy
expect_error "project: --method foo" 2 "foo" project $D --dstar 1 --method foo --out P.npy
expect_error "project: --out and --info the same" 2 "same" project $D --dstar 1 --out P.npy --info P.npy
expect_error "density: mismatched d" 1 "(2, 3)" density --data "$X" --points "$Y3" --t 0.5 --logp L.npy
expect_error "project: mismatched d" 1 "(2, 2)" project --data "$X" --points "$Y3" --t 0.5 --dstar 1 --out P.npy
expect_error "density: nonexistent data file" 1 "$NOFILE" density --data "$NOFILE" --points "$Y" --t 0.5 --logp L.npy
expect_error "project: nonexistent points file" 1 "$NOFILE" project --data "$X" --points "$NOFILE" --t 0.5 --dstar 1 --out P.npy
expect_error "density: data is a directory" 1 "$IN" density --data "$IN" --points "$Y" --t 0.5 --logp L.npy
expect_error "density: truncated .npy" 1 "$XTR" density --data "$XTR" --points "$Y" --t 0.5 --logp L.npy
expect_error "density: header cut short" 1 "$HALF" density --data "$HALF" --points "$Y" --t 0.5 --logp L.npy
expect_error "density: not a .npy file" 1 "$TXT" density --data "$TXT" --points "$Y" --t 0.5 --logp L.npy
expect_error "density: integer dtype" 1 "$XI4" density --data "$XI4" --points "$Y" --t 0.5 --logp L.npy
expect_error "density: 1-D data" 1 "(4,)" density --data "$X1" --points "$Y" --t 0.5 --logp L.npy
expect_error "density: empty data" 1 "$XEMPTY" density --data "$XEMPTY" --points "$Y" --t 0.5 --logp L.npy
expect_error "density: NaN in data" 1 "NaN" density --data "$XNAN" --points "$Y" --t 0.5 --logp L.npy
expect_error "project: NaN in data" 1 "NaN" project --data "$XNAN" --points "$Y" --t 0.5 --dstar 1 --out P.npy
expect_error "density: NaN in points" 1 "NaN" density --data "$X" --points "$YNAN" --t 0.5 --logp L.npy
expect_error "density: unwritable second output removes the first" 1 "nodir" \
  density $D --logp L.npy --score nodir/S.npy --mean M.npy
expect_error "project: unwritable --info removes --out" 1 "nodir" project $D --dstar 1 --out P.npy --info nodir/I.csv
expect_error "project: unwritable --out" 1 "nodir" project $D --dstar 1 --out nodir/P.npy --info I.csv

# ---- train and sample --------------------------------------------------------------------

TWO=$(cd "$(dirname "$0")/.." && pwd)/data/two_points.npy   # (-3, 0), (3, 0)
[ -f "$TWO" ] || { npy "$IN/two.npy" "2, 2" "<f8" -3 0 3 0; TWO=$IN/two.npy; }

expect_help "help train" help train
expect_help "help sample" help sample
expect_help "train --help" train --help
expect_help "sample --help" sample --help
for verb in train sample; do
  "$RD" --help | grep -q "^  $verb " && ok "--help lists $verb" || bad "--help does not list $verb"
done

# vals_check LABEL AWKPROGRAM FILE... : runs awk over the values of the files (one per line,
# with FILENAME) and turns its "ok"/"FAIL" lines into checks
vals_check() {
  _l=$1; _prog=$2; shift 2
  for _f in "$@"; do npy_values "$_f"; echo "--"; done | awk -v l="$_l" "$_prog" > "$T/vals" \
    || echo "FAIL $_l: awk failed" >> "$T/vals"
  [ -s "$T/vals" ] || echo "FAIL $_l: no checks ran" > "$T/vals"
  while IFS= read -r line; do
    case $line in ok\ *) ok "${line#ok }" ;; *) bad "${line#FAIL }" ;; esac
  done < "$T/vals"
}

# exact model on the two points: shapes, checkpoint times, samples at a_t0 (+-3, 0)
if expect_ok "sample: exact, SDE, with --traj --times --every" sample --exact "$TWO" --n 40 --steps 200 \
     --seed 3 --out S.npy --traj TR.npy --times TI.npy --every 50; then
  why=$(npy_check "$T/ok/S.npy" "40, 2" 80) && ok "sample: S.npy has shape (40, 2)" || bad "sample: S.npy: $why"
  why=$(npy_check "$T/ok/TR.npy" "5, 40, 2" 400) && ok "sample: TR.npy has shape (5, 40, 2)" || bad "sample: TR.npy: $why"
  why=$(npy_check "$T/ok/TI.npy" "5," 5) && ok "sample: TI.npy has shape (5,)" || bad "sample: TI.npy: $why"
  [ "$(ls -A "$T/ok" | tr '\n' ' ')" = "S.npy TI.npy TR.npy " ] && ok "sample: no stray files" \
    || bad "sample: directory holds $(ls -A "$T/ok" | tr '\n' ' ')"
  if [ $LITTLE -eq 1 ]; then
    # times: T (t0/T)^(k/200) at k = 0, 50, 100, 150, 200
    vals_check "sample times" '$1 == "--" { next } { v[++n] = $1 }
      END { if (n != 5) { print "FAIL " l ": " n " values"; exit }
            for (c = 1; c <= 5; c++) { w = 10 * (0.0005 ^ ((c - 1) / 4)); e = v[c] - w; if (e < 0) e = -e
              if (e > 1e-9 * w) { printf "FAIL %s[%d] = %s, expected %.12g\n", l, c - 1, v[c], w; bad = 1 } }
            if (!bad) print "ok " l ": 10 ... 0.005 on the geometric grid" }' "$T/ok/TI.npy"
    # samples: each within 6 s_t0 of a_t0 (+-3, 0); both modes used; the last checkpoint is S
    vals_check "sample exact two points" 'BEGIN { f = 0 } $1 == "--" { f++; next } { v[f, ++n[f]] = $1 }
      END { a = exp(-0.005); s = sqrt(1 - exp(-0.01)); far = 0; right = 0
            for (i = 1; i <= 40; i++) { x = v[0, 2 * i - 1]; y = v[0, 2 * i]; c = x > 0 ? 3 * a : -3 * a
              if (x > 0) right++
              if (sqrt((x - c) ^ 2 + y ^ 2) > 6 * s) far++ }
            if (far) printf "FAIL %s: %d of 40 samples farther than 6 s_t0 from a_t0 (+-3, 0)\n", l, far
            else printf "ok %s: all samples within 6 s_t0 of a_t0 (+-3, 0) (%d at +3)\n", l, right
            if (right < 5 || right > 35) printf "FAIL %s: %d of 40 samples at +3\n", l, right
            same = 1
            for (i = 1; i <= 80; i++) if (v[0, i] != v[1, 320 + i]) same = 0
            if (same) print "ok " l ": the last checkpoint of TR equals S"
            else print "FAIL " l ": TR[4] differs from S" }' "$T/ok/S.npy" "$T/ok/TR.npy"
  fi
fi
expect_ok "sample: --ode flag, --T, --t0" sample --exact "$TWO" --n 7 --steps 50 --ode --T 5 --t0 0.01 --out S.npy
expect_ok "sample: --traj alone (every 100 by default)" sample --exact "$TWO" --n 3 --steps 250 --out S.npy --traj TR.npy \
  && { why=$(npy_check "$T/ok/TR.npy" "4, 3, 2" 24) && ok "sample: default --every 100 gives steps 0 100 200 250" \
       || bad "sample: TR.npy: $why"; }

# determinism: same seed gives the same bytes for 1 and 2 threads; another seed differs
mkdir "$T/det"
for th in 1 2; do
  (cd "$T/det" && OMP_NUM_THREADS=$th "$RD" sample --exact "$TWO" --n 150 --steps 100 --seed 11 \
     --out "S$th.npy" --traj "TR$th.npy" --every 25) || bad "sample with OMP_NUM_THREADS=$th failed"
  (cd "$T/det" && OMP_NUM_THREADS=$th "$RD" sample --exact "$TWO" --n 150 --steps 100 --seed 11 --ode \
     --out "O$th.npy") || bad "sample --ode with OMP_NUM_THREADS=$th failed"
done
cmp -s "$T/det/S1.npy" "$T/det/S2.npy" && ok "sample: identical samples for 1 and 2 threads" \
  || bad "sample: samples differ between 1 and 2 threads"
cmp -s "$T/det/TR1.npy" "$T/det/TR2.npy" && ok "sample: identical trajectories for 1 and 2 threads" \
  || bad "sample: trajectories differ between 1 and 2 threads"
cmp -s "$T/det/O1.npy" "$T/det/O2.npy" && ok "sample --ode: identical samples for 1 and 2 threads" \
  || bad "sample --ode: samples differ between 1 and 2 threads"
(cd "$T/det" && "$RD" sample --exact "$TWO" --n 150 --steps 100 --seed 12 --out S3.npy) || bad "sample --seed 12 failed"
cmp -s "$T/det/S1.npy" "$T/det/S3.npy" && bad "sample: --seed 12 gives the same samples as --seed 11" \
  || ok "sample: another seed gives other samples"

# train: both kinds write a model file that sample can use
if expect_ok "train: mlp, small" train --data "$TWO" --model mlp --hidden 16,16 --steps 200 --seed 1 --out M.rdg; then
  [ "$(head -c 8 "$T/ok/M.rdg")" = "RDGMODEL" ] && ok "train: mlp model file starts with RDGMODEL" \
    || bad "train: mlp model file has no RDGMODEL magic"
  [ "$(ls -A "$T/ok")" = "M.rdg" ] && ok "train: only the model file is written" || bad "train: wrote $(ls -A "$T/ok" | tr '\n' ' ')"
  cp "$T/ok/M.rdg" "$IN/mlp.rdg"
fi
if expect_ok "train: rfnn, small, weight snr" train --data "$TWO" --model rfnn --width 64 --steps 1000 --weight snr --out R.rdg; then
  [ "$(head -c 8 "$T/ok/R.rdg")" = "RDGMODEL" ] && ok "train: rfnn model file starts with RDGMODEL" \
    || bad "train: rfnn model file has no RDGMODEL magic"
  cp "$T/ok/R.rdg" "$IN/rfnn.rdg"
fi
for kind in mlp rfnn; do
  [ -f "$IN/$kind.rdg" ] || continue
  expect_ok "sample: from the $kind model" sample --model "$IN/$kind.rdg" --n 5 --steps 50 --out S.npy \
    && { why=$(npy_check "$T/ok/S.npy" "5, 2" 10) && ok "sample: $kind samples have shape (5, 2)" || bad "sample: $kind: $why"; }
done
# training is deterministic too
for kind in mlp rfnn; do
  [ -f "$IN/$kind.rdg" ] || continue
  if [ $kind = mlp ]; then targs="--model mlp --hidden 16,16 --steps 200 --seed 1"
  else targs="--model rfnn --width 64 --steps 1000 --weight snr"; fi
  for th in 1 2; do
    (cd "$T/det" && OMP_NUM_THREADS=$th "$RD" train --data "$TWO" $targs --out "$kind$th.rdg") || bad "train $kind with OMP_NUM_THREADS=$th failed"
  done
  cmp -s "$T/det/${kind}1.rdg" "$T/det/${kind}2.rdg" && cmp -s "$IN/$kind.rdg" "$T/det/${kind}1.rdg" \
    && ok "train: $kind model identical for 1 and 2 threads" || bad "train: $kind model differs between runs / thread counts"
done

# corrupt and wrong model files
printf 'not a model\n' > "$IN/text.rdg"
printf 'RDGMODEL' > "$IN/magic_only.rdg"
if [ -f "$IN/mlp.rdg" ]; then head -c 100 "$IN/mlp.rdg" > "$IN/cut.rdg"; else printf 'RDGMODEL\001' > "$IN/cut.rdg"; fi
expect_error "sample: text file as model" 1 "text.rdg" sample --model "$IN/text.rdg" --n 5 --out S.npy
expect_error "sample: model file with only the magic" 1 "magic_only.rdg" sample --model "$IN/magic_only.rdg" --n 5 --out S.npy
expect_error "sample: truncated model file" 1 "cut.rdg" sample --model "$IN/cut.rdg" --n 5 --out S.npy
expect_error "sample: .npy as model" 1 "x2.npy" sample --model "$X" --n 5 --out S.npy
expect_error "sample: nonexistent model" 1 "$NOFILE" sample --model "$NOFILE" --n 5 --out S.npy

# usage errors
SE="sample --exact $TWO --out S.npy"
expect_error "sample: --n 0" 2 "--n" $SE --n 0
expect_error "sample: --n -3" 2 "--n" $SE --n -3
expect_error "sample: --n missing" 2 "--n" $SE
expect_error "sample: --every 0" 2 "--every" $SE --n 5 --traj TR.npy --every 0
expect_error "sample: --every without --traj" 2 "--traj" $SE --n 5 --every 10
expect_error "sample: --times without --traj" 2 "--traj" $SE --n 5 --times TI.npy
expect_error "sample: --steps 0" 2 "--steps" $SE --n 5 --steps 0
expect_error "sample: --steps 2.5" 2 "--steps" $SE --n 5 --steps 2.5
expect_error "sample: --t0 0" 2 "--t0" $SE --n 5 --t0 0
expect_error "sample: --t0 >= --T" 2 "--t0" $SE --n 5 --T 1 --t0 2
expect_error "sample: --T nan" 2 "--T" $SE --n 5 --T nan
expect_error "sample: --seed -1" 2 "--seed" $SE --n 5 --seed -1
expect_error "sample: --ode with a value" 2 "--ode" $SE --n 5 --ode=1
expect_error "sample: --ode followed by a stray word" 2 "yes" $SE --n 5 --ode yes
expect_error "sample: no model" 2 "--model" sample --n 5 --out S.npy
expect_error "sample: --model and --exact" 2 "both" $SE --n 5 --model "$IN/text.rdg"
expect_error "sample: --out and --traj the same" 2 "same" $SE --n 5 --traj S.npy
expect_error "sample: missing --out" 2 "--out" sample --exact "$TWO" --n 5
expect_error "sample: NaN in exact data" 1 "NaN" sample --exact "$XNAN" --n 5 --out S.npy
expect_error "sample: 1-D exact data" 1 "(4,)" sample --exact "$X1" --n 5 --out S.npy
expect_error "sample: unwritable --traj removes --out" 1 "nodir" $SE --n 5 --traj nodir/TR.npy
expect_error "sample: unwritable --times removes the others" 1 "nodir" $SE --n 5 --traj TR.npy --times nodir/TI.npy
expect_error "train: missing --model" 2 "--model" train --data "$TWO" --out M.rdg
expect_error "train: --model foo" 2 "foo" train --data "$TWO" --model foo --out M.rdg
expect_error "train: missing --out" 2 "--out" train --data "$TWO" --model mlp
expect_error "train: --width with mlp" 2 "--width" train --data "$TWO" --model mlp --width 10 --out M.rdg
expect_error "train: --hidden with rfnn" 2 "--hidden" train --data "$TWO" --model rfnn --hidden 8 --out M.rdg
expect_error "train: --hidden 0" 2 "--hidden" train --data "$TWO" --model mlp --hidden 0 --out M.rdg
expect_error "train: --hidden 8,,8" 2 "--hidden" train --data "$TWO" --model mlp --hidden 8,,8 --out M.rdg
expect_error "train: --hidden 8,x" 2 "--hidden" train --data "$TWO" --model mlp --hidden 8,x --out M.rdg
expect_error "train: --hidden with 9 layers" 2 "--hidden" train --data "$TWO" --model mlp --hidden 1,1,1,1,1,1,1,1,1 --out M.rdg
expect_error "train: --width 0" 2 "--width" train --data "$TWO" --model rfnn --width 0 --out M.rdg
expect_error "train: --lr 0" 2 "--lr" train --data "$TWO" --model mlp --lr 0 --out M.rdg
expect_error "train: --steps -1" 2 "--steps" train --data "$TWO" --model mlp --steps -1 --out M.rdg
expect_error "train: --weight foo" 2 "foo" train --data "$TWO" --model mlp --weight foo --out M.rdg
expect_error "train: NaN in data" 1 "NaN" train --data "$XNAN" --model mlp --steps 10 --out M.rdg
expect_error "train: nonexistent data" 1 "$NOFILE" train --data "$NOFILE" --model mlp --out M.rdg
expect_error "train: unwritable --out" 1 "nodir" train --data "$TWO" --model mlp --hidden 4 --steps 10 --out nodir/M.rdg
expect_error "train: rfnn --lr too large diverges" 1 "--lr" train --data "$TWO" --model rfnn --width 32 --lr 1000 --out R.rdg

# ---- numpy cross-checks (only when numpy is available) -----------------------------------

PY=""
for p in /usr/bin/python3 python3; do
  if "$p" -c 'import numpy' > /dev/null 2>&1; then PY=$p; break; fi
done
if [ -z "$PY" ]; then
  echo "(numpy not found: numpy cross-checks skipped)"
else
  mkdir "$T/np"
  "$PY" - "$RD" "$T/np" "$X" "$Y" > "$T/vals" 2>&1 <<'EOF'
import os, subprocess, sys
import numpy as np
rd, tmp, xpath, ypath = sys.argv[1:5]

def report(cond, what):
    print(("ok " if cond else "FAIL ") + what)

def run(*args):
    r = subprocess.run([rd] + [str(a) for a in args], cwd=tmp, capture_output=True, text=True)
    if r.returncode != 0 or r.stderr or r.stdout:
        print("FAIL numpy: ridgediff %s: exit %d: %s" % (" ".join(map(str, args)), r.returncode, r.stderr.strip()))
        return False
    return True

def f(name):
    return os.path.join(tmp, name)

def reference(X, Y, t):
    a, s2 = np.exp(-t), -np.expm1(-2 * t)
    d = X.shape[1]
    E = -((Y[:, None, :] - a * X[None, :, :]) ** 2).sum(-1) / (2 * s2)
    mx = E.max(1, keepdims=True)
    W = np.exp(E - mx); S = W.sum(1, keepdims=True); W /= S
    logp = (mx + np.log(S))[:, 0] - np.log(len(X)) - d / 2 * np.log(2 * np.pi * s2)
    m = W @ X
    c = X[None, :, :] - m[:, None, :]
    C = np.einsum('bn,bni,bnj->bij', W, c, c)
    H = -np.eye(d) / s2 + a * a / s2 ** 2 * C
    return logp, (a * m - Y) / s2, H, m, C

def close(got, want, tol, what):
    err = np.max(np.abs(got - want) / np.maximum(1, np.abs(want)))
    report(got.shape == want.shape and err <= tol, "numpy: %s (max rel err %.2e)" % (what, err))

# two-point data: outputs load with numpy, P is the foot of Y on the x axis
X, Y = np.load(xpath), np.load(ypath)
if run("project", "--data", xpath, "--points", ypath, "--t", 0.5, "--dstar", 1, "--out", "P.npy"):
    P = np.load(f("P.npy"))
    report(P.dtype == np.float64 and P.shape == (2, 2), "numpy: P.npy loads as float64 (2, 2)")
    report(np.all(np.abs(P[:, 1]) <= 1e-8), "numpy: P[:, 1] ~ 0 (%s)" % P[:, 1])
    report(np.all(np.abs(P[:, 0] - Y[:, 0]) <= 1e-8), "numpy: P[:, 0] = Y[:, 0] (%s)" % P[:, 0])

# a random 3-D data set: every density output against a direct evaluation, and the same
# data read as float32, big-endian float64 and format 2.0 gives the same numbers
rng = np.random.default_rng(7)
X = rng.normal(size=(9, 3)); Y = rng.normal(size=(5, 3)) * 1.5
np.save(f("X.npy"), X); np.save(f("Y.npy"), Y)
for t in (0.05, 0.7, 3.0):
    if run("density", "--data", "X.npy", "--points", "Y.npy", "--t", t,
           "--logp", "L.npy", "--score", "S.npy", "--hessian", "H.npy", "--mean", "M.npy"):
        logp, score, H, m, C = reference(X, Y, t)
        close(np.load(f("L.npy")), logp, 1e-10, "logp, t=%g" % t)
        close(np.load(f("S.npy")), score, 1e-9, "score, t=%g" % t)
        close(np.load(f("H.npy")), H, 1e-9, "hessian, t=%g" % t)
        close(np.load(f("M.npy")), m, 1e-10, "mean, t=%g" % t)
np.save(f("X32.npy"), X.astype(np.float32))
np.save(f("Xbe.npy"), X.astype('>f8'))
np.lib.format.write_array(open(f("X2.npy"), "wb"), X, version=(2, 0))
for name, Xr in (("X32.npy", X.astype(np.float32).astype(np.float64)), ("Xbe.npy", X), ("X2.npy", X)):
    if run("density", "--data", name, "--points", "Y.npy", "--t", 0.3, "--mean", "M.npy"):
        close(np.load(f("M.npy")), reference(Xr, Y, 0.3)[3], 1e-10, "mean from %s" % name)

# projections on the random data: the info CSV matches P, and converged points are on the ridge
for method in ("lm", "scms"):
    for dstar in (1, 2):
        if not run("project", "--data", "X.npy", "--points", "Y.npy", "--t", 0.5, "--dstar", dstar,
                   "--method", method, "--out", "P.npy", "--info", "I.csv"):
            continue
        P = np.load(f("P.npy"))
        lines = open(f("I.csv")).read().splitlines()
        report(lines[0] == "distance,resid0,resid,iters,converged,curv_ok,gap" and len(lines) == 6,
               "numpy: %s d*=%d: info has the header and 5 rows" % (method, dstar))
        info = np.array([[float(v) for v in l.split(",")] for l in lines[1:]])
        close(info[:, 0], np.linalg.norm(P - Y, axis=1), 1e-9, "%s d*=%d: distance = |P - Y|" % (method, dstar))
        a, s2 = np.exp(-0.5), -np.expm1(-2 * 0.5)
        _, g, H, _, C = reference(X, Y, 0.5)
        _, g0, H0, _, C0 = reference(X, P, 0.5)
        ok = True
        for b in range(len(Y)):
            for (gg, CC, col, what) in ((g[b], C[b], 1, "resid0"), (g0[b], C0[b], 2, "resid")):
                w, V = np.linalg.eigh(CC)
                E = V[:, :3 - dstar]                 # smallest eigenvalues of C = normal frame
                r = np.linalg.norm(E.T @ gg)
                if abs(r - info[b, col]) > 1e-6 * max(1, r):
                    ok = False; print("FAIL numpy: %s d*=%d point %d: %s %.17g, numpy %.17g" % (method, dstar, b, what, info[b, col], r))
            if info[b, 4] == 1 and s2 * np.linalg.norm(
                    np.linalg.eigh(C0[b])[1][:, :3 - dstar].T @ g0[b]) > 1e-6:
                ok = False; print("FAIL numpy: %s d*=%d point %d converged but off the ridge" % (method, dstar, b))
        report(ok, "numpy: %s d*=%d: resid0, resid match a numpy evaluation; converged points are on the ridge (%d/5 converged)"
               % (method, dstar, int(info[:, 4].sum())))
EOF
  rc=$?
  while IFS= read -r line; do
    case $line in ok\ *) ok "${line#ok }" ;; FAIL\ *) bad "${line#FAIL }" ;; *) echo "  $line" ;; esac
  done < "$T/vals"
  [ $rc -eq 0 ] || bad "numpy checks: python exited with $rc"
fi

finish
