// Command celerity-server is a drop-in for redis-server 7.0: the same
// command line ([config file|-] [--directive value ...]), the same redis.conf
// grammar and errors, Redis-style log lines, and a clean exit on SIGTERM or
// SIGINT. It wires the engine (package resp) to the configuration, the
// logger and the signals; nothing else imports it.
package main
