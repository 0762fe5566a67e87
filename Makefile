# Celerity — build, run, test, benchmark.
#
#   make run     build and start the server on 127.0.0.1:6379
#   make test    everything: Go unit + differential + fuzz seeds + end-to-end + pytests
#   make bench   redis-benchmark and a Celery-shaped mix, Celerity vs redis-server
#   make bench-celery  real Celery workers: tasks/s, Celerity vs redis-server
#   make bench-expiry  1M result keys with a 10 s TTL: time to reclaim, Celerity vs redis-server
#   make fuzz    run every fuzz target for FUZZTIME each

GO        ?= go
PYTHON    ?= python3
# Two pytest stacks, each running the whole pytests/ directory: RESP2
# (redis-py 7.x) and RESP3 (redis-py 8.x, HELLO 3 by default); the rest of
# the pins (Celery, Kombu, RedBeat, pytest) are shared in requirements.txt.
STACKS    := resp2 resp3
PYTEST_ARGS ?=
FUZZTIME  ?= 60s
# Minimizing inputs grown from the 70 KB seeds takes a minute each by
# default; 5 s keeps a fuzz run fuzzing.
FUZZFLAGS ?= -parallel 1 -fuzzminimizetime 5s
BENCHARGS ?=
BENCH_CELERY_ARGS ?=
BENCH_EXPIRY_ARGS ?=

.PHONY: all build run test test-go test-py venv e2e-tools bench bench-celery bench-expiry fuzz vet clean

all: build

build:
	$(GO) build -o bin/celerity-server ./cmd/celerity-server
	$(GO) build -o bin/celerity-check-aof ./cmd/celerity-check-aof

run: build
	bin/celerity-server --bind 127.0.0.1 --port 6379

test: build test-go test-py

# The whole Go suite, fuzz seed corpora included (go test runs them as
# plain tests), then each benchmark once. -p 1 keeps two heavy packages
# from competing for 2 cores.
test-go: e2e-tools
	$(GO) vet ./...
	$(GO) test -count=1 -p 1 -timeout 15m ./...
	# Every benchmark runs once, timing nothing: one that no longer runs
	# (a hook called without its server, say) fails here, not in make bench.
	$(GO) test -count=1 -p 1 -run '^$$' -bench . -benchtime 1x ./...

# Operator tools the end-to-end tests drive (integration/e2e/tools_test.go):
# Redis Commander from npm at the versions pinned in package.json and
# package-lock.json, installed next to them (gitignored). No install
# scripts: the optional bcrypt build is for its HTTP auth, unused here.
E2E_NODE := integration/e2e/.node
e2e-tools: $(E2E_NODE)/node_modules/.installed

$(E2E_NODE)/node_modules/.installed: $(E2E_NODE)/package.json $(E2E_NODE)/package-lock.json
	cd $(E2E_NODE) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

pytests/.venv-%/.installed: pytests/requirements.txt pytests/requirements-%.txt
	rm -rf pytests/.venv-$*
	$(PYTHON) -m venv pytests/.venv-$*
	pytests/.venv-$*/bin/pip install --quiet --upgrade pip
	pytests/.venv-$*/bin/pip install --quiet -r pytests/requirements-$*.txt
	touch $@

venv: $(foreach s,$(STACKS),pytests/.venv-$(s)/.installed)

# Both stacks run at once (their tests mostly wait on Celery processes and
# timeouts, so two fit on two cores), each in its own temp dir; their output
# is printed stack by stack when both are done. PYTEST_SERIAL=1 runs them one
# after the other. The target fails if either stack did. PYTEST_ARGS narrows a
# run, e.g. PYTEST_ARGS='-k celerity test_celery_beat.py'.
PYTEST_SERIAL ?=
test-py: build venv
	@rc=0; for s in $(STACKS); do \
		log=pytests/.stack-$$s.log; \
		( echo "== pytests: $$s stack ($$(pytests/.venv-$$s/bin/python -c 'import redis; print("redis-py", redis.__version__)'))"; \
		  cd pytests && .venv-$$s/bin/python -m pytest -q -p no:cacheprovider --basetemp=.tmp-$$s $(PYTEST_ARGS) ) > $$log 2>&1 & \
		eval pid_$$s=$$!; \
		if [ -n "$(PYTEST_SERIAL)" ]; then eval wait \$$pid_$$s || eval fail_$$s=1; fi; \
	done; \
	for s in $(STACKS); do \
		if [ -z "$(PYTEST_SERIAL)" ]; then eval wait \$$pid_$$s || eval fail_$$s=1; fi; \
		cat pytests/.stack-$$s.log; \
		if eval [ -n \"\$${fail_$$s:-}\" ]; then rc=1; fi; \
	done; exit $$rc

# Real Celery throughput: 5,000 no-op tasks through one worker (-P solo and
# prefork 2), Celerity vs redis-server, as a table. Not a test.
bench-celery: build pytests/.venv-resp3/.installed
	cd pytests && .venv-resp3/bin/python bench_celery.py $(BENCH_CELERY_ARGS)

bench: build
	$(GO) run ./cmd/celerity-bench $(BENCHARGS)

# Expiry precision for result-heavy workloads (cmd/celerity-expiry). Not a test.
bench-expiry: build
	$(GO) run ./cmd/celerity-expiry $(BENCH_EXPIRY_ARGS)

fuzz:
	$(GO) test ./resp/ -run '^$$' -fuzz '^FuzzParserSplit$$' -fuzztime $(FUZZTIME) $(FUZZFLAGS)
	$(GO) test ./resp/ -run '^$$' -fuzz '^FuzzDispatch$$' -fuzztime $(FUZZTIME) $(FUZZFLAGS)
	$(GO) test ./resp/ -run '^$$' -fuzz '^FuzzInline$$' -fuzztime $(FUZZTIME) $(FUZZFLAGS)
	$(GO) test ./resp/conffile/ -run '^$$' -fuzz '^FuzzSplitArgs$$' -fuzztime $(FUZZTIME) $(FUZZFLAGS)
	$(GO) test ./aof/ -run '^$$' -fuzz '^FuzzFileReader$$' -fuzztime $(FUZZTIME) $(FUZZFLAGS)

clean:
	rm -rf bin pytests/.venv pytests/.venv-* $(E2E_NODE)/node_modules
