// Command celerity-check-aof verifies an append-only file the way
// redis-check-aof 7.0.15 does, with the same output lines and exit codes,
// using Celerity's own reader (package aof):
//
//	celerity-check-aof [--fix [--yes]] <file.manifest|file.aof>
//
// Given a manifest (a file whose first non-comment line starts with
// "file "), it checks the base and every incr file it lists; given any other
// file, that one file ("Old-Style AOF"). For each file it prints
//
//	AOF analyzed: filename=<name>, size=<bytes>, ok_up_to=<offset>, ok_up_to_line=<n>, diff=<bytes>
//
// preceded, when the file is damaged, by "0x<offset>: <what was expected>".
// Exit status 0: every file is valid (or was fixed); 1: a file is damaged,
// missing or unreadable, or the fix was declined.
//
// --fix truncates the damaged file to ok_up_to after asking "Continue?
// [y/N]" on standard input (--yes answers for you). As with
// redis-check-aof, only the last file of a manifest can be truncated. A
// torn tail (the file ends inside a command or a MULTI block, or in
// zero-filled bytes) loses nothing that was ever complete; damage before the
// end of the file is reported as such, and fixing it discards everything
// after ok_up_to, which the tool says before asking.
//
// Differences from redis-check-aof: a base with an RDB preamble is
// reported as unsupported rather than checked; "*0" is refused (the Redis
// server refuses it when loading, its checker does not); a zero-filled tail
// is a torn tail; --truncate-to-timestamp is not implemented.
package main
