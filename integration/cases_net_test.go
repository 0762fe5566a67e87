package integration

import "testing"

// The network, TLS and syslog directives through CONFIG GET/SET: values,
// validation errors, immutability, and the TLS reconfiguration rules
// (resp/tls.go): with tls-port 0 a tls-* change reconfigures nothing, and
// enabling tls-port without certificates fails. CONFIG REWRITE without a
// config file. The servers' own listeners and files are exercised end to
// end in integration/e2e/net_test.go.
func TestDiffNetConfig(t *testing.T) {
	runCases(t, netConfigCases())
}

func netConfigCases() []diffCase {
	set := func(name, v string) step { return do("CONFIG", "SET", name, v) }
	get := func(name string) step { return do("CONFIG", "GET", name) }
	tlsDefaults := [][]string{
		{"CONFIG", "SET", "tls-auth-clients", "yes"}, {"CONFIG", "SET", "tls-session-cache-size", "20480"},
		{"CONFIG", "SET", "tls-protocols", ""}, {"CONFIG", "SET", "tls-cert-file", ""}, {"CONFIG", "SET", "tls-key-file", ""},
		{"CONFIG", "SET", "tls-prefer-server-ciphers", "no"}, {"CONFIG", "SET", "tls-session-caching", "yes"},
	}
	return []diffCase{
		{name: "config/tls-get", steps: []step{
			unorderedPairs("CONFIG", "GET", "tls-*"), get("tls-port"), get("TLS-AUTH-CLIENTS"), get("tls-key-file-pass"),
			unorderedPairs("CONFIG", "GET", "unixsocket*"), get("tcp-backlog"), unorderedPairs("CONFIG", "GET", "syslog-*")}},
		{name: "config/tls-set", cleanup: tlsDefaults, steps: []step{
			set("tls-auth-clients", "optional"), get("tls-auth-clients"), set("tls-auth-clients", "NO"), get("tls-auth-clients"),
			set("tls-auth-clients", "maybe"), get("tls-auth-clients"),
			set("tls-session-cache-size", "100"), set("tls-session-cache-size", "-1"), set("tls-session-cache-size", "x"),
			set("tls-prefer-server-ciphers", "yes"), set("tls-session-caching", "maybe"), set("tls-session-caching", "no"),
			// TLS is off (tls-port 0): nothing is loaded, so a missing file
			// is accepted, as by Redis.
			set("tls-cert-file", "/nonexistent/cert.pem"), get("tls-cert-file"), set("tls-protocols", "TLSv1.2"),
			unorderedPairs("CONFIG", "GET", "tls-*")}},
		{name: "config/tls-port-without-certificates", cleanup: append(tlsDefaults, []string{"CONFIG", "SET", "tls-port", "0"}), steps: []step{
			set("tls-port", "70000"), set("tls-port", "x"),
			set("tls-cert-file", "/nonexistent/cert.pem"), do("CONFIG", "SET", "tls-port", "0", "tls-key-file", "/nonexistent/key.pem"),
			get("tls-port")}},
		{name: "config/net-immutable", steps: []step{
			set("tcp-backlog", "100"), set("unixsocket", "/tmp/x.sock"), set("unixsocketperm", "700"),
			set("syslog-enabled", "yes"), set("syslog-ident", "x"), set("syslog-facility", "local1"),
			get("tcp-backlog"), get("unixsocketperm"), get("syslog-enabled")}},
		{name: "config/rewrite-without-file", steps: []step{
			do("CONFIG", "REWRITE"), do("CONFIG", "REWRITE", "x"), do("config", "rewrite")}},
	}
}
