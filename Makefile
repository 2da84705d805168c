# Everyday targets; `make check` is what CI runs (.ci/run).
GO ?= go

.PHONY: build test test-all lint fmt check bench

build:
	$(GO) build -o bin/connector ./cmd/connector

# The repository holds two modules: the connector, and the plugin SDK
# (plugins/sdk, its own module so that a plugin depends on it alone).
# Every Go command below runs in both.
SDK := plugins/sdk

# The everyday tier: long loads, crash rounds and replicas are skipped.
test:
	$(GO) test -race -short ./...
	cd $(SDK) && $(GO) test -race -short ./...

# Every test, as CI runs it. The timeout is explicit: under load the
# slowest package needs several minutes, and Go's default is 10.
test-all:
	$(GO) test -race -timeout 20m ./...
	cd $(SDK) && $(GO) test -race -timeout 20m ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

lint:
	test -z "$$(gofmt -l $$(git ls-files '*.go'))"
	$(GO) vet ./...
	cd $(SDK) && $(GO) vet ./...
	staticcheck ./...
	cd $(SDK) && staticcheck ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
	cd $(SDK) && $(GO) test -run '^$$' -bench . -benchmem ./...

check:
	.ci/run

# uPlot, the web app's chart library: its released, unmodified build from
# the npm registry, checked against the tarball's SHA-256 (whose SHA-512
# matches the registry's published integrity), with its licence beside it.
UPLOT_VERSION := 1.6.32
UPLOT_SHA256 := 4b8a8191e425658e3ea8c8c1314b0fc679c861ee3a1af2b20c7b16ba50b5133d
UPLOT_DIR := internal/web/static/uplot

.PHONY: uplot
uplot:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	(cd "$$tmp" && npm pack --silent uplot@$(UPLOT_VERSION) >/dev/null) && \
	echo "$(UPLOT_SHA256)  $$tmp/uplot-$(UPLOT_VERSION).tgz" | sha256sum -c - && \
	tar -xzf "$$tmp/uplot-$(UPLOT_VERSION).tgz" -C "$$tmp" && \
	mkdir -p $(UPLOT_DIR) && \
	cp "$$tmp/package/dist/uPlot.iife.min.js" "$$tmp/package/dist/uPlot.min.css" "$$tmp/package/LICENSE" $(UPLOT_DIR)/ && \
	echo "uPlot $(UPLOT_VERSION) in $(UPLOT_DIR)"

# Apache ECharts, for the migration page's flow (Sankey) chart, which
# uPlot does not draw: its released, unmodified full build from the npm
# registry, checked the same way, with its licence and notice beside it.
ECHARTS_VERSION := 6.1.0
ECHARTS_SHA256 := 681aff88cc1038c3fa941a3a53d1b177a52250b05335efc607d6105ae13be481
ECHARTS_DIR := internal/web/static/echarts

.PHONY: echarts
echarts:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	(cd "$$tmp" && npm pack --silent echarts@$(ECHARTS_VERSION) >/dev/null) && \
	echo "$(ECHARTS_SHA256)  $$tmp/echarts-$(ECHARTS_VERSION).tgz" | sha256sum -c - && \
	tar -xzf "$$tmp/echarts-$(ECHARTS_VERSION).tgz" -C "$$tmp" && \
	mkdir -p $(ECHARTS_DIR) && \
	cp "$$tmp/package/dist/echarts.min.js" "$$tmp/package/LICENSE" "$$tmp/package/NOTICE" $(ECHARTS_DIR)/ && \
	echo "ECharts $(ECHARTS_VERSION) in $(ECHARTS_DIR)"
