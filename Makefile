# braid: the two commands of the README's Quick start, and a few more.
#   make run    install deps, build release, run `braid up` on ./data
#   make test   install deps, build release, run every test (unit + integration)
#   make build  build release; the binary is left at build/braid
#   make asan   build and run the unit tests with ASan+UBSan
#   make format / make format-check   clang-format the sources
.PHONY: all deps build test run asan unit integration format format-check fuzz bench clean

JOBS ?= 2
DATA ?= $(CURDIR)/data

all: build

deps:
	@scripts/install-deps.sh

build: deps
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS)
	@ln -sf release/braid build/braid

test: build
	ctest --test-dir build/release --output-on-failure -j $(JOBS) --timeout 900

unit: build
	ctest --test-dir build/release --output-on-failure -j $(JOBS) -L unit

integration: build
	ctest --test-dir build/release --output-on-failure -L integration

run: build
	DATA=$(DATA) scripts/run.sh

asan: deps
	cmake --preset asan >/dev/null
	cmake --build --preset asan -j $(JOBS)
	ctest --test-dir build/asan --output-on-failure -j $(JOBS) -L unit

fuzz: deps
	cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz -j $(JOBS)

FORMAT_FILES = $(shell git ls-files '*.cc' '*.h' '*.c')

format:
	clang-format -i $(FORMAT_FILES)

format-check:
	clang-format --dry-run --Werror $(FORMAT_FILES)

clean:
	rm -rf build
