// Package keyindex finds the keys an extension reports without walking the
// whole database on every command: per database, the names of candidate
// keys, fed by the extension's Written hook (a name test per written key),
// completed by a bounded walk in its Cron (the keys loaded from the AOF,
// which no hook sees, and a periodic repair pass), and checked lazily when
// a command uses them, so deletion, expiry and eviction need no hook.
// Package kombu and package redbeat each keep one Index; they may not import
// each other, so the machinery lives here, beside the engine it hooks into.
// Every method expects the engine lock.
package keyindex
