// Package kombu makes Celerity understand the keys Kombu's Redis transport
// writes (../shared/docs/celery-wire.md §4) and uses that for two things:
// introspection and the visibility lease.
//
// # Contract
//
// The package is a resp.Extension built by New and plugged in by cmd/ through
// resp.Options.Extensions. It imports only resp, keyspace and the standard
// library (plus zerolog): never another Celery-aware package.
//
//   - It never changes a reply, a key or a command of its own accord: with
//     kombu-visibility-lease off (the default) it only reads, and the
//     dataset evolves exactly as under Redis.
//   - Its one write is the lease refresh, "ZADD <p>unacked_index XX GT <now>
//     <tag> ...", run through resp.Server.Exec as an ordinary command (so it
//     is in the AOF, bumps WATCH versions and is seen by MONITOR like any
//     client's write).
//   - Everything it remembers (who wrote each delivery, restores seen) lives
//     in memory and starts over with the server; what it reports from the
//     dataset itself (queues, messages, unacked entries) is recomputed on
//     every call.
//
// # Discovery
//
// Per database, a Kombu "namespace" is a global_keyprefix p (usually empty)
// under which Kombu keeps:
//
//   - binding tables, sets "<p>_kombu.binding.<exchange>" whose members are
//     "<routing_key><SEP><pattern><SEP><queue>" with SEP = "\x06\x16";
//   - queues, lists "<p><queue>" (priority step 0) and "<p><queue><SEP><n>"
//     for the other steps (n in 1..9: Kombu clamps priorities to 0..9, so
//     any priority_steps Kombu accepts land there; the default is 3, 6, 9);
//   - the unacked deliveries: hash "<p>unacked" (tag -> JSON [message,
//     exchange, routing_key]), zset "<p>unacked_index" (tag -> delivery
//     time in seconds) and the restore mutex string "<p>unacked_mutex".
//
// The directive kombu-global-keyprefix names p. Left empty, every prefix is
// detected from the key names, which is unambiguous: the binding marker and
// the unacked_index suffix delimit p. A database shared by several
// applications with different prefixes is reported side by side, each row
// naming its prefix. Kombu's other key-name options (sep, unacked_key, ...)
// are assumed at their defaults.
//
// The commands do not walk the database (resp/keyindex; but see below for a
// small one at start): they cost O(Kombu keys), however many other keys (a result backend's
// millions of celery-task-meta-*) share the database. Per database, an index
// holds the names of the candidate keys: the binding tables and the
// unacked_index zsets, under any prefix. Everything else is reached by name
// from them: a queue's lists "<p><queue>" and "<p><queue><SEP><n>" from the
// binding members (and from the routing of unacked deliveries), "<p>unacked"
// from the prefix. A list nobody bound is not a queue to these commands
// (it never was), so lists need no index and pushes no check.
//
// The index is fed three ways:
//
//   - the Written hook tests the name of every key a command wrote (a
//     suffix and a marker check, about 10 ns: BenchmarkWrittenNonKombu),
//     and, for the rare commands that move a value under a new name
//     (RENAME, COPY, MOVE, RESTORE), looks the destination up; FLUSHDB and
//     FLUSHALL empty the indexes, SWAPDB swaps them;
//   - a discovery walk in the Cron finds the keys the hook never saw (those
//     the AOF loaded at start: Written does not fire while loading, and the
//     Cron does not run until loading has ended): a full pass over each
//     database after start, then again every keyindex.RepairEvery (5 min) to prune
//     and repair drift, at most keyindex.WalkBudgetKeys keys or keyindex.WalkBudget (2 ms)
//     per tick;
//   - a command checks each candidate it uses and drops those that are
//     gone or changed type, so deletion, expiry and eviction need no hook.
//
// Until a database's first pass has ended, a command walks it itself if it
// holds at most keyindex.SyncWalkMax (10,000) keys; a bigger one is answered from the
// index so far, each row carrying "discovery_complete: false" (a complete
// reply keeps its exact shape). INFO kombu shows the index
// (kombu_discovery_pending_dbs, kombu_discovery_passes, kombu_index_keys,
// kombu_keys_examined: keys the commands looked at, walks included).
//
// # Visibility lease
//
// Kombu records each delivery with "MULTI; ZADD <p>unacked_index <now> <tag>;
// HSET <p>unacked <tag> <payload>; EXEC" on one of the consuming process's
// pooled connections, and any worker's restore_visible re-queues the
// entries whose score is older than visibility_timeout, whether or not the
// worker holding them is alive (kombu#337, celery#4400). With
// kombu-visibility-lease on, the Written hook notes which connection wrote
// each ZADD (with it off nothing per delivery is kept: a map insert and
// delete per message was measured at 8-14 % of Kombu's throughput), and
// Cron rewrites the score of every delivery whose writer is still connected
// to the current time about once a second (only if the tag is still in both
// the index and the unacked hash; a sweep of at most 4,096 deliveries or
// 1 ms per tick, so a large unacked set never stalls the server), so
// restore_visible never sees it as
// expired. When that connection closes (the worker died: Kombu keeps its
// pooled connections for the process's life) the refreshes stop and the
// ordinary visibility_timeout clock runs from the last one. kombu-lease-max
// bounds how long one delivery is refreshed (a worker alive but hung).
//
// Acks (ZREM + HDEL) end a lease. A restore (HDEL of a tag followed, from the
// same client, by an RPUSH/LPUSH of the payload carrying that tag) is counted
// per queue and per tag: the "restored" and redelivery figures.
package kombu
