package resp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// Listening sockets, as Redis 7.0.15's initServer and listenToPort
// (server.c) open them:
//
//   - port on every bind address, then tls-port on the same addresses
//     (TLS listeners are wrapped in tlsListener so acceptLoop hands their
//     connections to serveTLS), then unixsocket;
//   - an address prefixed with "-" is optional: skipped with a warning when
//     it does not exist here (EADDRNOTAVAIL), fatal for any other error,
//     such as the port being in use; an address family the kernel lacks
//     is skipped even without "-";
//   - "*" is every IPv4 address, "::*" every IPv6 one;
//   - every listener gets tcp-backlog as its listen(2) backlog (Go's net
//     package uses somaxconn; listen is called again on the open socket,
//     which Linux accepts to change the backlog);
//   - the unix socket file is removed first and created with
//     unixsocketperm, and removed again at shutdown;
//   - nothing to listen on at all is fatal.

// tlsListener marks a listener whose connections speak TLS.
type tlsListener struct{ net.Listener }

// unixListener marks the unix socket listener; its clients are local and
// their address is "<path>:0", as Redis shows them.
type unixListener struct {
	net.Listener
	path string
}

// listenError carries Redis's own start-up messages, which the log prints
// as they are.
type listenError string

func (e listenError) Error() string { return string(e) }

// Listen opens the listeners for port, tls-port and unixsocket. Called
// before Serve.
func (s *Server) Listen() error {
	if s.cfg.TLSPort != 0 {
		if err := s.configureTLS(); err != nil {
			s.log.Warn().Msg(err.Error())
			return listenError("Failed to configure TLS. Check logs for more info.")
		}
	}
	s.checkTCPBacklog()
	tcp, err := s.listenPort(s.cfg.Port, false)
	if err != nil {
		return err
	}
	s.listeners = append(s.listeners, tcp...)
	tl, err := s.listenPort(s.cfg.TLSPort, true)
	if err != nil {
		s.closeListeners()
		return err
	}
	s.listeners = append(s.listeners, tl...)
	if path := s.cfg.UnixSocket; path != "" {
		ln, err := listenUnix(path, s.cfg.UnixSocketPerm, s.cfg.TCPBacklog)
		if err != nil {
			s.closeListeners()
			return listenError("Failed opening Unix socket: " + err.Error())
		}
		s.listeners = append(s.listeners, ln)
		s.log.Info().Msg("The server is now ready to accept connections at " + path)
	}
	if len(s.listeners) == 0 {
		return listenError("Configured to not listen anywhere, exiting.")
	}
	return nil
}

// listenPort opens port (0: none) on every bind address. The error is
// Redis's "Failed listening on port N (TCP|TLS), aborting."; each failed
// address is logged first.
func (s *Server) listenPort(port int, isTLS bool) ([]net.Listener, error) {
	if port == 0 {
		return nil, nil
	}
	var lns []net.Listener
	for _, b := range s.cfg.Bind {
		optional := strings.HasPrefix(b, "-")
		addr := strings.TrimPrefix(b, "-")
		network, host := "tcp4", addr
		switch {
		case addr == "*":
			host = "0.0.0.0"
		case addr == "::*":
			network, host = "tcp6", "::"
		case strings.Contains(addr, ":"):
			network = "tcp6"
		}
		ln, err := listenTCP(network, net.JoinHostPort(host, strconv.Itoa(port)), s.cfg.TCPBacklog)
		if err != nil {
			s.log.Warn().Msg(fmt.Sprintf("Warning: Could not create server TCP listening socket %s:%d: %s", addr, port, anetError(err)))
			var errno syscall.Errno
			errors.As(err, &errno)
			switch {
			case errno == syscall.EADDRNOTAVAIL && optional,
				errno == syscall.ENOPROTOOPT, errno == syscall.EPROTONOSUPPORT,
				errno == syscall.ESOCKTNOSUPPORT, errno == syscall.EPFNOSUPPORT,
				errno == syscall.EAFNOSUPPORT:
				continue
			}
			for _, ln := range lns {
				ln.Close()
			}
			kind := "TCP"
			if isTLS {
				kind = "TLS"
			}
			return nil, listenError(fmt.Sprintf("Failed listening on port %d (%s), aborting.", port, kind))
		}
		if isTLS {
			ln = &tlsListener{ln}
		}
		lns = append(lns, ln)
	}
	return lns, nil
}

