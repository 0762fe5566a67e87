// Package metrics serves Celerity's metrics-port: Prometheus metrics at
// /metrics, a read-only status page at / and a liveness probe at /healthz.
//
// # Contract
//
//   - Off unless metrics-port is set. The port listens on metrics-bind, or
//     on the bind addresses when that is empty, read as bind is ("*",
//     "::*", a leading "-" for an optional address).
//   - Access is the RESP port's: unless metrics-auth is no, a server with a
//     password wants HTTP basic auth whose user and password pass AUTH
//     (Server.CheckPassword; an empty user is the default user), and a
//     server without one serves loopback clients only while protected-mode
//     is yes. A failed check is 401 (or 403 for protected mode) and runs
//     nothing.
//   - Data is collected on request, never in the background, in steps that
//     each take the engine lock on their own: INFO everything; PUBSUB
//     CHANNELS/NUMSUB/NUMPAT; then, for every database that has keys, each of
//     the extensions' read-only commands (KOMBU.QUEUES, KOMBU.UNACKED,
//     REDBEAT.SCHEDULE, REDBEAT.LOCK, RESULTS.STATS), all through
//     Server.Exec. Clients are served between steps, so a scrape stalls them
//     at most for its slowest command (celerity_metrics_lock_seconds), at the
//     price of figures from slightly different instants. Replies are parsed
//     outside the lock. Like a redis_exporter scrape, these commands count in
//     INFO commandstats.
//   - The package knows the extensions only by their commands' replies: it
//     imports none of kombu/, redbeat/, results/. A command the table lacks
//     (extension absent) leaves its part out of /metrics and says so on the
//     page; an error reply is shown on the page, never logged.
//   - While a script past its time limit owns the server (Redis would answer
//     -BUSY), nothing is run: /metrics reports celerity_up 0, the page and
//     /healthz answer 503. Likewise when INFO was renamed away
//     (rename-command): the figures come from INFO.
//   - Nothing is logged per request and no key, value or argument ever is.
//
// # Cardinality
//
// Labels are db, queue, priority, entry (with prefix), state and command:
// sets an operator controls and that stay small. Pub/sub channels are not a
// label: Celery stacks use a channel per user or per task for
// notifications, so /metrics exports channel and subscription totals and the
// status page lists the most subscribed channels (at most maxChannels).
//
// # Status page
//
// Server-rendered by html/template (every name is user data and is
// escaped), with its CSS inline, no script and no external asset, and a
// Content-Security-Policy that forbids loading any. It refreshes itself
// with <meta http-equiv="refresh">. Below 600 px wide it is one column and
// its tables turn into one card per row.
package metrics
