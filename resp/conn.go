package resp

import (
	"errors"
	"net"
	"sync/atomic"
	"syscall"
	"time"
)

// maxPendingReply bounds the reply bytes one client accumulates while the
// engine lock is held: past it, the client's pipeline pauses until its
// replies have been written (see reactor.run), so one client's huge
// pipeline neither holds the lock for long nor grows its buffer without
// bound.
const maxPendingReply = 1 << 20

// processInput parses and runs commands from the read buffer until it is
// exhausted. It returns true when it stopped early: the client blocked, or
// its pending replies passed maxPendingReply. Called with the engine lock.
func (c *Client) processInput() bool {
	s := c.srv
	c.lastMs = s.unitMs
	defer s.settleBatch()
	maxBulk := s.cfg.ProtoMaxBulkLen
	for c.flags&(flagCloseAfterReply|flagCloseASAP) == 0 {
		ok, err := c.in.next(c.authRequired(), maxBulk)
		if err != nil {
			var pe *protocolError
			if errors.As(err, &pe) {
				s.log.Debug().Int64("id", c.id).Str("addr", c.addr).Msg("Protocol error from client")
				c.Error("ERR " + pe.Error())
				c.flags |= flagCloseAfterReply
			}
			return false
		}
		if !ok {
			return false
		}
		c.argv = c.in.argv
		// Parsing reused the argument slices the slow log's note of the
		// previous command points to (slowlog.go).
		s.lastBatched.c = nil
		mark := len(c.buf)
		if s.tracking.clients > 0 {
			s.tracking.cur = c // invalidations for c wait for its reply
		}
		c.processCommand()
		c.argv = nil
		if c.flags&flagPostponed != 0 {
			// CLIENT PAUSE holds the command: parse it again when the
			// pause ends (pause.go).
			c.in.ppos = c.in.pcmd
			s.tracking.cur = nil
			return false
		}
		c.afterCommand(mark)
		if s.tracking.cur != nil || c.track != nil {
			s.trackingAfterCommand(c)
		}
		if c.flags&flagBlocked != 0 || len(c.buf) > maxPendingReply {
			return true
		}
	}
	return false
}

// pending reports whether the read buffer holds bytes not parsed yet.
func (p *parser) pending() bool { return p.ppos < p.rend }

// takeOutput moves replies written by units (Client.buf, lock-protected) to
// the reactor's pending output. Called with the engine lock.
func (c *Client) takeOutput() {
	if len(c.buf) == 0 {
		return
	}
	if c.outPos == len(c.out) {
		c.out, c.buf = c.buf, c.out[:0]
		c.outPos = 0
	} else {
		c.out = append(c.out, c.buf...)
		c.buf = c.buf[:0]
	}
	c.unsent.Store(int64(len(c.out) - c.outPos))
}

// OutputPending is the reply bytes the client has not received yet: those
// units wrote since the reactor last looked plus those waiting in the
// socket path. Called with the engine lock.
func (c *Client) OutputPending() int64 { return int64(len(c.buf)) + c.unsent.Load() }

// queryBufLimit is read by reactors outside the engine lock, so it is
// mirrored in an atomic whenever the directive changes.
func (s *Server) queryBufLimit() int64 { return s.qbufLimit.Load() }

// acceptLoop accepts connections and hands each socket to a reactor. Go's
// net package does the accepting (addresses, IPv6, EMFILE back-off); the
// accepted socket is then detached from Go's poller (a duplicate of its fd
// is kept, the original closed) so only our reactor polls it. Connections
// of a TLS listener go to serveTLS instead (tls.go).
func (s *Server) acceptLoop(ln net.Listener) {
	_, isTLS := ln.(*tlsListener)
	ul, isUnix := ln.(*unixListener)
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.closing.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			s.log.Warn().Err(err).Msg("Accepting client connection")
			time.Sleep(10 * time.Millisecond) // e.g. EMFILE: do not spin
			continue
		}
		switch {
		case isTLS:
			go s.serveTLS(nc)
		case isUnix:
			// Redis shows a unix socket client as "<path>:0" for both
			// addresses; it is local for protected mode.
			addr := unixClientAddr(ul.path)
			s.adopt(nc, addr, addr, flagUnixSocket)
		default:
			s.adopt(nc, nc.RemoteAddr().String(), nc.LocalAddr().String(), 0)
		}
	}
}

// netAddrStrLen is Redis's NET_ADDR_STR_LEN: a client's addr and laddr are
// formatted into a buffer of this size, NUL included, so a unix socket path
// longer than 74 bytes shows truncated in CLIENT LIST/INFO (and is matched
// that way by CLIENT KILL ADDR).
const netAddrStrLen = 46 + 32

