# ridgediff - build, test, examples. Needs only cc and -lm; OpenMP is used when the compiler
# accepts -fopenmp (NO_OMP=1 turns it off). SIMD paths follow the compiler's own macros: the
# command-line tool, the examples and the benchmark are built with -march=native when the
# compiler accepts it (NATIVE=0: portable binaries, scalar kernels). So are the unit tests, so
# that they run the kernels the tool runs; the scalar kernels run in `make asan` (the same
# suites), valgrind and `make portability`, and `make simd` adds AVX2 and emulated AVX-512.
CC      ?= cc
CXX     ?= c++
OPT     ?= -O2
WARN     = -std=c99 -Wall -Wextra -pedantic
CFLAGS  ?= $(OPT)
# The command-line tool, the examples and the benchmark add FAST: GCC vectorises the library's
# remaining small dense loops (tridiagonalisation, Jacobian products) only from -O3 (ridge
# projections at N = 2000, d = 32: 1.1x faster than -O2 on one thread, the same bits, since
# -std=c99 keeps every rounding as written).
FAST    ?= -O3
PYTHON  ?= python3
ifeq ($(NO_OMP),1)
OMPFLAG :=
else
OMPFLAG := $(shell printf 'int main(void){return 0;}' | $(CC) -fopenmp -x c - -o /dev/null 2>/dev/null && echo -fopenmp)
endif
ALLCFLAGS = $(WARN) $(CFLAGS) $(OMPFLAG) -I.
NATIVE  ?= 1
ifeq ($(NATIVE),1)
MARCH := $(shell printf 'int main(void){return 0;}' | $(CC) -march=native -x c - -o /dev/null 2>/dev/null && echo -march=native)
else
MARCH :=
endif
LDLIBS   = -lm

