# Everyday targets; `make check` is what CI runs (.ci/run).
GO ?= go

.PHONY: build test lint fmt check bench

build:
	$(GO) build -o bin/connector ./cmd/connector

test:
	$(GO) test -race ./...

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
