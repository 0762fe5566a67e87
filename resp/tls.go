package resp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// TLS (Redis 7.0's tls.c with Go's crypto/tls).
//
// Connections on tls-port are terminated by a goroutine each: it runs the
// handshake, then copies plaintext between the TLS connection and one end
// of a socketpair whose other end the reactor serves like any client
// socket. The Client keeps the real peer and local addresses (CLIENT LIST,
// CLIENT KILL ADDR, MONITOR, protected mode). Why not TLS inside the
// reactor: crypto/tls has no non-blocking, memory-buffer interface (no
// equivalent of OpenSSL's SSL_read returning WANT_READ on a non-blocking
// fd), so a reactor would have to reimplement the record layer. The
// bridge costs a TLS client two extra copies and a goroutine wake-up per
// exchange; plaintext clients pay nothing, their path is unchanged.
//
// Directives, and what Go can do with them:
//
//   - tls-cert-file, tls-key-file (required), tls-key-file-pass (legacy
//     "Proc-Type: 4,ENCRYPTED" PEM keys; encrypted PKCS#8 keys are refused
//     with a clear message), tls-ca-cert-file / tls-ca-cert-dir (every PEM
//     file of the directory), tls-auth-clients yes|no|optional;
//   - tls-protocols: a contiguous range of TLSv1, TLSv1.1, TLSv1.2,
//     TLSv1.3 (default TLSv1.2 and TLSv1.3, as Redis); a set with a hole
//     is refused, Go only has a minimum and a maximum;
//   - tls-ciphers (TLS 1.2 and below): a ':'-separated list of OpenSSL or
//     IANA names of suites crypto/tls implements, or DEFAULT; OpenSSL's
//     cipher-string operators (HIGH, !aNULL, @STRENGTH...) are refused;
//   - tls-ciphersuites (TLS 1.3): crypto/tls always enables its three TLS
//     1.3 suites, so a list is accepted only if it allows all three;
//   - tls-session-caching no disables session tickets; the size and
//     timeout of Redis's server-side cache have no counterpart (Go resumes
//     sessions with tickets only) and are kept for CONFIG GET;
//   - tls-prefer-server-ciphers: Go chooses the suite itself (ignoring the
//     client's order only when hardware support makes it safe): no effect;
//   - tls-dh-params-file: crypto/tls has no DHE suites; the file must be
//     readable, and a warning says it is unused;
//   - tls-replication, tls-cluster, tls-client-*: outgoing connections,
//     which Celerity does not make: no effect.
//
// Like Redis, the files are read when the server starts (a failure is
// fatal: "Failed to configure TLS") and again on CONFIG SET of any tls-*
// directive, even to the same value, so a renewed certificate is picked
// up with CONFIG SET tls-cert-file <same path>; a failure leaves the
// running configuration in place and CONFIG SET fails with "Unable to
// update TLS configuration. Check server logs.". New connections use the
// new configuration; established ones keep theirs.

// tlsError is a reason TLS cannot be configured, logged as Redis logs its
// own (capitalized, as a log line).
type tlsError string

func (e tlsError) Error() string { return string(e) }

func tlsErrorf(format string, args ...any) error { return tlsError(fmt.Sprintf(format, args...)) }

// configureTLS builds the TLS configuration from the directives and
// installs it for new connections. Called with the engine lock, or before
// the server runs.
func (s *Server) configureTLS() error {
	tc, err := buildTLSConfig(s.cfg)
	if err != nil {
		return err
	}
	if s.cfg.TLSDHParamsFile != "" {
		s.log.Warn().Msg("tls-dh-params-file is not used: Go's crypto/tls has no DHE cipher suites")
	}
	s.tlsConfig.Store(tc)
	return nil
}

func buildTLSConfig(cfg *Config) (*tls.Config, error) {
	if cfg.TLSCertFile == "" {
		return nil, tlsErrorf("No tls-cert-file configured!")
	}
	if cfg.TLSKeyFile == "" {
		return nil, tlsErrorf("No tls-key-file configured!")
	}
	if cfg.TLSCACertFile == "" && cfg.TLSCACertDir == "" &&
		(cfg.TLSAuthClients != "no" || cfg.TLSReplication || cfg.TLSCluster) {
		return nil, tlsErrorf("Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, tls-replication or tls-auth-clients are enabled!")
	}
	cert, err := loadKeyPair(cfg.TLSCertFile, cfg.TLSKeyFile, cfg.TLSKeyFilePass)
	if err != nil {
		return nil, err
	}
	tc := &tls.Config{
		Certificates:           []tls.Certificate{cert},
		SessionTicketsDisabled: !cfg.TLSSessionCaching,
	}
	if cfg.TLSCACertFile != "" || cfg.TLSCACertDir != "" {
		pool, err := loadCAs(cfg.TLSCACertFile, cfg.TLSCACertDir)
		if err != nil {
			return nil, err
		}
		tc.ClientCAs = pool
	}
	switch cfg.TLSAuthClients {
	case "yes":
		tc.ClientAuth = tls.RequireAndVerifyClientCert
	case "optional":
		tc.ClientAuth = tls.VerifyClientCertIfGiven
	default:
		tc.ClientAuth = tls.NoClientCert
	}
	if tc.MinVersion, tc.MaxVersion, err = parseTLSProtocols(cfg.TLSProtocols); err != nil {
		return nil, err
	}
	if tc.CipherSuites, err = parseTLSCiphers(cfg.TLSCiphers); err != nil {
		return nil, err
	}
	if err := checkTLSCiphersuites(cfg.TLSCiphersuites); err != nil {
		return nil, err
	}
	if cfg.TLSDHParamsFile != "" {
		if _, err := os.ReadFile(cfg.TLSDHParamsFile); err != nil {
			return nil, tlsErrorf("Failed to load %s: %s", cfg.TLSDHParamsFile, syscallErrText(err))
		}
	}
	return tc, nil
}