HDR       = ridgediff.h $(wildcard wip/*.h)
FUZZ_SECONDS ?= 60
TEST_SRC  = $(wildcard tests/test_*.c)
TEST_BIN  = $(patsubst tests/%.c,build/%,$(TEST_SRC))
ASAN_BIN  = $(patsubst tests/%.c,build/asan/%,$(TEST_SRC))
EX_SRC    = $(wildcard examples/*.c)
EX_BIN    = $(patsubst examples/%.c,build/examples/%,$(EX_SRC))


.PHONY: all test unit simd asan strict cli crosscheck examples clean fuzz fuzz-replay determinism \
        valgrind valgrind-fast portability

all: tools/ridgediff examples

tools/ridgediff: tools/ridgediff.c tools/plot.h tools/experiments.h $(HDR)
	$(CC) $(ALLCFLAGS) $(FAST) $(MARCH) -o $@ tools/ridgediff.c $(LDLIBS)

examples: $(EX_BIN)
build/examples/%: examples/%.c $(HDR) | build/examples
	$(CC) $(ALLCFLAGS) $(FAST) $(MARCH) -o $@ $< $(LDLIBS)

build/%: tests/%.c $(HDR) tests/rdg_test.h | build
	$(CC) $(ALLCFLAGS) $(MARCH) -o $@ $< $(LDLIBS)

build/asan/%: tests/%.c $(HDR) tests/rdg_test.h | build/asan
	$(CC) $(WARN) -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
	  -fno-omit-frame-pointer -I. -o $@ $< $(LDLIBS)

build build/asan build/examples:
	mkdir -p $@

# The whole suite: unit tests, the CLI, the strict build matrix, the suite again under
# AddressSanitizer + UBSan, the fuzz corpus replayed under ASan+UBSan, byte-identical results
# at 1, 2 and 7 threads, a fast valgrind subset, and the cross-check against an independent
# numpy implementation. Slower extras, not in `make test`: `make valgrind` (whole suite under
# memcheck), `make fuzz FUZZ_SECONDS=N` (libFuzzer), `make portability` (other compilers,
# libcs, float, aarch64/qemu, mingw/wine, Cortex-M4).
# The test binaries are compiled first, two at a time (compiling the header is most of the
# time on 2 cores); the stages then run one after another.
JOBS ?= 2
test:
	$(MAKE) -j$(JOBS) $(TEST_BIN) $(ASAN_BIN) build/determinism tools/ridgediff
	$(MAKE) unit simd cli strict asan fuzz-replay determinism valgrind-fast crosscheck pictures
	@echo "make test: all stages passed"

unit: $(TEST_BIN)
	./tests/run.sh $(TEST_BIN)

# The kernel suites again with AVX2+FMA and on emulated AVX-512 (tests/simd.sh; the unit
# suite itself is built with $(MARCH)).
simd:
	CC="$(CC)" MARCH="$(MARCH)" sh tests/simd.sh

asan: $(ASAN_BIN)
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ./tests/run.sh $(ASAN_BIN)

cli: tools/ridgediff
	sh tests/cli_test.sh ./tools/ridgediff

strict:
	sh tests/strict_builds.sh

crosscheck: tools/ridgediff
	sh tests/crosscheck.sh ./tools/ridgediff $(PYTHON)

# Fuzzing (tests/fuzz/): replay the committed corpus through each target's plain main() under
# ASan+UBSan (cheap, in `make test`), or run libFuzzer for FUZZ_SECONDS per target.
fuzz-replay:
	CC="$(CC)" sh tests/fuzz/fuzz.sh replay

fuzz:
	sh tests/fuzz/fuzz.sh fuzz $(FUZZ_SECONDS)

# Determinism across thread counts: the library (tests/determinism.c) and the CLI
# (tests/determinism.sh, OMP_NUM_THREADS=1/2/7, outputs compared with cmp).
build/determinism: tests/determinism.c $(HDR) tests/rdg_test.h | build
	$(CC) $(ALLCFLAGS) -o $@ $< $(LDLIBS)

determinism: build/determinism tools/ridgediff
	./tests/run.sh build/determinism
	sh tests/determinism.sh ./tools/ridgediff

# valgrind memcheck: the whole suite, the determinism test and the CLI tests (`make valgrind`,
# minutes), or the fast tests only (`valgrind-fast`, in `make test`). Skips without valgrind.
valgrind:
	CC="$(CC)" sh tests/valgrind.sh all

valgrind-fast:
	CC="$(CC)" sh tests/valgrind.sh fast

# Other compilers, libcs and targets; each step skips with a message when its toolchain is
# missing (.ci/run installs them all).
portability:
	sh tests/portability.sh

clean:
	rm -rf build tools/ridgediff tools/bench

# The paper's experiments on the bundled data (tables, pictures, demo-out/index.html).
.PHONY: demo demo-quick
demo: tools/ridgediff
	./tools/ridgediff demo --out demo-out

demo-quick: tools/ridgediff
	./tools/ridgediff demo --out demo-out --quick

# Pictures and the HTML report are well-formed XML: the plot helper's own outputs, and a quick
# `ridgediff demo` (about a minute) whose SVGs and index.html are parsed with xmllint.
.PHONY: pictures
pictures: build/test_plot tools/ridgediff
	rm -rf build/plots build/demo-quick
	RDG_PLOT_OUT=build/plots ./build/test_plot > /dev/null
	./tools/ridgediff demo --out build/demo-quick --quick 2> build/demo-quick.log
	sh tests/svg_check.sh build/plots/*.svg build/plots/*.html build/demo-quick/*.svg build/demo-quick/index.html

# Benchmark (tools/bench.c, never part of `make test`): W1 density, W2 projection, W3 sampling
# against the numpy peer tools/bench_peer.py, W4 the paper's experiments timed; results in
# build/bench/bench.json. Built with $(FAST) and $(MARCH).
# `make bench BENCH_ARGS="--only W1 --repeat 5"`; `make bench-quick` takes well under a minute.
.PHONY: bench bench-quick
BENCH_ARGS ?=

tools/bench: tools/bench.c tools/experiments.h tools/plot.h $(HDR)
	$(CC) $(WARN) $(FAST) $(MARCH) $(OMPFLAG) -I. -o $@ tools/bench.c $(LDLIBS)

bench: tools/bench
	./tools/bench $(BENCH_ARGS)

bench-quick: tools/bench
	./tools/bench --quick $(BENCH_ARGS)

# Two versions of the header timed in one process, in turns, in both placements of the two
# (tools/ab.sh, tools/ab.c): the few-percent levers that separate runs of `make bench` cannot
# resolve on a drifting machine. A, B: git revisions or header files.
# `make ab A=HEAD~1 B=HEAD AB_ARGS="-w W2lm -r 20"` (workloads W3, W2lm, W2scms, W1).
.PHONY: ab
A ?= HEAD~1
B ?= HEAD
AB_ARGS ?=
ab:
	CC="$(CC)" AB_CFLAGS="-Wall -Wextra -pedantic -O2 $(MARCH) $(OMPFLAG)" sh tools/ab.sh $(A) $(B) $(AB_ARGS)
