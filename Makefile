# Everyday targets; `make check` is what CI runs (.ci/run).
GO ?= go

.PHONY: build test test-all lint fmt check bench

build:
	$(GO) build -o bin/connector ./cmd/connector

# The everyday tier: long loads, crash rounds and replicas are skipped.
test:
	$(GO) test -race -short ./...

# Every test, as CI runs it. The timeout is explicit: under load the
# slowest package needs several minutes, and Go's default is 10.
test-all:
	$(GO) test -race -timeout 20m ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

lint:
	test -z "$$(gofmt -l $$(git ls-files '*.go'))"
	$(GO) vet ./...
	staticcheck ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

check:
	.ci/run