// loadKeyPair reads the certificate chain and its key, decrypting a legacy
// encrypted PEM key with pass.
func loadKeyPair(certFile, keyFile, pass string) (tls.Certificate, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return tls.Certificate{}, tlsErrorf("Failed to load certificate: %s: %s", certFile, syscallErrText(err))
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return tls.Certificate{}, tlsErrorf("Failed to load private key: %s: %s", keyFile, syscallErrText(err))
	}
	if block, _ := pem.Decode(keyPEM); block != nil {
		switch {
		case block.Type == "ENCRYPTED PRIVATE KEY":
			return tls.Certificate{}, tlsErrorf("Failed to load private key: %s: encrypted PKCS#8 keys are not supported; decrypt it (openssl pkey -in %s -out plain.key) or use a legacy PEM encryption (openssl rsa -aes256)", keyFile, keyFile)
		//lint:ignore SA1019 legacy PEM encryption is what tls-key-file-pass decrypts; it is the only form the standard library reads
		case x509.IsEncryptedPEMBlock(block):
			if pass == "" {
				return tls.Certificate{}, tlsErrorf("Failed to load private key: %s: the key is encrypted and tls-key-file-pass is not set", keyFile)
			}
			//lint:ignore SA1019 see above
			der, err := x509.DecryptPEMBlock(block, []byte(pass))
			if err != nil {
				return tls.Certificate{}, tlsErrorf("Failed to load private key: %s: %v", keyFile, err)
			}
			keyPEM = pem.EncodeToMemory(&pem.Block{Type: block.Type, Bytes: der})
		}
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, tlsErrorf("Failed to load certificate and key: %s, %s: %v", certFile, keyFile, err)
	}
	return cert, nil
}

// loadCAs reads the trusted client CAs from a PEM file and from every
// PEM file of a directory (OpenSSL's hashed names or any other).
func loadCAs(file, dir string) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, tlsErrorf("Failed to configure CA certificate(s) file/directory: %s: %s", file, syscallErrText(err))
		}
		if !pool.AppendCertsFromPEM(data) {
			return nil, tlsErrorf("Failed to configure CA certificate(s) file/directory: %s: no PEM certificate", file)
		}
	}
	if dir != "" {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, tlsErrorf("Failed to configure CA certificate(s) file/directory: %s: %s", dir, syscallErrText(err))
		}
		for _, e := range entries {
			if data, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil {
				pool.AppendCertsFromPEM(data)
			}
		}
	}
	return pool, nil
}

var tlsVersions = []struct {
	name string
	v    uint16
}{{"tlsv1", tls.VersionTLS10}, {"tlsv1.1", tls.VersionTLS11}, {"tlsv1.2", tls.VersionTLS12}, {"tlsv1.3", tls.VersionTLS13}}

