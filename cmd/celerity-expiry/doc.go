// Command celerity-expiry measures how fast a server reclaims the memory of
// a result-heavy workload once it expires: it writes -keys Celery-shaped
// result keys (celery-task-meta-<uuid>, a ~170-byte JSON value) with SETEX
// -ttl, keeps background traffic running (-traffic SET/GET per second on
// other keys), and polls INFO every 50 ms until no key with a TTL is left
// (INFO keyspace expires=0) and used_memory is back within -near of its
// baseline. Times are reported from the last key's deadline (the end of the
// fill + TTL), so they show the lag of each server's active expiry. It runs
// Celerity (-celerity) and redis-server 7.0.15 (-redis) one after the other,
// each on a free loopback port in a temporary --dir without persistence.
//
// It is a measurement, not a test (`make bench-expiry`); nothing asserts on
// its figures.
package main
