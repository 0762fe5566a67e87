package resptest

import (
	"net"
	"testing"

	"github.com/rs/zerolog"

	"github.com/celerity/celerity/keyspace"
	"github.com/celerity/celerity/resp"
)

// Server is a running in-process Celerity.
type Server struct {
	*resp.Server
	addr string
}

// Option adjusts the configuration or options of a test server.
type Option func(cfg *resp.Config, opts *resp.Options)

// WithClock drives the server's expiry with clock.
func WithClock(clock keyspace.Clock) Option {
	return func(_ *resp.Config, o *resp.Options) { o.Clock = clock }
}

// WithConfig lets a test change directives before the server starts.
func WithConfig(f func(cfg *resp.Config)) Option {
	return func(cfg *resp.Config, _ *resp.Options) { f(cfg) }
}

// NewServer starts a server on 127.0.0.1 with a random port and stops it
// when the test ends.
func NewServer(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	cfg := resp.NewConfig()
	cfg.Bind = []string{"127.0.0.1"}
	// Test servers save no snapshots unless a test asks (WithConfig): at
	// shutdown, save points would write dump.rdb into the package's
	// directory.
	cfg.SavePoints = nil
	o := resp.Options{Logger: zerolog.Nop()}
	for _, opt := range opts {
		opt(cfg, &o)
	}
	srv, err := resp.NewServer(cfg, o)
	if err != nil {
		tb.Fatalf("resptest: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("resptest: %v", err)
	}
	cfg.Port = ln.Addr().(*net.TCPAddr).Port
	srv.StartCron()
	go srv.ServeListener(ln)
	if err := srv.LoadData(); err != nil {
		tb.Fatalf("resptest: loading: %v", err)
	}
	tb.Cleanup(srv.Shutdown)
	return &Server{Server: srv, addr: ln.Addr().String()}
}

// Addr returns host:port.
func (s *Server) Addr() string { return s.addr }

// WithExtensions plugs Celery-aware extensions into the server.
func WithExtensions(exts ...*resp.Extension) Option {
	return func(_ *resp.Config, o *resp.Options) { o.Extensions = append(o.Extensions, exts...) }
}
