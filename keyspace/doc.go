// Package keyspace holds Celerity's data: numbered databases of keys, their
// values, expiry times and the memory they account for.
//
// Contract:
//
//   - Standard library only; nothing here knows about the wire protocol,
//     commands or Celery. The engine (package resp) calls in while holding
//     its engine lock; nothing in this package locks, and nothing is safe for
//     concurrent use.
//   - Time comes from an injected Clock, so tests drive expiry without sleeps.
//     A key is expired when now > expire-at (milliseconds), as in Redis.
//   - Lazy expiry: every lookup of an expired key deletes it first and reports
//     the deletion through Hooks.Expired, so the engine can propagate a DEL
//     and invalidate WATCHers. Active expiry (ActiveExpireCycle) samples keys
//     with a TTL the way Redis's adaptive cycle does, within a time budget.
//   - Values are stored by copy: callers may pass slices that alias a network
//     buffer; the keyspace never retains them.
//   - The API cannot fail: lookups return nil for missing keys, Entry.Type
//     tells the type, and the engine does the type checks and argument
//     parsing, in Redis's order, with the error texts spelled once in
//     resp/errors.go. (ARCHITECTURE.md sketches keyspace sentinel errors;
//     with no failing operation here they would be dead code, so there are
//     none.)
//   - Memory accounting (memory.go): each value is accounted as what Redis
//     7.0 would allocate for it (its structures rounded to jemalloc's size
//     classes), so used_memory and maxmemory mean the same for the same
//     data; values keep running sums so every estimate is O(1). DB and
//     Keyspace keep running totals (by broker-safe class too, while that
//     policy is set), used by INFO, MEMORY and eviction.
//   - Eviction (evict.go): the keyspace knows the policy, keeps Redis's
//     access field per entry (LRU clock or LFU counter, by policy) and its
//     16-entry eviction pool, and EvictOne deletes the chosen key through
//     the same path as DEL. When to evict, and against which limit, is the
//     engine's decision; it also propagates the deletion. The broker-safe
//     policy asks an injected Classifier which keys are protected or
//     expendable: the keyspace itself still knows nothing of Celery.
//   - Snapshots: BeginSnapshot freezes every database at one instant for the
//     AOF rewrite without fork. Step then emits the keys of that instant in
//     bounded batches while writes go on, and each write path emits the
//     entry it is about to change or remove first (copy before write), so
//     every key of the cut comes out once, as it was. This holds only if
//     entries change solely through DB methods or in place right after a
//     LookupWrite lookup in the same command: entries from Peek, read
//     lookups, Scan, ForEach or RandomKey are read-only. snapshot.go
//     explains the invariant.
package keyspace
