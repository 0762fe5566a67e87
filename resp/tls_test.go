package resp_test

import (
	"bufio"
	"crypto/tls"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/resp"
	"github.com/celerity/celerity/resp/resptest"
)

// tlsServer starts an in-process server listening on tls-port only (port
// 0), with the test PKI and the given tls-auth-clients.
func tlsServer(t *testing.T, pki *resptest.PKI, auth string, edits ...func(*resp.Config)) (*resp.Server, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cfg := resp.NewConfig()
	cfg.SavePoints, cfg.Dir = nil, t.TempDir() // no dump.rdb in the package
	cfg.Port, cfg.TLSPort, cfg.Bind = 0, port, []string{"127.0.0.1"}
	cfg.TLSCertFile, cfg.TLSKeyFile, cfg.TLSCACertFile, cfg.TLSAuthClients = pki.ServerCert, pki.ServerKey, pki.CACert, auth
	for _, edit := range edits {
		edit(cfg)
	}
	srv, err := resp.NewServer(cfg, resp.Options{Logger: zerolog.Nop()})
	require.NoError(t, err)
	require.NoError(t, srv.Listen())
	go srv.Serve()
	require.NoError(t, srv.LoadData())
	t.Cleanup(srv.Shutdown)
	return srv, net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}

// tlsDo connects with tc, sends one inline command and returns its reply
// line, or the error that ended the exchange (handshake, or the server
// closing a connection whose certificate it refused: with TLS 1.3 the
// client learns it only when reading).
func tlsDo(addr string, tc *tls.Config, cmd string) (string, error) {
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, tc)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte(cmd + "\r\n")); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimRight(line, "\r\n"), err
}

func TestTLSAuthClients(t *testing.T) {
	pki := resptest.WritePKI(t, t.TempDir())
	for _, tc := range []struct {
		auth                  string
		noCert, good, rogueOK bool
	}{
		{auth: "yes", noCert: false, good: true},
		{auth: "optional", noCert: true, good: true},
		{auth: "no", noCert: true, good: true, rogueOK: true},
	} {
		t.Run(tc.auth, func(t *testing.T) {
			_, addr := tlsServer(t, pki, tc.auth)
			check := func(what string, cfg *tls.Config, ok bool) {
				reply, err := tlsDo(addr, cfg, "PING")
				if ok {
					require.NoError(t, err, what)
					assert.Equal(t, "+PONG", reply, what)
				} else {
					assert.Error(t, err, what)
					assert.Empty(t, reply, what)
				}
			}
			check("no client certificate", pki.ClientConfig(t, "", ""), tc.noCert)
			check("certificate of the trusted CA", pki.ClientConfig(t, pki.ClientCert, pki.ClientKey), tc.good)
			// With "no" the server asks for no certificate, so the rogue
			// one is never sent nor checked.
			check("certificate of another CA", pki.ClientConfig(t, pki.RogueCert, pki.RogueKey), tc.rogueOK)
		})
	}
}

func TestTLSClientAddressAndConfigSet(t *testing.T) {
	pki := resptest.WritePKI(t, t.TempDir())
	_, addr := tlsServer(t, pki, "yes")
	good := pki.ClientConfig(t, pki.ClientCert, pki.ClientKey)

	// CLIENT LIST shows the TLS peer's real address, not the bridge's.
	c, err := tls.Dial("tcp", addr, good)
	require.NoError(t, err)
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	_, err = c.Write([]byte("CLIENT INFO\r\n"))
	require.NoError(t, err)
	r := bufio.NewReader(c)
	_, err = r.ReadString('\n') // $len
	require.NoError(t, err)
	info, err := r.ReadString('\n')
	require.NoError(t, err)
	assert.Contains(t, info, " addr="+c.LocalAddr().String()+" ")
	assert.Contains(t, info, " laddr="+addr+" ")

	set := func(args ...string) string {
		t.Helper()
		cmd := "CONFIG SET"
		for _, a := range args {
			cmd += " " + strconv.Quote(a)
		}
		reply, err := tlsDo(addr, good, cmd)
		require.NoError(t, err)
		return reply
	}
	// tls-auth-clients applies to the next connection.
	assert.Equal(t, "+OK", set("tls-auth-clients", "optional"))
	reply, err := tlsDo(addr, pki.ClientConfig(t, "", ""), "PING")
	require.NoError(t, err)
	assert.Equal(t, "+PONG", reply)

	// A certificate that cannot be loaded fails the CONFIG SET and keeps
	// the running configuration.
	missing := pki.ServerCert + ".missing"
	assert.Equal(t, "-ERR CONFIG SET failed (possibly related to argument 'tls-cert-file') - Unable to update TLS configuration. Check server logs.",
		set("tls-cert-file", missing))
	reply, err = tlsDo(addr, good, "CONFIG GET tls-cert-file")
	require.NoError(t, err)
	assert.Equal(t, "*2", reply)

	// CONFIG SET of the same path reloads the file: a renewed certificate
	// is served to new connections.
	other := resptest.WritePKI(t, t.TempDir())
	for _, f := range [][2]string{{other.ServerCert, pki.ServerCert}, {other.ServerKey, pki.ServerKey}, {other.CACert, pki.CACert}} {
		data, err := os.ReadFile(f[0])
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(f[1], data, 0o600))
	}
	assert.Equal(t, "+OK", set("tls-cert-file", pki.ServerCert, "tls-key-file", pki.ServerKey))
	// The old CA's client no longer verifies the new server certificate.
	_, err = tlsDo(addr, good, "PING")
	assert.Error(t, err)
	reply, err = tlsDo(addr, other.ClientConfig(t, other.ClientCert, other.ClientKey), "PING")
	require.NoError(t, err)
	assert.Equal(t, "+PONG", reply)
}

