# The two commands README.md promises. Both do their own set-up on a fresh machine.
PREFIX ?= $(HOME)/.cargo

.PHONY: help install demo test check bench bench-takeover bench-deploy bench-shell bench-watch bench-plugins fuzz install-integrations

help:    ## this list
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:[^#]*## /\t/' | expand -t 18

install: ## build the release jhot (linked statically: cargo build-jhot) and copy it to $(PREFIX)/bin
	cargo build-jhot
	install -D -m 0755 "$${CARGO_TARGET_DIR:-target}/release/jhot" "$(PREFIX)/bin/jhot"

demo:    ## start samples/hello-http, redefine a class in it with jhot, show the answers
	bash scripts/demo.sh

check:   ## format, lints and the unit tests that need no JVM and no root (about a minute)
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --locked -- -D warnings
	cargo test --workspace --lib --locked

test:    ## the whole test suite: Rust unit tests, Java agent tests, end-to-end tests on JDK 11/17/21/25
	bash scripts/test.sh

install-integrations:  ## install jhot (dev.jhot:jhot:exe, a release build; JHOT_EXE=path to use another), the Maven and the Gradle plugin into ~/.m2
	bash scripts/install-integrations.sh $(JHOT_EXE)

bench:   ## attach/redefine benchmark against jattach, jcmd and Arthas (not part of the tests)
	bash bench/run.sh

bench-takeover:  ## failed requests and latency while jhot replace / jhot run / a naive restart / SO_REUSEPORT swap a loaded server
	bash bench/takeover/run.sh

bench-deploy:  ## time jhot deploy: 1,000 body-only changes applied to Spring Boot; planning against 20,000 classes and on boot4-shop
	bash bench/deploy/run.sh

bench-shell:  ## jhot shell vs Arthas in a pty: prompt, Tab on 30,000 classes, jad, edit (save -> served), JDK 17 and 25
	bash bench/shell/run.sh

bench-watch:  ## jhot watch: the last class file written -> the new code live, 1 class and 1,000 classes (JDK 17, release build)
	cargo build-jhot
	python3 bench/watch/bench.py --jhot "$${CARGO_TARGET_DIR:-target}/release/jhot"

bench-plugins:  ## the Maven and Gradle plugins' overhead over jhot deploy itself (one body change; mvn, gradle 4.4.1 daemon)
	bash bench/plugins/run.sh

fuzz:    ## fuzz the class-file code (parse, javap, diff): SECONDS=60 by default
	bash scripts/fuzz.sh $(or $(SECONDS),60)
