# Clipsheet build, run and test entry points. See README.md.
GO ?= go
STATICCHECK_VERSION := v0.8.2
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
PKGS := ./...

.PHONY: build install run demo test deps lint unit vuln fuzz bench-extract bench-fetch bench-web bench-store clean release image

## VERSION: what `clipsheet version` prints: git describe (the nearest tag,
## commits since, commit, -dirty), else dev-COMMIT, else dev outside git.
VERSION ?= $(shell git describe --tags --dirty 2>/dev/null || { c=$$(git describe --always --dirty 2>/dev/null) && echo dev-$$c; } || echo dev)
VERSION_LDFLAGS := -X github.com/clipsheet/clipsheet/internal/version.stamped=$(VERSION)
## Release binaries drop the symbol and DWARF tables (a third of the size);
## panics still print file and line.
RELEASE_LDFLAGS := -s -w $(VERSION_LDFLAGS)
RELEASE_PLATFORMS := linux/amd64 linux/arm64
DIST := dist

build:
	$(GO) build -ldflags '$(VERSION_LDFLAGS)' -o bin/clipsheet ./cmd/clipsheet

## release: static binaries (no cgo: they run on any Linux of their
## architecture, and in a scratch image) for each of RELEASE_PLATFORMS, with
## the version stamped in, and their SHA256SUMS, in $(DIST)/
release:
	rm -rf $(DIST) && mkdir -p $(DIST)
	@set -e; for p in $(RELEASE_PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; out=$(DIST)/clipsheet-$(VERSION)-$$os-$$arch; \
		echo "building $$out"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags '$(RELEASE_LDFLAGS)' -o $$out ./cmd/clipsheet; \
	done
	cd $(DIST) && sha256sum clipsheet-* > SHA256SUMS && cat SHA256SUMS

## install: clipsheet on the PATH: go install puts it in $GOBIN (default ~/go/bin)
install:
	$(GO) install ./cmd/clipsheet

## run: the service on the defaults (bbolt under ./data, ./sources.yaml)
run: build
	./bin/clipsheet serve

## demo: serve the sample site in testdata/demo on loopback and run against it
demo: build
	./bin/clipsheet demo

## deps: what the tests need beyond Go: a C compiler (go test -race needs
## cgo), Debian's headless Chromium at /usr/bin/chromium, where the
## browser tests look for it, and Node.js with npm. Installed with apt-get
## when missing; then the npm packages of package-lock.json (npm ci).
APT := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get
deps:
	@missing=""; \
	command -v cc >/dev/null 2>&1 || missing="$$missing gcc libc6-dev"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
		if ! command -v apt-get >/dev/null 2>&1; then \
			echo "make deps: need$$missing but apt-get is not available; install them by hand" >&2; exit 1; \
		fi; \
		echo "installing$$missing for the tests"; \
		$(APT) update && $(APT) install -y $$missing; \
	fi
	@# npm packages the tests run (axe-core in the browser tests, Redocly's
	@# OpenAPI lint), pinned by package-lock.json; reinstalled when the lock changes.
	@if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then \
		echo "installing npm packages from package-lock.json"; \
		npm ci --no-audit --no-fund --loglevel=error; \
	fi

## lint: gofmt, go vet, staticcheck, and Redocly's lint of docs/openapi.yaml
## (config redocly.yaml; no telemetry or update check, so no network)
REDOCLY := REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true node_modules/.bin/redocly
lint:
	@out=$$(gofmt -l cmd internal web bench); if [ -n "$$out" ]; then echo "gofmt -l reports:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) $(PKGS)
	cd bench && $(GO) vet ./... && $(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...
	@[ -x node_modules/.bin/redocly ] || { echo "make lint: node_modules/.bin/redocly is missing: run make deps" >&2; exit 1; }
	$(REDOCLY) lint docs/openapi.yaml

unit:
	@# go test shows skips only with -v; say once why the corpus tests did not run.
	@[ -d ../shared/corpus ] || echo "../shared/corpus not found beside the repository: the tests that read it skip (go test -v names each)"
	REQUIRE_CHROMIUM=1 $(GO) test -race -timeout 15m $(PKGS)

## vuln: govulncheck; fails on a finding that reaches our code, skips when its database is unreachable
vuln:
	sh scripts/govulncheck.sh

## test: install what the tests need, then lint and run every test with -race
test: deps lint unit vuln

## bench-extract: Clipsheet vs go-trafilatura vs go-readability on the shared corpus
## (body, lead, speed), then metadata on the labelled set in internal/extract/testdata/meta
bench-extract:
	cd bench && $(GO) run ./cmd/benchextract -rounds 3 -worst 20

## bench-web: the latest edition, a story page and the Atom feed vs http.FileServer serving the same bytes, 100 connections, 10k and 100k items
bench-web:
	$(GO) test -run '^$$' -bench PublishedVsStatic -benchtime=1x -timeout 20m ./internal/web/

## bench-fetch: 5,000 feeds on 50 loopback hosts, first (all new) and second (all 304) cycle
bench-fetch:
	$(GO) test -run '^$$' -bench PollCycles -benchtime=1x -timeout 30m ./internal/fetch/

## bench-store: stores of 10k, 100k and 1M realistic items built through the store API
## (cached in $TMPDIR/clipsheet-benchstore), then the real `clipsheet serve` under 1 and 16
## clients; markdown tables on stdout and in bench/out/store.md. The 1M store takes long (up to an hour) to
## build the first time: BENCH_STORE_FLAGS="-sizes 10000,100000" for a shorter run, -quick for fewer requests.
BENCH_STORE_FLAGS ?=
bench-store:
	cd bench && mkdir -p out && $(GO) run ./cmd/benchstore -out out/store.md $(BENCH_STORE_FLAGS)

## fuzz: run every parser's fuzz target for a while (seeds and crashers kept in each package's testdata/fuzz)
fuzz:
	$(GO) test -run XXX -fuzz FuzzExtract -fuzztime 2m -fuzzminimizetime 3s ./internal/extract/
	$(GO) test -run XXX -fuzz FuzzLeadFromHTML -fuzztime 1m -fuzzminimizetime 3s ./internal/extract/
	$(GO) test -run XXX -fuzz FuzzDateFromText -fuzztime 30s -fuzzminimizetime 3s ./internal/extract/
	$(GO) test -run XXX -fuzz FuzzParseFeed -fuzztime 1m -fuzzminimizetime 3s ./internal/fetch/
	$(GO) test -run XXX -fuzz FuzzParseSources -fuzztime 1m -fuzzminimizetime 3s ./internal/config/
	$(GO) test -run XXX -fuzz FuzzParseOPML -fuzztime 30s -fuzzminimizetime 3s ./internal/sourcesfile/
	$(GO) test -run XXX -fuzz FuzzMatch -fuzztime 30s -fuzzminimizetime 3s ./internal/rules/
	$(GO) test -run XXX -fuzz FuzzRuleJSON -fuzztime 30s -fuzzminimizetime 3s ./internal/rules/
	$(GO) test -run XXX -fuzz FuzzCanonicalURL -fuzztime 30s ./internal/model/

## image: the container image from the Dockerfile, tagged clipsheet:VERSION and clipsheet:latest
image:
	docker build --build-arg VERSION=$(VERSION) -t clipsheet:$(VERSION) -t clipsheet:latest .

clean:
	rm -rf bin $(DIST)
