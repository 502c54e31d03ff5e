# Relais — everyday commands. `make run` starts the service, `make test` runs every test.
# The SQLite driver uses cgo: a C compiler (gcc) is needed and CGO_ENABLED must stay 1.

export CGO_ENABLED := 1

BIN := bin/relais

.DEFAULT_GOAL := build
.PHONY: run demo test lint build bench clean

## run: build, then serve on RELAIS_ADDR (default :8080); migrates the database first
run: build
	./$(BIN) serve

## demo: load the demonstration event (17 May 2017) with fictional bloggers
demo:
	go run ./cmd/relais demo

## test: every test; RELAIS_TEST_POSTGRES, RELAIS_REQUIRE_POSTGRES and RELAIS_REQUIRE_CHROMIUM steer it
test:
	go test -count=1 -timeout 9m ./...

## lint: fail on unformatted Go files, then go vet
lint:
	@files="$$(gofmt -l .)"; if [ -n "$$files" ]; then echo "gofmt -w needed on:"; echo "$$files"; exit 1; fi
	go vet ./...

## build: compile the relais binary into bin/
build:
	go build -o $(BIN) ./cmd/relais

## bench: load and latency harness against a real relais process
bench:
	go run ./cmd/relais-bench

## clean: remove build and test outputs (never the data/ directory)
clean:
	rm -rf bin test-output bench-results
