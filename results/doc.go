// Package results makes Celerity aware of the Celery result backend's keys
// (celery/backends/redis.py, celery/backends/base.py; see
// docs/celery-wire.md §5 and §6.1):
//
//   - celery-task-meta-<task id>: a task's result, a JSON object whose
//     "status" is the task state (SUCCESS, FAILURE, STARTED, ...);
//   - celery-taskset-meta-<group id>: a saved GroupResult;
//   - celery-taskset-meta-<group id>.j/.t/.s/.d/.c: a Redis-native chord's
//     join set (ZSET, or LIST unordered), counter, size, recorded-parts set
//     and callback claim (Celery 5.7); chord-unlock-<group id> is declared by
//     Celery but unused by the Redis backend, and counted as a chord key if
//     it ever appears;
//   - <oid>.reply.celery.pidbox: the list a worker pushes remote-control
//     replies into (celery inspect/control, Flower).
//
// Any key prefix in front (a result_backend_transport_options
// global_keyprefix) is accepted.
//
// It adds two things to the engine (resp.Extension):
//
// RESULTS.STATS [DB n] counts those keys in a database: task results by
// state, bytes, keys without a TTL, a TTL histogram, group and chord keys,
// pidbox reply queues. A database of up to walkSyncMax keys is walked inside
// the command (exact, like DBSIZE-cheap commands that are O(N) such as
// KEYS). A bigger one is walked in the background by the cron, a bounded
// number of keys per tick (walkBudgetKeys and walkBudget, whichever comes
// first), while someone keeps asking; the command then answers with the
// last complete walk and says how old it is. Counts are not kept
// incrementally: expiry and eviction delete keys without a hook an extension
// could see, so any running count would drift.
//
// results-default-ttl <seconds> (0 = off) gives a TTL to a result key or a
// pidbox reply list that a command left without one: Celery with
// result_expires=None writes results with plain SET (celery#7801), chord
// counters are INCRBY'd, and reply queues are LPUSHed without expiry
// (celery#6089); all of them pile up forever on a Redis. The Written hook
// runs right after the command, inside the same unit, and issues
// PEXPIREAT key <now+ttl> through Server.Exec: the AOF gets the command and
// the PEXPIREAT in one MULTI/EXEC, so no restart can bring the key back
// without its TTL. PERSIST is respected: a client that removed a TTL on
// purpose keeps its key forever, until a later write leaves it without a
// TTL again (a SET without EX, say), which is a new write without expiry.
package results
