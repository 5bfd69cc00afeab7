# fanout's build, example and test entry points. `make test` is what CI runs
# (.ci/run) and what the README tells you to run; it installs what the tests
# need on a fresh Debian machine (OpenSSH's sshd and client, dropbear) first.

GO      ?= go
BIN     ?= bin/fanout
PKGS    := ./...

.PHONY: build example test test-deps check fmt vet race proto bench clean fuzz

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

# The SSH tests start real OpenSSH sshd and Debian's dropbear processes on
# 127.0.0.x and a real ssh-agent; install them when missing (CI and fresh
# machines run as root).
test-deps:
	@if [ ! -x /usr/sbin/sshd ] || ! command -v ssh-agent >/dev/null || ! command -v ssh-keygen >/dev/null; then \
		echo "installing openssh-server and openssh-client for the SSH tests"; \
		SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq openssh-server openssh-client >/dev/null; \
	fi
	@if [ ! -x /usr/sbin/dropbear ]; then \
		echo "installing dropbear-bin for the SSH interoperability tests"; \
		SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq dropbear-bin >/dev/null; \
	fi

check: fmt vet

fmt:
	@out=$$(gofmt -l . | grep -v '^sdk/internal/transportv1/' || true); \
	if [ -n "$$out" ]; then echo "gofmt -l lists:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

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
# run journal's reader. New coverage is minimized for at most 200 runs, so
# that a short FUZZTIME is spent fuzzing. A crash fails the target and
# leaves its input under the package's testdata/fuzz to commit as a test.
FUZZTIME ?= 20s
FUZZ_TARGETS := ./config:FuzzLoadConfig ./sdk:FuzzProtoFromWire ./sdk/client:FuzzProtoFromWire ./core:FuzzReadJournal

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$name in $$pkg for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 200x $$pkg; \
	done
