#!/bin/sh
# Fuzz targets of ridgediff (tests/fuzz/fuzz_<name>.c): the .npy loader, the CLI, the model
# file loader.
#   sh tests/fuzz/fuzz.sh replay          replays tests/fuzz/corpus/<name>/ through each target's
#                                         plain main() under ASan+UBSan (part of `make test`)
#   sh tests/fuzz/fuzz.sh fuzz SECONDS    runs each target under libFuzzer (clang
#                                         -fsanitize=fuzzer,address,undefined) for SECONDS;
#                                         skips with a message when libFuzzer is unavailable
# A target whose library function does not exist yet (the model loader while it is being
# written) is skipped with a message. New inputs found by libFuzzer go to build/fuzz/work/<name>
# (not the committed corpus); crashes to build/fuzz/artifacts/ and fail the run.
# Environment: CC (replay compiler, default cc), CLANG (default clang), FUZZ_TARGETS (subset).
mode=${1:-replay}
secs=${2:-30}
CC=${CC:-cc}
CLANG=${CLANG:-clang}
here=$(cd "$(dirname "$0")/../.." && pwd)
cd "$here" || exit 1
out="$here/build/fuzz"   # absolute: the CLI target changes its working directory
mkdir -p "$out" "$out/artifacts"
targets=${FUZZ_TARGETS:-"npy cli model"}
SAN="-fsanitize=address,undefined -fsanitize=float-cast-overflow -fno-sanitize-recover=all -fno-omit-frame-pointer"
pass=0; fail=0; skip=0

# maxlen per target (libFuzzer -max_len): keeps the CLI's projections cheap
maxlen() { case $1 in cli) echo 2048 ;; *) echo 4096 ;; esac; }
# the CLI prints; keep libFuzzer's own report (it restores stderr for crash reports)
fdmask() { case $1 in cli) echo 3 ;; *) echo 0 ;; esac; }

# build NAME OUTPUT COMPILER FLAGS... : 0 built, 1 failed, 2 skipped (a library symbol missing)
build() {
    name=$1; bin=$2; shift 2
    if "$@" -I. -o "$bin" "tests/fuzz/fuzz_$name.c" -lm > "$bin.log" 2>&1; then return 0; fi
    missing=$(grep -o "undefined reference to \`rdg_[a-z0-9_]*'" "$bin.log" | sort -u | sed "s/undefined reference to //" | tr '\n' ' ')
    others=$(grep -c "error" "$bin.log" | tr -d ' ')
    if [ -n "$missing" ] && ! grep -v -e "undefined reference to \`rdg_" -e "linker command failed" -e "ld returned" "$bin.log" | grep -q "error:"; then
        echo "skip $name: the library does not define $missing yet"
        return 2
    fi
    echo "FAIL $name: build failed ($others error lines):"; sed -n '1,25p' "$bin.log"
    return 1
}

# seeds NAME DIR : the committed corpus plus generated seeds (model files written by the library)
seeds() {
    name=$1; dir=$2
    mkdir -p "$dir"
    cp tests/fuzz/corpus/"$name"/* "$dir"/ 2>/dev/null
    if [ "$name" = model ] || [ "$name" = cli ]; then
        gdir="$dir"; [ "$name" = cli ] && { gdir="$out/gen_models"; rm -rf "$gdir"; mkdir -p "$gdir"; }
        if $CC -std=c99 -O1 -I. -o "$out/gen_model_seeds" tests/fuzz/gen_model_seeds.c -lm > "$out/gen.log" 2>&1 ||
           $CC -std=c99 -O1 -I. -DRDG_FZ_NO_RFNN -o "$out/gen_model_seeds" tests/fuzz/gen_model_seeds.c -lm >> "$out/gen.log" 2>&1; then
            "$out/gen_model_seeds" "$gdir" || echo "note: gen_model_seeds failed (exit $?)"
            if [ "$name" = cli ]; then   # the CLI's sample verb on a real model file (as in.npy)
                for m in rfnn_d2_m6 mlp_d2_8_4; do
                    [ -f "$gdir/$m" ] || continue
                    { printf 'sample\n--model\nin.npy\n--n\n2\n--steps\n3\n--out\ns.npy'; printf '\000'; cat "$gdir/$m"; } > "$dir/sample_model_$m"
                done
            fi
        else
            echo "note: model seeds not generated (gen_model_seeds does not build yet)"
        fi
    fi
}

case $mode in
replay)
    for t in $targets; do
        bin="$out/replay_$t"
        build "$t" "$bin" $CC -std=c99 -O1 -g $SAN; rc=$?
        [ $rc -eq 2 ] && { skip=$((skip + 1)); continue; }
        [ $rc -ne 0 ] && { fail=$((fail + 1)); continue; }
        rm -rf "$out/seeds_$t"; seeds "$t" "$out/seeds_$t" >/dev/null
        if ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 "$bin" "$out/seeds_$t" > "$out/replay_$t.out" 2>&1; then
            echo "ok $(tail -n 1 "$out/replay_$t.out" | sed 's/: \([0-9]*\) passed.*/: \1 inputs/')"
            pass=$((pass + 1))
        else
            echo "FAIL replay $t:"; tail -n 30 "$out/replay_$t.out"; fail=$((fail + 1))
        fi
    done
    echo "fuzz-replay: $pass passed, $fail failed, $skip skipped"
    ;;
fuzz)
    probe="$out/probe_fuzzer"
    printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n);\nint LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' > "$probe.c"
    if ! command -v "$CLANG" >/dev/null 2>&1 || ! "$CLANG" -fsanitize=fuzzer,address "$probe.c" -o "$probe" > /dev/null 2>&1; then
        echo "skip fuzz: libFuzzer is not available ($CLANG -fsanitize=fuzzer fails; on Debian: apt-get install clang libclang-rt-14-dev)"
        exit 0
    fi
    for t in $targets; do
        bin="$out/fuzz_$t"
        build "$t" "$bin" "$CLANG" -std=c99 -O1 -g -DRDG_LIBFUZZER -fsanitize=fuzzer $SAN; rc=$?
        [ $rc -eq 2 ] && { skip=$((skip + 1)); continue; }
        [ $rc -ne 0 ] && { fail=$((fail + 1)); continue; }
        work="$out/work/$t"
        seeds "$t" "$work"
        dict=""; [ -f "tests/fuzz/$t.dict" ] && dict="-dict=tests/fuzz/$t.dict"
        echo "fuzz $t for ${secs}s (corpus $work)"
        if ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 "$bin" -max_total_time="$secs" \
               -max_len="$(maxlen "$t")" -close_fd_mask="$(fdmask "$t")" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
               -artifact_prefix="$out/artifacts/$t-" $dict "$work" > "$out/fuzz_$t.log" 2>&1; then
            echo "ok fuzz $t: $(grep -E 'stat::number_of_executed_units' "$out/fuzz_$t.log" | awk '{print $2}') runs, corpus $(ls "$work" | wc -l) files"
            pass=$((pass + 1))
        else
            echo "FAIL fuzz $t (artifacts in $out/artifacts):"; grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$out/fuzz_$t.log" | head -n 20
            fail=$((fail + 1))
        fi
    done
    echo "fuzz: $pass passed, $fail failed, $skip skipped"
    ;;
*) echo "usage: sh tests/fuzz/fuzz.sh replay | fuzz SECONDS"; exit 2 ;;
esac
[ "$fail" -eq 0 ]
