.PHONY: build serve test bench bench-go bench-scale crash-soak clean

# Build the single binary into ./bin, stamped with the version (git
# describe) and the VCS revision that `permafrost version` prints.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
build:
	go build -buildvcs=true -ldflags "-X main.version=$(VERSION)" -o bin/permafrost ./cmd/permafrost

# Start the server on the embedded default (SQLite + local files in ./permafrost-data).
serve:
	go run ./cmd/permafrost serve

# The whole test suite (vet, gofmt, unit, integration, CLI, crash tests).
test:
	./scripts/test

# The benchmark harness (issue #5): permafrost, moto and this machine's
# ceilings in one run, about 10 minutes; prints the report and writes it to
# bench/results/DATE.md (see bench/README.md). Flags go in BENCHFLAGS, e.g.
# make bench BENCHFLAGS='-quick' or BENCHFLAGS='-workloads upload,metadata'.
bench:
	go run ./cmd/permafrost-bench $(BENCHFLAGS)

# The scale benchmark (issue 20, not part of make test): stores of
# SCALE_SIZES archives filled directly through meta.db, start-up time, RSS,
# request latencies, inventory, reconcile and scrub durations, meta.db
# bytes per archive. The report goes to bench/results/scale-DATE.md.
# Then the same on PostgreSQL + S3 (versitygw) at SCALE_PG_SIZES
# (a fresh database on the local cluster, see -pg-admin).
SCALE_SIZES ?= 10000,100000,1000000,10000000
SCALE_PG_SIZES ?= 10000,1000000
bench-scale:
	mkdir -p bench/results
	go run ./cmd/permafrost-scalebench -sizes $(SCALE_SIZES) -dir bench/tmp/scale -out bench/results/scale-$$(date -u +%Y-%m-%d).md
	go run ./cmd/permafrost-scalebench -store postgres+s3 -sizes $(SCALE_PG_SIZES) -dir bench/tmp/scale-pg -out bench/results/scale-pg-$$(date -u +%Y-%m-%d).md

# Go micro-benchmarks (tree hash, upload path, stores).
bench-go:
	go test -run '^$$' -bench . -benchmem ./...

# The SIGKILL durability loop of TestCrashDurability for CYCLES cycles
# (make test runs 8): concurrent uploads, multipart completes, deletes and
# aborts, killed at random moments; every acknowledged archive re-hashed
# after each restart. Not part of make test. The log, ending with the
# CRASH SOAK RESULT line, goes to bench/results/crash-soak-DATE.log.
CYCLES ?= 1000
crash-soak: SHELL := /bin/bash
crash-soak:
	mkdir -p bench/results
	PERMAFROST_CRASH_CYCLES=$(CYCLES) go test -count=1 -timeout 0 -v -run '^TestCrashDurability$$' ./cmd/permafrost/ 2>&1 | tee bench/results/crash-soak-$$(date -u +%Y-%m-%d).log; test $${PIPESTATUS[0]} -eq 0

clean:
	rm -rf bin
