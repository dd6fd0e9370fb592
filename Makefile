# polaroid top-level Makefile: the README's commands. CMake does the compiling.
#   make run    set up, build, make sample data and run the main job on it
#   make test   set up, build with ASan+UBSan, run every test (unit, conformance, interop, fuzz replay)
#   make bench  compare polaroid with Polars and DuckDB on generated data (bench/README.md)
#   make diff   differential tests of polaroid sql against DuckDB (tests/diff, tests/sql)
#   make fuzz   run every fuzz target for FUZZ_SECONDS each
#   make tsan   build with ThreadSanitizer and run the unit tests (pool, parallel readers/writers)
#   make install PREFIX=/usr/local
PREFIX ?= /usr/local
JOBS ?= $(shell nproc)
PY := .venv/bin/python
FUZZ_SECONDS ?= 60
FUZZ_BRIEF_SECONDS ?= 4
# a fixed libFuzzer seed: make test's brief fuzzing repeats the same mutations (reproducible:
# a crash it finds is found again), make fuzz explores with random seeds
FUZZ_BRIEF_SEED ?= 1


.PHONY: all setup build build-asan run test unit conformance interop cli fuzz fuzz-brief fuzz-replay \
        bench install clean check-symbols tsan check-install diff sqltest sqltest-all proto pytest-server pytest-async

all: build

setup:
	@scripts/setup.sh

build/CMakeCache.txt:
	cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null

build: build/CMakeCache.txt
	cmake --build build -j $(JOBS)

build-asan/CMakeCache.txt:
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DPL_SANITIZE=ON \
	      -DCMAKE_C_FLAGS_DEBUG="-O1 -g" >/dev/null

build-asan: build-asan/CMakeCache.txt
	cmake --build build-asan -j $(JOBS)

run: setup build
	@scripts/run_sample.sh

test: setup build-asan build
	$(MAKE) --no-print-directory unit conformance interop cli fuzz-replay fuzz-brief check-symbols \
	        check-install diff pytest-server pytest-async
	@echo "make test: all passed"

unit: build-asan
	cd build-asan && ctest --output-on-failure -j $(JOBS)

conformance: build-asan
	$(PY) tests/conformance/run_conformance.py --polaroid build-asan/polaroid

interop: build
	POLAROID=build/polaroid $(PY) -m pytest -q tests/interop

# the command line itself (exit codes, help, errors, formats) under ASan+UBSan
cli: build-asan
	POLAROID=build-asan/polaroid $(PY) -m pytest -q tests/cli

# the Python package against a real `polaroid serve` (tests/server/README.md)
pytest-server: build-asan
	POLAROID=build-asan/polaroid $(PY) -m pytest -q tests/server

# the asyncio client (Result/Option, batching, streaming, appends, resilience, WebSocket feed)
# against a real `polaroid serve` (tests/async/conftest.py)
pytest-async: build-asan
	POLAROID=build-asan/polaroid $(PY) -m pytest -q tests/async

# regenerates the Python protocol stubs (python/polaroid/_proto) after a .proto change
proto:
	@scripts/gen_proto_py.sh

fuzz-replay: build-asan
	@scripts/fuzz.sh replay

fuzz-brief:
	@FUZZ_SEED=$(FUZZ_BRIEF_SEED) scripts/fuzz.sh run $(FUZZ_BRIEF_SECONDS)

fuzz: setup
	@scripts/fuzz.sh run $(FUZZ_SECONDS)

tsan: setup
	cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DPL_TSAN=ON -DCMAKE_C_FLAGS_DEBUG="-O1 -g" >/dev/null
	cmake --build build-tsan -j $(JOBS)
	# the system's libgrpc and absl are not built with TSan: their internals race as far as it
	# can tell, so the tests that run a gRPC server or client are left out here
	cd build-tsan && ctest --output-on-failure -j $(JOBS) -E 'test_transport|test_client'

bench: setup build
	$(PY) bench/run.py $(BENCH_ARGS)

# random queries in polaroid and DuckDB, results compared (tests/diff/README.md); SEED=S reruns
# one seed; then the SQL feature tests that polaroid passes (tests/sql/enabled.txt)
diff: build-asan
	POLAROID=build-asan/polaroid $(PY) tests/diff/run_diff.py $(if $(SEED),--seed $(SEED)) $(DIFF_ARGS)
	$(MAKE) --no-print-directory sqltest

sqltest: build-asan
	SQLTEST_ENABLED_ONLY=1 POLAROID=build-asan/polaroid $(PY) -m pytest -q tests/sql

sqltest-all: build-asan
	POLAROID=build-asan/polaroid $(PY) -m pytest -q tests/sql

check-symbols: build
	@bad=$$(nm -D --defined-only build/libpolaroid.so | awk '$$2 ~ /[TDB]/ {print $$3}' | grep -v '^pl_' | grep -v '^_' || true); \
	if [ -n "$$bad" ]; then echo "exported symbols without pl_ prefix:"; echo "$$bad"; exit 1; fi; \
	echo "check-symbols: ok"

# Installs into build/install-check and builds tests/install/use_polaroid.c against it through
# pkg-config, statically and dynamically, then runs both on a conformance file.
check-install: build
	@rm -rf build/install-check && cmake --install build --prefix build/install-check >/dev/null
	@export PKG_CONFIG_PATH=$(CURDIR)/build/install-check/lib/pkgconfig; \
	cc -o build/use-static tests/install/use_polaroid.c $$(pkg-config --cflags polaroid) \
	   build/install-check/lib/libpolaroid.a $$(pkg-config --static --libs polaroid | sed 's/-lpolaroid//') && \
	cc -o build/use-shared tests/install/use_polaroid.c $$(pkg-config --cflags --libs polaroid) && \
	f=../shared/parquet-testing/data/alltypes_plain.parquet; \
	build/use-static $$f 8 11 && LD_LIBRARY_PATH=build/install-check/lib build/use-shared $$f 8 11 && \
	echo "check-install: ok"

install: build
	cmake --install build --prefix $(PREFIX)

clean:
	rm -rf build build-asan build-fuzz build-tsan
