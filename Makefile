.PHONY: build serve test bench bench-go clean

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

# Go micro-benchmarks (tree hash, upload path, stores).
bench-go:
	go test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin
