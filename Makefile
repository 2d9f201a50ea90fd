# Tsunagu — the two commands a person needs:
#   make run    install what is missing, build the frontend and the app, start it
#   make test   every test: Go (real encrypted DB, real keychain, LINE simulator) and the UI
SHELL := /bin/bash
.DEFAULT_GOAL := run

VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
NUMVER   := $(shell build/version.sh numeric 2>/dev/null || echo 0.0.0.0)
COMMIT   ?= $(shell git rev-parse HEAD 2>/dev/null)
BUILD_DATE ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS  := -X tsunagu/internal/version.Version=$(VERSION) -X tsunagu/internal/version.Commit=$(COMMIT) -X tsunagu/internal/version.Date=$(BUILD_DATE)
GOTAGS   := webkit2_41
BIN      := build/bin
FRONTEND := frontend
BENCH    ?= .*
# Load tests whose latency bounds need the machine to themselves: make test
# runs them after the parallel run, one package at a time.
SOLO_TESTS := ^(TestSlowClientsDoNotStarveWebhooks|TestRelayOutageThousandWebhooks)$$
# The race detector checks every Go package of ours and of the SQLite driver.
# SQLite itself (go-sqlite3-wasm, its C code translated to Go) is built
# without the instrumentation, as a C SQLite through cgo would be: checking
# every memory access of SQLite's interpreter made the DB-bound packages
# 3-8x slower and was most of make test's CPU time (docs/decisions.md).
# Likewise argon2's memory-hard loop (64 MiB, 3 passes per password): a
# CLI test that signs in 16 times took 41 s instead of 13.
RACE := -race -gcflags=github.com/ncruces/go-sqlite3-wasm/...=-race=false -gcflags=golang.org/x/crypto/argon2=-race=false
# Test packages at once. Several packages mostly wait (timeouts, slow-API
# drills, CLI processes), so with only as many as there are cores (go's
# default) the CPU sits idle; 4 keeps 2 cores busy.
TEST_P ?= 4
# Started first in the Go test run: the longest packages (1.5-2 min each on
# CI), so that none of them starts last and finishes minutes after the rest.
GO_SLOW := ./app/cli ./internal/campaign ./internal/inbox ./internal/forms ./internal/engine ./app/facade ./internal/relay ./internal/linesim ./internal/booking ./internal/automation
# UI test files at once (each has its own data folder and ports), longest
# first (frontend/tests/ui/run.mjs; node --test would sort them by name). On the
# quiet 2-core machine 3 was faster than 4: the UI phase of a clean clone took
# 497 s at 3 and 611 s at 4 (with the Windows package test beside it, ~50
# CPU-s): the files are CPU-bound together (docs/decisions.md).
UI_P ?= 3

export GOFLAGS := -buildvcs=false

.PHONY: go-bins test-vet test-vitest test-ui test-winpkg
.PHONY: run test deps frontend frontend-deps forms-page desktop cli relay devserver test-go test-frontend test-ui bench clean contract
.PHONY: package-windows package-macos test-package

## run: start the desktop app (sandbox mode until a LINE channel is configured)
run: deps desktop
	WEBKIT_DISABLE_DMABUF_RENDERER=1 ./$(BIN)/tsunagu

## test: every test, as CI runs them. Each phase prints a timestamped start
## and end line with its wall and CPU time (.ci/phase). Independent phases
## overlap where one mostly waits or is short: vet with the unit tests, the
## Windows package with the UI tests (docs/decisions.md, "make test time").
test: deps
	.ci/phase build $(MAKE) --no-print-directory -j2 go-bins desktop
	$(MAKE) --no-print-directory -j2 --output-sync=target test-vet test-vitest
	.ci/phase go-test .ci/keyring-session go test -tags $(GOTAGS) $(RACE) -count=1 -p $(TEST_P) -skip '$(SOLO_TESTS)' $(GO_SLOW) ./...
	.ci/phase go-solo go test -tags $(GOTAGS) -count=1 -p 1 -run '$(SOLO_TESTS)' ./app/relay/ ./internal/engine/
	$(MAKE) --no-print-directory -j2 test-ui test-winpkg
	.ci/phase window-screenshot .ci/keyring-session .ci/window-screenshot $(BIN)/tsunagu test-artifacts/window/sandbox-ja.png
	.ci/phase windowtest .ci/keyring-session env TSUNAGU_DESKTOP=$(CURDIR)/$(BIN)/tsunagu TSUNAGU_CLI=$(CURDIR)/$(BIN)/tsunagu-cli \
	  TSUNAGU_DEVSERVER=$(CURDIR)/$(BIN)/tsunagu-devserver \
	  go test -tags $(GOTAGS),windowtest -count=1 ./app/desktop/windowtest/

