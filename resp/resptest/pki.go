package resptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// PKI is a throw-away certificate authority with a server certificate (for
// 127.0.0.1, ::1 and localhost), a client certificate it signed, and a
// client certificate signed by another CA (which the server must refuse).
// Every field is the path of a PEM file.
type PKI struct {
	CACert                string
	ServerCert, ServerKey string
	ClientCert, ClientKey string
	RogueCert, RogueKey   string // signed by a CA the server does not trust
	RogueCACert           string
	dir                   string
}

// WritePKI generates the certificates (ECDSA P-256, valid for a day) into
// dir.
func WritePKI(tb testing.TB, dir string) *PKI {
	tb.Helper()
	p := &PKI{dir: dir}
	ca, caKey := newCert(tb, "Celerity test CA", nil, nil, true, nil)
	rogue, rogueKey := newCert(tb, "Rogue CA", nil, nil, true, nil)
	srv, srvKey := newCert(tb, "localhost", ca, caKey, false, func(c *x509.Certificate) {
		c.DNSNames = []string{"localhost"}
		c.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
		c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	})
	cli, cliKey := newCert(tb, "client", ca, caKey, false, func(c *x509.Certificate) {
		c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	})
	bad, badKey := newCert(tb, "client", rogue, rogueKey, false, func(c *x509.Certificate) {
		c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	})
	p.CACert = p.writeCert(tb, "ca.crt", ca)
	p.RogueCACert = p.writeCert(tb, "rogue-ca.crt", rogue)
	p.ServerCert, p.ServerKey = p.writeCert(tb, "server.crt", srv), p.writeKey(tb, "server.key", srvKey)
	p.ClientCert, p.ClientKey = p.writeCert(tb, "client.crt", cli), p.writeKey(tb, "client.key", cliKey)
	p.RogueCert, p.RogueKey = p.writeCert(tb, "rogue.crt", bad), p.writeKey(tb, "rogue.key", badKey)
	return p
}

// ClientConfig is a TLS client configuration trusting the CA, presenting
// the certificate and key given (none when both are "") whenever the
// server asks for one.
func (p *PKI) ClientConfig(tb testing.TB, cert, key string) *tls.Config {
	tb.Helper()
	pool := x509.NewCertPool()
	data, err := os.ReadFile(p.CACert)
	if err != nil {
		tb.Fatal(err)
	}
	pool.AppendCertsFromPEM(data)
	tc := &tls.Config{RootCAs: pool, ServerName: "localhost"}
	if cert != "" {
		kp, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			tb.Fatal(err)
		}
		// Always sent when asked for, even when the server's list of
		// acceptable CAs does not name its issuer (Go's default would then
		// send none): a rogue certificate must reach the server's check.
		tc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &kp, nil }
	}
	return tc
}

func newCert(tb testing.TB, cn string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, isCA bool,
	edit func(*x509.Certificate)) (*x509.Certificate, *ecdsa.PrivateKey) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  isCA,
	}
	if isCA {
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	}
	if edit != nil {
		edit(tmpl)
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	return cert, key
}

func (p *PKI) writeCert(tb testing.TB, name string, c *x509.Certificate) string {
	return p.write(tb, name, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

func (p *PKI) writeKey(tb testing.TB, name string, k *ecdsa.PrivateKey) string {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		tb.Fatal(err)
	}
	return p.write(tb, name, &pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func (p *PKI) write(tb testing.TB, name string, b *pem.Block) string {
	tb.Helper()
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(b), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}
