// Command celerity-bench measures Celerity against Redis 7.0.15 on the same
// machine and prints a side-by-side report (`make bench` runs it).
//
// The tool owns both servers: it starts the Celerity binary (-celerity,
// default bin/celerity-server) and redis-server (-redis) on free loopback
// ports, each in its own temporary --dir, with --save "" and --appendonly no
// (or --appendonly yes --appendfsync X when -appendfsync is given). Readiness
// is detected by polling PING, never by sleeping, and both servers are stopped
// with SIGTERM (SIGKILL after -stop-timeout) at the end and on Ctrl-C. A
// server that dies mid-run is restarted and the crash is listed in the notes.
//
// It then runs three phases, each on identical inputs for both servers:
//
//  1. redis-benchmark: one redis-benchmark invocation per scenario, pipeline
//     depth (-pipelines, default 1 and 16) and server, for -rounds rounds. The
//     server order alternates every round (celerity first, then redis first,
//     ...) so slow drift of the machine (thermal, other jobs) does not always
//     penalise the same side. Each scenario runs on a flushed keyspace with its
//     own preparation (GET finds its key, LPOP finds a full list, PUBLISH has
//     live subscribers), so results do not depend on scenario order. The report
//     shows the median rps and the median p99 latency per server, and the
//     Celerity/Redis ratios. A scenario the server cannot run (error reply,
//     missing CSV row, timeout) shows "n/a" and the reason goes to the notes;
//     it never aborts the run. One invocation per scenario is deliberate:
//     redis-benchmark exits on the first error reply, so a multi-test -t list
//     would lose every test after the first unimplemented command.
//
//  2. Celery mix (-celery): a Go reimplementation of the Redis traffic of a
//     kombu/Celery deployment, using the minimal RESP2 client in
//     rawclient.go. Producers LPUSH 1 KB JSON messages round-robin onto the
//     four priority lists; consumers BRPOP them, record the message in the
//     unacked hash/zset inside MULTI/EXEC (as kombu's QoS does), then ack with
//     MULTI; ZREM; HDEL; EXEC (redis-py pipelines are transactional by
//     default, so this is what kombu really sends). Reports end-to-end
//     messages/s and publish→consume latency percentiles.
//
//  3. Memory (-memory): on a freshly started instance of each server (one at
//     a time, so two large heaps never coexist), VmRSS from /proc/<pid>/status
//     is read before and after RPUSHing -mem-messages 1 KB messages onto one
//     list in pipelined batches of 1000; the difference divided by the count
//     is the cost of a queued message. INFO used_memory is reported too when
//     the server answers INFO, but RSS is the authoritative number because it
//     is what the OS pays, allocator overhead and (for Go) garbage included.
//
// The report (stdout) lists the exact command lines, binary versions and
// parameters used; progress goes to stderr. -markdown renders the tables as
// Markdown for pasting into notes.
//
// Usage:
//
//	go run ./cmd/celerity-bench                          # full run, a few minutes
//	go run ./cmd/celerity-bench -quick                   # smoke test of the tool itself
//	go run ./cmd/celerity-bench -quick -celerity $(which redis-server)   # redis vs redis
//	go run ./cmd/celerity-bench -tests base,PUBLISH_10SUB -rounds 5 -celery=false -memory=false
//	go run ./cmd/celerity-bench -list                    # scenario names and groups
//
// The machine this was written for has 2 cores: the server, redis-benchmark
// (or the Go load generator) and the OS share them, so absolute numbers are
// lower than on a dedicated box; the ratios are the point.
package main
