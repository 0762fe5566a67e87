# Celerity — build, run, test, benchmark.
#
#   make run     build and start the server on 127.0.0.1:6379
#   make test    everything: Go unit + differential + fuzz seeds + end-to-end + pytests
#   make bench   redis-benchmark and a Celery-shaped mix, Celerity vs redis-server
#   make fuzz    run every fuzz target for FUZZTIME each

GO        ?= go
PYTHON    ?= python3
VENV      := pytests/.venv
FUZZTIME  ?= 60s
# Minimizing inputs grown from the 70 KB seeds takes a minute each by
# default; 5 s keeps a fuzz run fuzzing.
FUZZFLAGS ?= -parallel 1 -fuzzminimizetime 5s
BENCHARGS ?=

.PHONY: all build run test test-go test-py venv bench fuzz vet clean

all: build

build:
	$(GO) build -o bin/celerity-server ./cmd/celerity-server

run: build
	bin/celerity-server --bind 127.0.0.1 --port 6379

test: build test-go test-py

# The whole Go suite, fuzz seed corpora included (go test runs them as
# plain tests). -p 1 keeps two heavy packages from competing for 2 cores.
test-go:
	$(GO) vet ./...
	$(GO) test -count=1 -p 1 -timeout 15m ./...

$(VENV)/.installed: pytests/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r pytests/requirements.txt
	touch $@

venv: $(VENV)/.installed

test-py: build venv
	cd pytests && .venv/bin/python -m pytest -q -p no:cacheprovider

bench: build
	$(GO) run ./cmd/celerity-bench $(BENCHARGS)

fuzz:
	$(GO) test ./resp/ -run '^$$' -fuzz '^FuzzParserSplit$$' -fuzztime $(FUZZTIME) $(FUZZFLAGS)
	$(GO) test ./resp/ -run '^$$' -fuzz '^FuzzDispatch$$' -fuzztime $(FUZZTIME) $(FUZZFLAGS)
	$(GO) test ./resp/ -run '^$$' -fuzz '^FuzzInline$$' -fuzztime $(FUZZTIME) $(FUZZFLAGS)
	$(GO) test ./resp/conffile/ -run '^$$' -fuzz '^FuzzSplitArgs$$' -fuzztime $(FUZZTIME) $(FUZZFLAGS)

clean:
	rm -rf bin $(VENV)
