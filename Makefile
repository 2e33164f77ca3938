# ridgediff - build, test, examples. Needs only cc and -lm; OpenMP is used when the compiler
# accepts -fopenmp (NO_OMP=1 turns it off). No -march=native here: SIMD paths follow the
# compiler's own macros, so add e.g. CFLAGS+=-mavx2 -mfma yourself for a local build.
CC      ?= cc
CXX     ?= c++
OPT     ?= -O2
WARN     = -std=c99 -Wall -Wextra -pedantic
CFLAGS  ?= $(OPT)
PYTHON  ?= python3
ifeq ($(NO_OMP),1)
OMPFLAG :=
else
OMPFLAG := $(shell printf 'int main(void){return 0;}' | $(CC) -fopenmp -x c - -o /dev/null 2>/dev/null && echo -fopenmp)
endif
ALLCFLAGS = $(WARN) $(CFLAGS) $(OMPFLAG) -I.
LDLIBS   = -lm

TEST_SRC  = $(wildcard tests/test_*.c)
TEST_BIN  = $(patsubst tests/%.c,build/%,$(TEST_SRC))
ASAN_BIN  = $(patsubst tests/%.c,build/asan/%,$(TEST_SRC))
EX_SRC    = $(wildcard examples/*.c)
EX_BIN    = $(patsubst examples/%.c,build/examples/%,$(EX_SRC))

.PHONY: all test unit asan strict cli crosscheck examples clean

all: tools/ridgediff examples

tools/ridgediff: tools/ridgediff.c ridgediff.h
	$(CC) $(ALLCFLAGS) -o $@ tools/ridgediff.c $(LDLIBS)

examples: $(EX_BIN)
build/examples/%: examples/%.c ridgediff.h | build/examples
	$(CC) $(ALLCFLAGS) -o $@ $< $(LDLIBS)

build/%: tests/%.c ridgediff.h tests/rdg_test.h | build
	$(CC) $(ALLCFLAGS) -o $@ $< $(LDLIBS)

build/asan/%: tests/%.c ridgediff.h tests/rdg_test.h | build/asan
	$(CC) $(WARN) -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
	  -fno-omit-frame-pointer -I. -o $@ $< $(LDLIBS)

build build/asan build/examples:
	mkdir -p $@

# The whole suite: unit tests, the CLI, the strict build matrix, the suite again under
# AddressSanitizer + UBSan, and the cross-check against an independent numpy implementation.
test: unit cli strict asan crosscheck
	@echo "make test: all stages passed"

unit: $(TEST_BIN)
	./tests/run.sh $(TEST_BIN)

asan: $(ASAN_BIN)
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ./tests/run.sh $(ASAN_BIN)

cli: tools/ridgediff
	sh tests/cli_test.sh ./tools/ridgediff

strict:
	sh tests/strict_builds.sh

crosscheck: tools/ridgediff
	sh tests/crosscheck.sh ./tools/ridgediff $(PYTHON)

clean:
	rm -rf build tools/ridgediff
