// Package redbeat makes Celerity aware of celery-redbeat's keys
// (redbeat/schedulers.py and redbeat/decoder.py, 2.4.2; see
// docs/celery-wire.md §7 and §8) under any key prefix p:
//
//   - p + name: a hash per entry, "definition" (JSON: name, task, args,
//     kwargs, options, schedule, enabled) and "meta" (JSON: last_run_at as
//     RedBeat's typed datetime, total_run_count);
//   - p + ":schedule": a sorted set of entry keys scored by their next due
//     time in whole Unix seconds (-1: no next run). With the default prefix
//     "redbeat:" this is "redbeat::schedule";
//   - p + ":statics": the names of entries that come from beat_schedule;
//   - p + ":lock": the beat's redis-py Lock (redbeat_lock_key can rename it,
//     still under p).
//
// Prefixes are the configured ones (redbeat-prefixes, default "redbeat:")
// plus every p for which a sorted set p + ":schedule" exists whose first
// member starts with p.
//
// REDBEAT.SCHEDULE [PREFIX p] lists the entries with their stored due
// time and a next run computed here from the definition and meta, the way
// Celery's schedules compute it: interval = last run + every; crontab =
// the first minute after the last run matching all fields (month, day of
// month AND day of week, Celery's semantics, day_of_week 0 = Sunday), in
// the timezone last_run_at was stored in (Celery's app timezone), through
// robfig/cron; other kinds (rrule, solar) are shown raw. Entries are
// flagged overdue, and inconsistent when the schedule names a key without
// a hash, a hash is not in the schedule, or the stored due time differs
// from the computed one.
//
// REDBEAT.LOCK [PREFIX p] shows each lock's holder, TTL, the timeout
// observed when it was taken or extended, and its last extensions. The
// watch behind it (lock.go) follows writes to lock keys through the
// Written hook, and warns (log line, INFO redbeat) when a beat extends its
// lock with less than 20 % of the TTL left or lets it expire: the
// beat_max_loop_interval vs redbeat_lock_timeout trap (sibson/redbeat#230).
// The watch lives in memory: after a restart it starts over with the next
// extension it sees.
//
// Times are Unix milliseconds from the keyspace clock, so tests drive them
// with a manual clock.
//
// # Discovery
//
// The commands do not walk the database (resp/keyindex; but see below for a
// small one at start): they cost O(RedBeat keys), however many other keys
// share it. Per database, an index holds the
// names of the candidate keys: sorted sets named "*:schedule" and hashes
// with a "definition" field (entries, including those no schedule names).
// The rest is reached by name: a schedule's members, p + ":statics",
// p + ":lock" and the locks the watch saw. The index is fed by the Written
// hook (a suffix check on every key written, the fields of HSET, HMSET and
// HSETNX, a lookup of the destination of RENAME, COPY, MOVE and RESTORE;
// FLUSHDB and FLUSHALL empty it, SWAPDB swaps it), by a discovery walk in
// the Cron (a full pass over each database after start, once the AOF is
// loaded, then every 5 min to prune and repair drift, bounded per tick as
// results/ is), and pruned by the commands, which drop the candidates that
// are gone or changed type. Until a database's first pass has ended, a
// command walks it itself if it holds at most 10,000 keys; a bigger one is
// answered from the index so far, each row carrying
// "discovery_complete: false". INFO redbeat shows the index
// (redbeat_discovery_pending_dbs, redbeat_discovery_passes,
// redbeat_index_keys, redbeat_keys_examined).
package redbeat
