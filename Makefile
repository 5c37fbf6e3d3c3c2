# fedrp — the two entry points the README promises, plus developer helpers.
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: run test deps deps-run build release lint fmt bench clean

## make run: install system packages, build, start fedrp with the built-in development IdP.
run: deps-run
	$(CARGO) run --release --bin fedrp -- serve

## make test: install system packages and run the whole test suite (what CI runs).
test: deps
	$(CARGO) build --release --bin fedrp
	$(CARGO) nextest run --profile ci --all-targets
	$(CARGO) test --doc

deps:
	scripts/install-deps.sh test

deps-run:
	scripts/install-deps.sh run

build:
	$(CARGO) build --all-targets

release:
	$(CARGO) build --release --bin fedrp

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

bench: release
	$(CARGO) bench --bench pipeline

clean:
	$(CARGO) clean