func TestTLSConfigurationErrors(t *testing.T) {
	pki := resptest.WritePKI(t, t.TempDir())
	for _, tc := range []struct {
		name string
		edit func(cfg *resp.Config)
		want string
	}{
		{"no cert", func(c *resp.Config) { c.TLSCertFile = "" }, "No tls-cert-file configured!"},
		{"no key", func(c *resp.Config) { c.TLSKeyFile = "" }, "No tls-key-file configured!"},
		{"no CA", func(c *resp.Config) { c.TLSCACertFile = "" }, "Either tls-ca-cert-file or tls-ca-cert-dir must be specified"},
		{"bad protocol", func(c *resp.Config) { c.TLSProtocols = "TLSv1.4" }, "Invalid tls-protocols specified"},
		{"protocol gap", func(c *resp.Config) { c.TLSProtocols = "TLSv1 TLSv1.3" }, "contiguous range"},
		{"cipher keyword", func(c *resp.Config) { c.TLSCiphers = "HIGH:!aNULL" }, "OpenSSL cipher-string keywords"},
		{"TLS 1.3 suites", func(c *resp.Config) { c.TLSCiphersuites = "TLS_AES_256_GCM_SHA384" }, "cannot be enforced"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := resp.NewConfig()
			cfg.SavePoints, cfg.Dir = nil, t.TempDir()
			cfg.Port, cfg.TLSPort, cfg.Bind = 0, 1, []string{"127.0.0.1"}
			cfg.TLSCertFile, cfg.TLSKeyFile, cfg.TLSCACertFile = pki.ServerCert, pki.ServerKey, pki.CACert
			tc.edit(cfg)
			var log strings.Builder
			srv, err := resp.NewServer(cfg, resp.Options{Logger: zerolog.New(&log)})
			require.NoError(t, err)
			err = srv.Listen()
			require.Error(t, err)
			assert.Equal(t, "Failed to configure TLS. Check logs for more info.", err.Error())
			assert.Contains(t, log.String(), tc.want)
		})
	}
	// What Go can do is accepted and enforced.
	_, addr := tlsServer(t, pki, "yes", func(cfg *resp.Config) {
		cfg.TLSProtocols, cfg.TLSCiphers = "TLSv1.2", "ECDHE-ECDSA-AES128-GCM-SHA256:TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"
		cfg.TLSCiphersuites = "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256"
	})
	client := pki.ClientConfig(t, pki.ClientCert, pki.ClientKey)
	reply, err := tlsDo(addr, client, "PING")
	require.NoError(t, err)
	assert.Equal(t, "+PONG", reply)
	client.MinVersion = tls.VersionTLS13
	_, err = tlsDo(addr, client, "PING")
	assert.Error(t, err, "TLS 1.3 is off")
	client.MinVersion, client.CipherSuites = 0, []uint16{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305}
	_, err = tlsDo(addr, client, "PING")
	assert.Error(t, err, "CHACHA20 is not in tls-ciphers")
}
