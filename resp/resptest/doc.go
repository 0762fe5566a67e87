// Package resptest starts in-process Celerity servers for tests and talks
// to them (or to any Redis) over raw RESP, the way net/http/httptest does for
// HTTP handlers: NewServer(t) returns a running server on a loopback port that
// is shut down when the test ends; Dial returns a client that sends argv and
// returns each reply both decoded and as its exact bytes.
package resptest
