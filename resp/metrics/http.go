package metrics

import (
	"context"
	"errors"
	"fmt"
	stdlog "log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"

	"github.com/celerity/celerity/resp"
)

// Handler serves /metrics, the status page at / and /healthz for srv.
// With auth, every request must pass the server's credentials when the
// server has a password (see authorize).
func Handler(srv *resp.Server, auth bool) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewCollector(srv),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { servePage(w, srv) })
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { serveHealth(w, srv) })
	return &guard{srv: srv, auth: auth, next: mux}
}

// guard applies the server's access rules to the HTTP port.
type guard struct {
	srv  *resp.Server
	auth bool
	next http.Handler
}

func (g *guard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if g.auth {
		switch g.authorize(r) {
		case denyCredentials:
			w.Header().Set("WWW-Authenticate", `Basic realm="celerity", charset="UTF-8"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		case denyProtected:
			http.Error(w, "protected mode: no password is set for the default user, so only loopback clients are served", http.StatusForbidden)
			return
		}
	}
	g.next.ServeHTTP(w, r)
}

type verdict int

const (
	allow verdict = iota
	denyCredentials
	denyProtected
)

// authorize checks a request as the RESP port checks a connection: with no
// credentials it is the default user with no password (a connection is
// authenticated from the start exactly when AUTH default "" would pass),
// and then protected mode refuses non-loopback peers as Redis's
// clientAcceptHandler does; with basic-auth credentials, user and password
// must pass AUTH (an empty user is the default user, as in AUTH <pass>).
func (g *guard) authorize(r *http.Request) verdict {
	user, pass, given := r.BasicAuth()
	if user == "" {
		user = "default"
	}
	g.srv.Lock()
	defer g.srv.Unlock()
	open := g.srv.CheckPassword("default", "")
	if given && !g.srv.CheckPassword(user, pass) {
		return denyCredentials
	}
	if !given && !open {
		return denyCredentials
	}
	if open && g.srv.Config().ProtectedMode && !resp.IsLocalAddr(r.RemoteAddr) {
		return denyProtected
	}
	return allow
}

func serveHealth(w http.ResponseWriter, srv *resp.Server) {
	srv.Lock()
	busy := srv.ScriptRunning()
	srv.Unlock()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if busy {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "busy running a script")
		return
	}
	fmt.Fprintln(w, "ok")
}

// Endpoint is the running metrics HTTP server.
type Endpoint struct {
	http      *http.Server
	listeners []net.Listener
	wg        sync.WaitGroup
}

// Listen opens the metrics port as configured (metrics-port, metrics-bind,
// metrics-auth); it returns nil, nil when metrics-port is 0. Addresses are
// read like bind's: "*" and "::*" are the IPv4 and IPv6 wildcards, a
// leading "-" marks an address that may be missing; an empty metrics-bind
// uses the bind addresses.
func Listen(srv *resp.Server, log zerolog.Logger) (*Endpoint, error) {
	srv.Lock()
	cfg := srv.Config()
	port, auth := cfg.MetricsPort, cfg.MetricsAuth
	binds := append([]string(nil), cfg.MetricsBind...)
	if len(binds) == 0 {
		binds = append(binds, cfg.Bind...)
	}
	srv.Unlock()
	if port == 0 {
		return nil, nil
	}
	if len(binds) == 0 {
		binds = []string{""} // bind "": every interface
	}
	e := &Endpoint{http: &http.Server{
		Handler:           Handler(srv, auth),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
		// net/http's own complaints (bad requests, accept errors) go to
		// the server log, not to stderr.
		ErrorLog: stdlog.New(log, "metrics port: ", 0),
	}}
	for _, b := range binds {
		optional := strings.HasPrefix(b, "-")
		addr, network := strings.TrimPrefix(b, "-"), "tcp"
		switch addr {
		case "*":
			addr, network = "0.0.0.0", "tcp4"
		case "::*":
			addr, network = "::", "tcp6"
		}
		ln, err := net.Listen(network, net.JoinHostPort(addr, strconv.Itoa(port)))
		if err != nil {
			if optional {
				log.Warn().Err(err).Str("addr", addr).Msg("optional metrics bind address unavailable")
				continue
			}
			e.closeListeners()
			return nil, fmt.Errorf("could not open the metrics port %s:%d: %w", addr, port, err)
		}
		e.listeners = append(e.listeners, ln)
	}
	if len(e.listeners) == 0 {
		return nil, fmt.Errorf("failed listening on metrics port %d", port)
	}
	for _, ln := range e.listeners {
		log.Info().Str("addr", ln.Addr().String()).Bool("auth", auth).Msg("metrics and status page listening")
		e.wg.Add(1)
		go func(ln net.Listener) {
			defer e.wg.Done()
			if err := e.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Warn().Err(err).Msg("metrics port stopped")
			}
		}(ln)
	}
	return e, nil
}

// Addrs returns the addresses the endpoint listens on.
func (e *Endpoint) Addrs() []net.Addr {
	var out []net.Addr
	for _, ln := range e.listeners {
		out = append(out, ln.Addr())
	}
	return out
}

func (e *Endpoint) closeListeners() {
	for _, ln := range e.listeners {
		ln.Close()
	}
}

// Close stops the endpoint, letting requests in flight finish for up to
// a second. A nil Endpoint is a no-op.
func (e *Endpoint) Close() {
	if e == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if e.http.Shutdown(ctx) != nil {
		e.http.Close()
	}
	e.wg.Wait()
}
