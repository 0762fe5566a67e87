// Package integration holds Celerity's differential test suite: the same
// command sequences run against an in-process Celerity and against a
// throw-away redis-server 7.0.15 (the oracle), and the replies are compared
// byte for byte, once in RESP2 and once in RESP3 (after HELLO 3).
//
// The package has no production code; everything lives in _test.go files:
//
//   - oracle_test.go starts ONE redis-server for the whole package in
//     TestMain (random port, no persistence, a temporary directory) and
//     stops it at the end. Without redis-server on PATH every differential
//     test is skipped with a message, unless REQUIRE_REDIS=1, which turns
//     the skip into a failure (CI sets it).
//   - reply_test.go keeps each reply as a tree of exact byte slices, and
//     defines the comparison modes: exact bytes (the default), unordered
//     (array elements compared as a multiset), ttl (integer within ±1) and
//     pttl (±50 ms), type only, and scan (a whole SCAN iteration compared
//     as a set of keys, because cursor values legitimately differ). Every
//     tolerant mode is justified where it is used.
//   - harness_test.go runs table-driven cases: a case is a name and a list
//     of steps (argv plus a mode); each case starts from clean state (fresh
//     connections, FLUSHALL) and runs once per protocol.
//   - cases_*_test.go are the tables, one per command family (strings,
//     counters and ranges, keys, expiry, misc: OBJECT, unknown commands,
//     an arity sweep, COMMAND GETKEYS). New value types (lists, hashes,
//     sets, zsets) are new files with the same shape; cases_wrongtype_test.go
//     runs every string and generic command against a key of each other
//     type, one row per type.
//   - random_test.go is a seeded randomized differential test over strings,
//     keys and TTLs: it compares every reply and the final dataset of all
//     16 databases, and shrinks a failing sequence by delta debugging
//     before reporting it. DIFF_SEEDS=n adds n time-derived seeds;
//     DIFF_SEED=s reruns one seed. glob_random_test.go does the same for
//     KEYS/SCAN MATCH patterns.
//   - command_test.go compares COMMAND INFO / DOCS for every command and
//     subcommand Celerity declares, COMMAND COUNT and COMMAND LIST FILTERBY.
//   - harness_self_test.go tests the harness itself (comparison modes,
//     reply parser, shrinker) and needs no oracle.
//   - zz_summary_test.go logs how many cases and replies were compared.
//
// Expected replies never come from memory: there are no literal expected
// values in the tables, only command sequences. The oracle answers.
//
// Timing: both servers run the same step back to back, so relative TTLs
// agree to within a few milliseconds; tests keep TTLs large (>= 100 s) and
// compare TTL-like replies with the ttl/pttl modes. Where a step needs a key
// to actually expire, the test polls with a bounded loop rather than
// sleeping a fixed time.
package integration
