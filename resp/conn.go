package resp

import (
	"errors"
	"net"
	"syscall"
	"time"
)

// maxPendingReply bounds the reply bytes buffered while holding the engine
// lock: past it, the lock is released and the bytes are written before the
// rest of a pipeline runs.
const maxPendingReply = 1 << 20

// serveConn is the goroutine of one connection: read, run what was read as
// units under the engine lock, write the replies, repeat.
func (s *Server) serveConn(nc net.Conn) {
	defer s.conns.Done()
	c := s.newClient(nc)
	if c == nil {
		return
	}
	defer s.freeClient(c)
	for {
		if err := c.in.prepareRead(s.queryBufLimit()); err != nil {
			s.log.Warn().Int64("id", c.id).Str("addr", c.addr).Msg("Closing client that reached max query buffer length")
			return
		}
		n, err := nc.Read(c.in.rbuf[c.in.rend:])
		if n > 0 {
			c.in.rend += n
			s.stats.netInput.Add(int64(n))
			for more := true; more; {
				s.lock()
				more = c.processInput()
				s.mu.Unlock()
				if !c.flush() {
					return
				}
				if c.flags&flagBlocked != 0 {
					if !c.waitUnblocked() {
						return
					}
					if !c.flush() {
						return
					}
					more = true // run what was pipelined behind the blocking command
				}
			}
			if c.flags&(flagCloseAfterReply|flagCloseASAP) != 0 {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// processInput parses and runs commands from the read buffer until it is
// exhausted. It returns true when it stopped early to let pending replies
// be written outside the lock. Called with the engine lock held.
func (c *Client) processInput() bool {
	s := c.srv
	c.lastMs = s.unitStart.UnixMilli()
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
		c.processCommand()
		c.argv = nil
		if c.flags&flagBlocked != 0 || len(c.buf) > maxPendingReply {
			return true
		}
	}
	return false
}

// flush writes buffered replies to the socket. It reports false when the
// connection is unusable.
func (c *Client) flush() bool {
	if c.flags&flagCloseASAP != 0 {
		return false
	}
	if len(c.buf) == 0 {
		return true
	}
	n, err := c.conn.Write(c.buf)
	c.srv.stats.netOutput.Add(int64(n))
	if cap(c.buf) > 64*1024 {
		c.buf = make([]byte, 0, 16*1024)
	} else {
		c.buf = c.buf[:0]
	}
	return err == nil
}

// queryBufLimit is read by connection goroutines outside the engine lock,
// so it is mirrored in an atomic whenever the directive changes.
func (s *Server) queryBufLimit() int64 { return s.qbufLimit.Load() }

// newClient registers a connection, refusing it past maxclients with
// Redis's error.
func (s *Server) newClient(nc net.Conn) *Client {
	now := time.Now().UnixMilli()
	c := &Client{
		ReplyWriter: ReplyWriter{proto: 2, buf: make([]byte, 0, 1024)},
		srv:         s,
		conn:        nc,
		addr:        nc.RemoteAddr().String(),
		laddr:       nc.LocalAddr().String(),
		fd:          connFD(nc),
		user:        "default",
		ctimeMs:     now,
		lastMs:      now,
	}
	c.in.bulk = -1
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		nc.Close()
		return nil
	}
	if len(s.clients) >= s.cfg.MaxClients {
		s.stats.rejectedConns++
		s.mu.Unlock()
		nc.Write([]byte("-ERR max number of clients reached\r\n"))
		nc.Close()
		return nil
	}
	c.id = s.nextID.Add(1)
	c.db = s.ks.DB(0)
	c.authenticated = s.cfg.requirePass == ""
	s.clients[c.id] = c
	s.stats.connections++
	if tc, ok := nc.(*net.TCPConn); ok && s.cfg.TCPKeepAlive > 0 {
		tc.SetKeepAlive(true)
		tc.SetKeepAlivePeriod(time.Duration(s.cfg.TCPKeepAlive) * time.Second)
	}
	s.mu.Unlock()
	return c
}

// freeClient unregisters and closes a connection.
func (s *Server) freeClient(c *Client) {
	s.mu.Lock()
	delete(s.clients, c.id)
	s.mu.Unlock()
	c.conn.Close()
}

// connFD returns the socket's file descriptor for CLIENT LIST, or -1.
func connFD(nc net.Conn) int {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return -1
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return -1
	}
	fd := -1
	_ = rc.Control(func(f uintptr) { fd = int(f) })
	return fd
}