# The phases of make test that run beside another one (make test runs them
# built; on their own they assume make test's build phase).
test-vet:
	.ci/phase go-vet go vet -tags $(GOTAGS) ./...
test-vitest:
	.ci/phase vitest npm --prefix $(FRONTEND) run test:unit
test-ui:
	.ci/phase ui .ci/keyring-session env TSUNAGU_DEVSERVER=$(CURDIR)/$(BIN)/tsunagu-devserver node $(FRONTEND)/tests/ui/run.mjs --concurrency=$(UI_P)
# = make test-package, its output printed in one piece when it ends (it runs
# beside the UI tests, whose output would interleave with it).
test-winpkg:
	@mkdir -p $(BIN)
	.ci/phase test-package bash -c 'VERSION="$(VERSION)" NUMVER="$(NUMVER)" LDFLAGS="$(LDFLAGS)" build/windows/test-package.sh >$(BIN)/test-package.log 2>&1; rc=$$?; cat $(BIN)/test-package.log; exit $$rc'

deps:
	@.ci/install-deps

frontend-deps: $(FRONTEND)/node_modules/.package-lock.json

$(FRONTEND)/node_modules/.package-lock.json: $(FRONTEND)/package-lock.json
	cd $(FRONTEND) && npm ci --no-audit --no-fund
	@touch $@

frontend: frontend-deps
	cd $(FRONTEND) && npm run build

desktop: frontend
	go build -tags desktop,production,$(GOTAGS) -ldflags "$(LDFLAGS) -w -s" -o $(BIN)/tsunagu .

# The three programs without cgo in one go build, which compiles the packages
# they share once (three builds at once would each compile them).
go-bins:
	CGO_ENABLED=0 go build -ldflags "$(LDFLAGS)" -o $(BIN)/.go-bins/ ./app/cli ./app/relay ./app/devserver
	for p in cli relay devserver; do mv -f $(BIN)/.go-bins/$$p $(BIN)/tsunagu-$$p; done
	rmdir $(BIN)/.go-bins

cli:
	CGO_ENABLED=0 go build -ldflags "$(LDFLAGS)" -o $(BIN)/tsunagu-cli ./app/cli

## forms-page: rebuild the web form page the relay embeds (internal/relay/formpage, checked in; a test fails when stale)
forms-page: frontend-deps
	node $(FRONTEND)/forms-page/build.mjs

relay:
	CGO_ENABLED=0 go build -ldflags "$(LDFLAGS)" -o $(BIN)/tsunagu-relay ./app/relay

devserver:
	CGO_ENABLED=0 go build -ldflags "$(LDFLAGS)" -o $(BIN)/tsunagu-devserver ./app/devserver

## package-windows: the Windows installer, cross-built here: build/bin/Tsunagu-<version>-windows-amd64-installer.exe
## (Authenticode-signed when SIGN_PFX and SIGN_PASS are set; PUBLISHER=... names the publisher). See docs/install.md.
package-windows: frontend
	VERSION="$(VERSION)" NUMVER="$(NUMVER)" LDFLAGS="$(LDFLAGS)" build/windows/package.sh

## test-package: package-windows signed with a throwaway certificate; signatures and version resource verified
test-package: frontend
	VERSION="$(VERSION)" NUMVER="$(NUMVER)" LDFLAGS="$(LDFLAGS)" build/windows/test-package.sh

## package-macos: on a Mac, the universal .app and .dmg (signed and notarized when MACOS_SIGN_IDENTITY and
## NOTARY_PROFILE are set); build/darwin/package.sh --dry-run prints the steps anywhere
package-macos: frontend
	VERSION="$(VERSION)" NUMVER="$(NUMVER)" LDFLAGS="$(LDFLAGS)" build/darwin/package.sh

## contract: regenerate the UI contract (frontend/src/api/contract.gen.ts) from the bound services;
## TestContractUpToDate fails while the checked-in file differs
contract:
	TSUNAGU_UPDATE_CONTRACT=1 go test -tags $(GOTAGS) -count=1 -run '^TestContractUpToDate$$' ./app/facade/

## bench: every benchmark (BENCH=name for one, e.g. BENCH=import_1m); each prints a `BENCH name key=value ...` line.
## A benchmark named `name` is `func Benchmark_name(b *testing.B)` and runs its workload once.
bench:
	go test -tags $(GOTAGS) -run '^$$' -bench '^Benchmark_($(BENCH))$$' -benchtime 1x -timeout 60m ./...

clean:
	rm -rf $(BIN) build/_stage $(FRONTEND)/dist/assets $(FRONTEND)/dist/index.html test-artifacts