// listenTCP listens with the given backlog. Go's own keep-alive default
// for accepted connections is off: tcp-keepalive decides (setKeepAlive).
func listenTCP(network, addr string, backlog int) (net.Listener, error) {
	lc := net.ListenConfig{KeepAlive: -1}
	ln, err := lc.Listen(context.Background(), network, addr)
	if err != nil {
		return nil, err
	}
	if err := setBacklog(ln, backlog); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

// setBacklog calls listen(2) again with backlog: Linux updates the queue
// length of a listening socket.
func setBacklog(ln net.Listener, backlog int) error {
	sc, ok := ln.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	var lerr error
	if err := rc.Control(func(fd uintptr) { lerr = syscall.Listen(int(fd), backlog) }); err != nil {
		return err
	}
	return os.NewSyscallError("listen", lerr)
}

// listenUnix removes a stale socket file and listens on path with mode
// perm (0: as the umask leaves it). Closing the listener removes the file.
func listenUnix(path string, perm, backlog int) (net.Listener, error) {
	os.Remove(path) // don't care if this fails, as Redis
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, errors.New(anetError(err))
	}
	if err := setBacklog(ln, backlog); err != nil {
		ln.Close()
		return nil, errors.New(anetError(err))
	}
	if perm != 0 {
		if err := os.Chmod(path, os.FileMode(perm)); err != nil {
			ln.Close()
			return nil, errors.New(anetError(err))
		}
	}
	return &unixListener{Listener: ln, path: path}, nil
}

// anetError renders a listen error as Redis's anet layer does: the failed
// system call and strerror ("bind: Address already in use").
func anetError(err error) string {
	var se *os.SyscallError
	if errors.As(err, &se) {
		return se.Syscall + ": " + syscallErrText(se.Err)
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Op + ": " + syscallErrText(pe.Err)
	}
	return err.Error()
}

// checkTCPBacklog warns, as Redis does, when somaxconn caps tcp-backlog.
func (s *Server) checkTCPBacklog() {
	data, err := os.ReadFile("/proc/sys/net/core/somaxconn")
	if err != nil {
		return
	}
	if n, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil && n < s.cfg.TCPBacklog {
		s.log.Warn().Msg(fmt.Sprintf("WARNING: The TCP backlog setting of %d cannot be enforced because /proc/sys/net/core/somaxconn is set to the lower value of %d.", s.cfg.TCPBacklog, n))
	}
}

// applyNet makes the listeners follow CONFIG SET port, bind and tls-port,
// and rebuilds the TLS configuration when a tls-* directive was set.
// Listeners of a changed kind are closed first and reopened (a port
// cannot be listened on twice); on failure the old ones are reopened and
// the error names the directive, as Redis's changeBindAddr and
// changeListenPort do. Called with the engine lock.
func (s *Server) applyNet(prev *Config) *applyError {
	reload := s.reloadTLS
	s.reloadTLS = ""
	tlsOn := s.cfg.TLSPort != 0 || s.cfg.TLSReplication || s.cfg.TLSCluster
	if reload != "" && tlsOn || s.cfg.TLSPort != 0 && s.tlsConfig.Load() == nil {
		if reload == "" {
			reload = "tls-port"
		}
		if err := s.configureTLS(); err != nil {
			s.log.Warn().Msg(err.Error())
			return &applyError{reload, "Unable to update TLS configuration. Check server logs."}
		}
	}
	bindChanged := strings.Join(s.cfg.Bind, " ") != strings.Join(prev.Bind, " ")
	tcpChanged := bindChanged || s.cfg.Port != prev.Port
	tlsChanged := bindChanged || s.cfg.TLSPort != prev.TLSPort
	if !tcpChanged && !tlsChanged {
		return nil
	}
	var keep, closed []net.Listener
	for _, ln := range s.listeners {
		_, isTLS := ln.(*tlsListener)
		_, isUnix := ln.(*unixListener)
		if isUnix || isTLS && !tlsChanged || !isTLS && !tcpChanged {
			keep = append(keep, ln)
			continue
		}
		ln.Close()
		closed = append(closed, ln)
	}
	var opened []net.Listener
	open := func(cfg *Config) error {
		opened = nil
		save := s.cfg
		s.cfg = cfg
		defer func() { s.cfg = save }()
		if tcpChanged {
			lns, err := s.listenPort(cfg.Port, false)
			if err != nil {
				return err
			}
			opened = append(opened, lns...)
		}
		if tlsChanged {
			lns, err := s.listenPort(cfg.TLSPort, true)
			if err != nil {
				for _, ln := range opened {
					ln.Close()
				}
				return err
			}
			opened = append(opened, lns...)
		}
		return nil
	}
	if err := open(s.cfg); err != nil {
		// Put the previous listeners back (best effort, as Redis).
		if len(closed) > 0 {
			if err := open(prev); err == nil {
				s.listeners = append(keep, opened...)
				for _, ln := range opened {
					go s.acceptLoop(ln)
				}
			} else {
				s.listeners = keep
			}
		}
		switch {
		case bindChanged:
			return &applyError{"bind", "Failed to bind to specified addresses."}
		case s.cfg.Port != prev.Port:
			return &applyError{"port", "Unable to listen on this port. Check server logs."}
		}
		return &applyError{"tls-port", "Unable to listen on this port. Check server logs."}
	}
	s.listeners = append(keep, opened...)
	for _, ln := range opened {
		go s.acceptLoop(ln)
	}
	return nil
}

// Addr returns the address of the first listener, for tests.
func (s *Server) Addr() net.Addr {
	if len(s.listeners) == 0 {
		return nil
	}
	return s.listeners[0].Addr()
}
