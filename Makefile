.PHONY: build serve test bench clean

# Build the single binary into ./bin.
build:
	go build -o bin/permafrost ./cmd/permafrost

# Start the server on the embedded default (SQLite + local files in ./permafrost-data).
serve:
	go run ./cmd/permafrost serve

# The whole test suite (vet, gofmt, unit, integration, CLI, crash tests).
test:
	./scripts/test

# Go micro-benchmarks (tree hash, upload path, stores).
bench:
	go test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin
