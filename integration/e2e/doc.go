// Package e2e runs end-to-end tests against the built celerity-server
// binary: real processes on loopback ports, driven by raw RESP connections
// and by redis-cli. TestMain builds the binary once into a temporary
// directory, so the tests exercise exactly what `make build` ships.
package e2e
