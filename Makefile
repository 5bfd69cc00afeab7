# fanout's build, example and test entry points. `make test` is what CI runs
# (.ci/run) and what the README tells you to run; it installs what the tests
# need on a fresh Debian machine (OpenSSH's sshd and client, dropbear, Chromium) first.

GO      ?= go
BIN     ?= bin/fanout
PKGS    := ./...
# The packages the linters read: all but the generated protobuf code, which
# staticcheck would flag for protoimpl's deprecated fields and which is
# regenerated, never edited (make proto).
LINT_PKGS = $(shell $(GO) list $(PKGS) | grep -v '/sdk/internal/transportv1$$')

.PHONY: build example test test-deps chromium check fmt vet staticcheck errcheck race proto bench clean fuzz

# A static binary (no cgo: fanout needs nothing from libc) copies to any
# Linux machine, and fanout and its plugin processes, which re-execute it,
# each map 1.7 MB less.
build:
	CGO_ENABLED=0 $(GO) build -o $(BIN) ./cmd/fanout

# Build, then plan and apply the seed's example and the rolling restart
# (waves, a canary, a health check, a failure budget; it exits 0 as it
# stands) on the embedded local transport.
example: build
	$(BIN) plan examples/restart.hcl
	$(BIN) apply examples/restart.hcl
	$(BIN) plan examples/rolling.hcl
	$(BIN) apply examples/rolling.hcl

test: test-deps check race

# APT_INSTALL PACKAGES... installs Debian packages, through sudo unless
# make runs as root.
APT_INSTALL = SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	$$SUDO apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq

# The SSH tests start real OpenSSH sshd and Debian's dropbear processes on
# 127.0.0.x and a real ssh-agent; install them when missing (CI and fresh
# machines run as root).
test-deps:
	@if [ ! -x /usr/sbin/sshd ] || ! command -v ssh-agent >/dev/null || ! command -v ssh-keygen >/dev/null; then \
		echo "installing openssh-server and openssh-client for the SSH tests"; \
		$(APT_INSTALL) openssh-server openssh-client >/dev/null; \
	fi
	@if [ ! -x /usr/sbin/dropbear ]; then \
		echo "installing dropbear-bin for the SSH interoperability tests"; \
		$(APT_INSTALL) dropbear-bin >/dev/null; \
	fi
	@if ! command -v sudo >/dev/null; then \
		echo "installing sudo for the sudo password tests (run as root)"; \
		[ "$$(id -u)" = 0 ] && apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sudo >/dev/null; \
	fi
	@if ! command -v busybox >/dev/null; then \
		echo "installing busybox for the tests of the remote wrapper under its sh (Alpine's /bin/sh)"; \
		$(APT_INSTALL) busybox >/dev/null; \
	fi
	@if ! command -v setfacl >/dev/null; then \
		echo "installing acl for the tests of files through sudo as another user"; \
		$(APT_INSTALL) acl >/dev/null; \
	fi
	@if ! command -v tcsh >/dev/null || ! command -v zsh >/dev/null || ! command -v mksh >/dev/null || ! command -v fish >/dev/null; then \
		echo "installing tcsh, zsh, mksh and fish for the tests of the remote command under other login shells"; \
		$(APT_INSTALL) --no-install-recommends tcsh zsh mksh fish >/dev/null; \
	fi
	@$(MAKE) --no-print-directory chromium

# The HTML timeline's test (fanout runs show -html) loads the page in a real
# headless Chromium with the network off; install Debian's when missing. If
# it cannot be installed the test skips and says why; the build goes on.
chromium:
	@if ! command -v chromium >/dev/null; then \
		echo "installing chromium for the HTML timeline's browser test"; \
		SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		{ $$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null; } || \
		echo "could not install chromium: the HTML timeline's browser test will skip"; \
	fi

# check is what vet does not catch too. staticcheck and errcheck are pinned
# by the tool lines in go.mod and run with `go tool`, so a fresh machine
# needs only the module proxy.
check: fmt vet staticcheck errcheck

fmt:
	@out=$$(gofmt -l . | grep -v '^sdk/internal/transportv1/' || true); \
	if [ -n "$$out" ]; then echo "gofmt -l lists:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

staticcheck:
	@echo "go tool staticcheck (all packages but sdk/internal/transportv1)"
	@$(GO) tool staticcheck $(LINT_PKGS)

# Tests are checked too: an ignored error in a test hides why it failed.
errcheck:
	@echo "go tool errcheck (all packages but sdk/internal/transportv1)"
	@$(GO) tool errcheck $(LINT_PKGS)

race:
	$(GO) test -race -count=1 -timeout 15m $(PKGS)

# Regenerate the plugin protocol's Go code from its .proto. The generated
# files are committed, so builds and CI never need protoc.
proto:
	@command -v protoc >/dev/null && command -v protoc-gen-go >/dev/null && command -v protoc-gen-go-grpc >/dev/null || { \
		SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq protobuf-compiler protoc-gen-go protoc-gen-go-grpc; }
	cd sdk/internal/transportv1 && $(GO) generate .

clean:
	rm -rf bin

# Run each fuzz target for FUZZTIME (go test -fuzz takes one target at a
# time): the configuration loader, the plugin protocol's conversions (both
# ends: sdk the plugin's, sdk/client the host's), the
# run journal's reader, and the ssh transport's reading of ssh_config and
# known_hosts. New coverage is minimized for at most 200 runs, so
# that a short FUZZTIME is spent fuzzing. A crash fails the target and
# leaves its input under the package's testdata/fuzz to commit as a test.
# FUZZTIME is a count of inputs, not a duration: Go 1.26's fuzzing
# coordinator can fail a target with "context deadline exceeded" when a
# duration ends while a worker is mid-input (go.dev/issue/75804, fixed in
# Go 1.27), which a loaded CI machine hit with no crashing input.
FUZZTIME ?= 100000x
FUZZ_TARGETS := ./config:FuzzLoadConfig ./sdk:FuzzProtoFromWire ./sdk/client:FuzzProtoFromWire ./core:FuzzReadJournal ./plugins/ssh:FuzzSSHConfig

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$name in $$pkg for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 200x $$pkg; \
	done