// unixClientAddr is a unix socket client's "<path>:0", cut as Redis cuts it.
func unixClientAddr(path string) string {
	a := path + ":0"
	if len(a) > netAddrStrLen-1 {
		a = a[:netAddrStrLen-1]
	}
	return a
}

// adopt registers an accepted connection, refusing it past maxclients with
// Redis's error, or by protected mode (which spares unix socket clients).
func (s *Server) adopt(nc net.Conn, addr, laddr string, flags clientFlag) {
	s.mu.Lock()
	full := len(s.clients) >= s.cfg.MaxClients
	keepalive := s.cfg.TCPKeepAlive
	if full {
		s.stats.rejectedConns++
	}
	denied := !full && flags&flagUnixSocket == 0 && s.protectedModeDenies(addr)
	s.mu.Unlock()
	if denied {
		refuseProtected(nc)
		return
	}
	if full || s.closing.Load() {
		nc.SetWriteDeadline(time.Now().Add(time.Second))
		nc.Write([]byte("-ERR max number of clients reached\r\n"))
		nc.Close()
		return
	}
	setKeepAlive(nc, keepalive)
	fd, err := detachFD(nc)
	if err != nil {
		s.log.Warn().Err(err).Msg("Accepting client connection")
		return
	}
	s.register(fd, addr, laddr, flags)
}

// setKeepAlive applies tcp-keepalive (seconds; 0 = off) to a TCP socket
// as Redis's anetKeepAlive does: first probe after that many idle seconds,
// then every third of it (at least 1 s), the peer dropped after 3
// unanswered probes.
func setKeepAlive(nc net.Conn, seconds int) {
	if tc, ok := nc.(*net.TCPConn); ok && seconds > 0 {
		tc.SetKeepAliveConfig(net.KeepAliveConfig{
			Enable:   true,
			Idle:     time.Duration(seconds) * time.Second,
			Interval: time.Duration(max(seconds/3, 1)) * time.Second,
			Count:    3,
		})
	}
}

// register creates the client of a non-blocking socket fd and hands it to
// a reactor. It reports false (and closes fd) when the server is closing.
func (s *Server) register(fd int, addr, laddr string, flags clientFlag) bool {
	now := time.Now().UnixMilli()
	c := &Client{
		ReplyWriter: ReplyWriter{proto: 2, buf: make([]byte, 0, 1024)},
		srv:         s,
		fd:          fd,
		addr:        addr,
		laddr:       laddr,
		flags:       flags,
		ctimeMs:     now,
		lastMs:      now,
	}
	c.in.bulk = -1
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		syscall.Close(fd)
		return false
	}
	c.id = s.nextID.Add(1)
	c.db = s.ks.DB(0)
	c.user, c.authenticated = s.acl.def, s.acl.defaultAuthenticated()
	s.clients[c.id] = c
	s.stats.connections++
	c.r = s.reactors[int(s.nextReactor.Add(1))%len(s.reactors)]
	c.r.inbox = append(c.r.inbox, c)
	s.mu.Unlock()
	c.r.wakeup()
	return true
}

// detachFD takes the socket out of Go's poller: it duplicates the fd (the
// duplicate shares the non-blocking file status) and closes the original.
func detachFD(nc net.Conn) (int, error) {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		nc.Close()
		return -1, errors.New("connection has no file descriptor")
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		nc.Close()
		return -1, err
	}
	fd, derr := -1, error(nil)
	if err := rc.Control(func(f uintptr) { fd, derr = syscall.Dup(int(f)) }); err != nil {
		derr = err
	}
	nc.Close()
	if derr != nil {
		return -1, derr
	}
	syscall.CloseOnExec(fd)
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return -1, err
	}
	return fd, nil
}

// removeClient unregisters a closed connection. Called with the engine lock.
func (s *Server) removeClient(c *Client) {
	c.unwatchAllKeys()
	c.pubsubUnsubscribeAll()
	c.stopMonitor()
	s.disableTracking(c)
	s.removePostponed(c)
	s.forgetClientMemory(c)
	delete(s.clients, c.id)
	s.notifyClosed(c)
}

// kill closes a client from any unit (CLIENT KILL, idle timeout): its
// reactor drops it without flushing more. Called with the engine lock.
func (c *Client) kill() {
	c.flags |= flagCloseASAP
	c.srv.wake(c)
}

// reactorCounter hands connections to reactors round-robin.
type reactorCounter = atomic.Int64
