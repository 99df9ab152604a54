# The two commands README.md promises. Both do their own set-up on a fresh machine.
.PHONY: demo test bench bench-takeover bench-deploy fuzz

demo:    ## start samples/hello-http, redefine a class in it with jhot, show the answers
	bash scripts/demo.sh

test:    ## the whole test suite: Rust unit tests, Java agent tests, end-to-end tests on JDK 11/17/21/25
	bash scripts/test.sh

bench:   ## attach/redefine benchmark against jattach, jcmd and Arthas (not part of the tests)
	bash bench/run.sh

bench-takeover:  ## failed requests and latency while jhot replace / jhot run / a naive restart / SO_REUSEPORT swap a loaded server
	bash bench/takeover/run.sh

bench-deploy:  ## time jhot deploy: 1,000 body-only changes applied to Spring Boot; planning against 20,000 classes
	bash bench/deploy/run.sh

fuzz:    ## fuzz the class-file code (parse, javap, diff): SECONDS=60 by default
	bash scripts/fuzz.sh $(or $(SECONDS),60)