// parseTLSProtocols maps tls-protocols onto a version range.
func parseTLSProtocols(s string) (lo, hi uint16, err error) {
	if strings.TrimSpace(s) == "" {
		return tls.VersionTLS12, tls.VersionTLS13, nil
	}
	var on [4]bool
	for _, w := range strings.Fields(s) {
		found := false
		for i, v := range tlsVersions {
			if strings.EqualFold(w, v.name) {
				on[i], found = true, true
			}
		}
		if !found {
			return 0, 0, tlsErrorf("Invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1', 'TLSv1.2' and 'TLSv1.3'.")
		}
	}
	first, last := -1, -1
	for i, b := range on {
		if b {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	for i := first; i <= last; i++ {
		if !on[i] {
			return 0, 0, tlsErrorf("tls-protocols %q has a gap: Go's crypto/tls enables a contiguous range of versions only", s)
		}
	}
	return tlsVersions[first].v, tlsVersions[last].v, nil
}

// opensslCipherNames maps OpenSSL's names of the TLS 1.2 suites crypto/tls
// implements to their IANA names.
var opensslCipherNames = map[string]string{
	"ECDHE-ECDSA-AES128-GCM-SHA256": "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
	"ECDHE-RSA-AES128-GCM-SHA256":   "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
	"ECDHE-ECDSA-AES256-GCM-SHA384": "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
	"ECDHE-RSA-AES256-GCM-SHA384":   "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
	"ECDHE-ECDSA-CHACHA20-POLY1305": "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
	"ECDHE-RSA-CHACHA20-POLY1305":   "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
	"ECDHE-ECDSA-AES128-SHA":        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
	"ECDHE-RSA-AES128-SHA":          "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
	"ECDHE-ECDSA-AES256-SHA":        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
	"ECDHE-RSA-AES256-SHA":          "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
	"ECDHE-ECDSA-AES128-SHA256":     "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
	"ECDHE-RSA-AES128-SHA256":       "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
	"AES128-GCM-SHA256":             "TLS_RSA_WITH_AES_128_GCM_SHA256",
	"AES256-GCM-SHA384":             "TLS_RSA_WITH_AES_256_GCM_SHA384",
	"AES128-SHA":                    "TLS_RSA_WITH_AES_128_CBC_SHA",
	"AES256-SHA":                    "TLS_RSA_WITH_AES_256_CBC_SHA",
	"AES128-SHA256":                 "TLS_RSA_WITH_AES_128_CBC_SHA256",
}

// parseTLSCiphers maps tls-ciphers onto crypto/tls suite ids; nil means
// Go's defaults.
func parseTLSCiphers(s string) ([]uint16, error) {
	if s == "" || strings.EqualFold(s, "DEFAULT") {
		return nil, nil
	}
	ids := map[string]uint16{}
	for _, cs := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		ids[cs.Name] = cs.ID
	}
	var out []uint16
	for _, name := range strings.Split(s, ":") {
		iana := name
		if n, ok := opensslCipherNames[strings.ToUpper(name)]; ok {
			iana = n
		}
		id, ok := ids[iana]
		if !ok {
			return nil, tlsErrorf("tls-ciphers: %q is not a cipher suite Go's crypto/tls implements; list suites by name (e.g. ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384), OpenSSL cipher-string keywords and operators are not supported", name)
		}
		out = append(out, id)
	}
	return out, nil
}

// checkTLSCiphersuites accepts a TLS 1.3 suite list only if it allows the
// three suites crypto/tls always enables.
func checkTLSCiphersuites(s string) error {
	if s == "" {
		return nil
	}
	allowed := map[string]bool{}
	for _, name := range strings.Split(s, ":") {
		allowed[strings.ToUpper(name)] = true
	}
	for _, need := range []string{"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"} {
		if !allowed[need] {
			return tlsErrorf("tls-ciphersuites %q cannot be enforced: Go's crypto/tls always enables TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384 and TLS_CHACHA20_POLY1305_SHA256 for TLS 1.3; allow all three, or leave TLS 1.3 out of tls-protocols", s)
		}
	}
	return nil
}

// serveTLS runs one TLS connection: maxclients check (a full server drops
// the connection before the handshake, writing nothing, as Redis),
// handshake, protected mode (after the handshake, like Redis's
// clientAcceptHandler, so the DENIED error is readable), then the bridge
// to a reactor. It returns when the connection ends.
func (s *Server) serveTLS(nc net.Conn) {
	tc := s.tlsConfig.Load()
	s.mu.Lock()
	full := len(s.clients) >= s.cfg.MaxClients
	if full {
		s.stats.rejectedConns++
	}
	keepalive := s.cfg.TCPKeepAlive
	s.mu.Unlock()
	if full || tc == nil || s.closing.Load() {
		nc.Close()
		return
	}
	setKeepAlive(nc, keepalive)
	conn := tls.Server(nc, tc)
	// No handshake timeout, as Redis; shutdown interrupts it.
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		select {
		case <-s.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	err := conn.HandshakeContext(ctx)
	cancel()
	addr, laddr := nc.RemoteAddr().String(), nc.LocalAddr().String()
	if err != nil {
		s.log.Debug().Msg(fmt.Sprintf("Error accepting a client connection: %v (addr=%s laddr=%s)", err, addr, laddr))
		nc.Close()
		return
	}
	s.mu.Lock()
	denied := s.protectedModeDenies(addr)
	s.mu.Unlock()
	if denied {
		refuseProtected(conn)
		return
	}
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		s.log.Warn().Err(err).Msg("Accepting client connection")
		conn.Close()
		return
	}
	f := os.NewFile(uintptr(fds[1]), "tls-bridge")
	bridge, err := net.FileConn(f)
	f.Close()
	if err == nil {
		err = syscall.SetNonblock(fds[0], true)
	}
	if err != nil {
		s.log.Warn().Err(err).Msg("Accepting client connection")
		syscall.Close(fds[0])
		conn.Close()
		return
	}
	if !s.register(fds[0], addr, laddr, 0) {
		bridge.Close()
		conn.Close()
		return
	}
	// Client to server; the peer's close (or a TLS error) half-closes the
	// bridge, which the reactor reads as the client leaving.
	go func() {
		io.Copy(bridge, conn)
		bridge.(*net.UnixConn).CloseWrite()
	}()
	// Server to client, until the reactor closes its end (QUIT, CLIENT
	// KILL, the peer gone): then close_notify and close.
	io.Copy(conn, bridge)
	conn.Close()
	bridge.Close()
}
