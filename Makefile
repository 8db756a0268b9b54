# The two commands a new user runs (see README.md), and a few more.
.PHONY: demo demo-stop test test-quick bench reliability deps

demo:        ## install, build, start a throwaway PostgreSQL 16, load sample data, tour
	bash scripts/demo.sh

demo-stop:   ## stop and remove the demo cluster
	bash scripts/demo-stop.sh

test:        ## every test on PostgreSQL 15, 16, 17 and 18
	bash scripts/test.sh

test-quick:  ## a part of the tests: make test-quick V=16 T="regress security_pools" (T: pgrx, regress, an integration test)
	IMS_PG_VERSIONS="$(or $(V),16)" IMS_ONLY="$(T)" bash scripts/test.sh

bench:       ## benchmarks (see BENCHMARKS.md)
	bash scripts/bench.sh

reliability: ## stress, bad input and crash runs (see RELIABILITY.md)
	bash scripts/reliability.sh

deps:        ## only install the toolchain and PostgreSQL builds
	bash scripts/install-deps.sh
