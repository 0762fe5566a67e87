//go:build linux

package resp

import (
	"container/heap"
	"os"
	"sync/atomic"
	"syscall"
	"time"
)

// A reactor is one goroutine serving a set of connections with its own
// epoll instance, the way Redis's event loop does: wait for readiness, read
// once from each ready socket (level-triggered, so there is no extra read
// that only returns EAGAIN), take the engine lock once to run the commands
// of every ready connection, release it, then write each connection's
// replies. Compared with a goroutine per connection this halves the read
// system calls, batches the engine lock across clients, and serves ready
// clients in the order the kernel reports them, which keeps tail latency
// close to Redis's.
//
// Ownership. The reactor goroutine alone touches a client's fd, read
// buffer, parser and pending output (out, outPos). The reply buffer
// (Client.buf, written by handlers) is touched only under the engine lock:
// any unit may append to any client's buffer (serving a blocked client,
// pub/sub messages), and the owner moves those bytes to its pending output
// under the lock before writing them outside it. A unit that changes
// another client's state calls wake(c) to get the owner to look at it.
type reactor struct {
	s     *Server
	epfd  int
	wakeR int // pipe: other goroutines write a byte to interrupt epoll_wait
	wakeW int

	clients map[int]*Client // by fd; owner-only
	events  []syscall.EpollEvent
	timers  timerHeap // deadlines of clients blocked with a timeout; owner-only
	ready   []*Client // clients to look at in this iteration; owner-only
	again   []*Client // clients whose pipeline paused on maxPendingReply
	stamp   uint64    // iteration counter, to list a client once per iteration

	// Under the engine lock.
	inbox []*Client // connections handed over by the acceptor
	woken []*Client // clients whose state changed in another goroutine's unit

	wakeSent atomic.Bool
	done     chan struct{}
}

func newReactor(s *Server) (*reactor, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_NONBLOCK|syscall.O_CLOEXEC); err != nil {
		syscall.Close(epfd)
		return nil, os.NewSyscallError("pipe2", err)
	}
	r := &reactor{s: s, epfd: epfd, wakeR: p[0], wakeW: p[1], clients: map[int]*Client{},
		events: make([]syscall.EpollEvent, 256), done: make(chan struct{})}
	if err := r.ctl(syscall.EPOLL_CTL_ADD, r.wakeR, syscall.EPOLLIN); err != nil {
		r.closeFDs()
		return nil, err
	}
	return r, nil
}

func (r *reactor) ctl(op, fd int, events uint32) error {
	ev := syscall.EpollEvent{Events: events, Fd: int32(fd)}
	return os.NewSyscallError("epoll_ctl", syscall.EpollCtl(r.epfd, op, fd, &ev))
}

func (r *reactor) closeFDs() {
	syscall.Close(r.epfd)
	syscall.Close(r.wakeR)
	syscall.Close(r.wakeW)
}

// wakeup interrupts the reactor's epoll_wait. Safe from any goroutine.
func (r *reactor) wakeup() {
	if r.wakeSent.CompareAndSwap(false, true) {
		syscall.Write(r.wakeW, []byte{1})
	}
}

// wake asks c's reactor to look at c: flush output another unit wrote,
// resume after being unblocked, or close it. Called with the engine lock.
func (s *Server) wake(c *Client) {
	if c.r == nil || c.woken {
		return
	}
	c.woken = true
	c.r.woken = append(c.r.woken, c)
	if s.curReactor != c.r {
		c.r.wakeup()
	}
}

// nextTimeout is epoll_wait's timeout in ms: until the nearest blocking
// deadline, or forever.
func (r *reactor) nextTimeout() int {
	for r.timers.Len() > 0 {
		t := r.timers[0]
		if t.c.bstate == nil || t.c.bstate.deadline != t.at {
			heap.Pop(&r.timers) // stale: served, unblocked or re-blocked
			continue
		}
		ms := time.Until(t.at).Milliseconds() + 1
		if ms < 0 {
			return 0
		}
		return int(ms)
	}
	return -1
}

func (r *reactor) run() {
	defer close(r.done)
	for !r.iterate(-1, nil) {
	}
}

// iterate runs one loop iteration: wait (at most timeout ms, -1 for the
// nearest blocking deadline), read, run, write. It reports true once the
// server is shutting down.
//
// busy is set when a long script calls back into its own reactor
// (scriptBusyTick): the iteration then serves the other clients, whose
// commands get -BUSY unless flagged allow_busy, and leaves busy (the
// script's client, mid-command) alone: its read buffer holds the script's
// arguments and must not move.
func (r *reactor) iterate(timeout int, busy *Client) bool {
	s := r.s
	var ready []*Client
	if busy == nil {
		ready = r.ready[:0]
	}
	if timeout < 0 {
		timeout = r.nextTimeout()
	}
	if len(r.again) > 0 && busy == nil {
		timeout = 0
	}
	events := r.events
	if busy != nil {
		events = make([]syscall.EpollEvent, 64)
	}
	n, err := syscall.EpollWait(r.epfd, events, timeout)
	if err != nil && err != syscall.EINTR {
		s.log.Warn().Err(err).Msg("epoll_wait")
		return false
	}
	r.stamp++
	stamp := r.stamp
	mark := func(c *Client) {
		if c != busy && c.stamp != stamp {
			c.stamp = stamp
			ready = append(ready, c)
		}
	}
	if busy == nil {
		for _, c := range r.again {
			mark(c)
		}
		r.again = r.again[:0]
	} else {
		// The outer iteration is stopped mid-batch: requests it already
		// read (level-triggered epoll will not report those sockets again)
		// must be answered, and replies it produced but has not written
		// yet must be written, or their clients wait on the script.
		for _, c := range r.clients {
			if c.in.pending() || c.outPos < len(c.out) {
				mark(c)
			}
		}
	}
	for i := 0; i < n; i++ {
		ev := events[i]
		fd := int(ev.Fd)
		if fd == r.wakeR {
			var buf [64]byte
			for {
				if m, _ := syscall.Read(r.wakeR, buf[:]); m <= 0 {
					break
				}
			}
			continue
		}
		c := r.clients[fd]
		if c == nil || c == busy {
			continue
		}
		if ev.Events&(syscall.EPOLLIN|syscall.EPOLLHUP|syscall.EPOLLERR) != 0 {
			r.readFrom(c)
		}
		mark(c)
	}
	if s.closing.Load() && busy == nil {
		r.shutdown()
		return true
	}

	s.lock()
	s.curReactor = r
	r.wakeSent.Store(false)
	r.expireTimers(mark)
	var again []*Client
	for i := 0; i < len(ready) || len(r.woken) > 0 || s.tracking.bcastOut; i++ {
		if i == len(ready) {
			if len(r.woken) == 0 {
				// Redis's beforeSleep: the keys modified under BCAST
				// prefixes go out once per iteration (tracking.go).
				s.trackingBroadcast()
			}
			woken := r.woken
			r.woken = nil
			for _, c := range woken {
				c.woken = false
				if c == busy {
					r.woken = append(r.woken, c) // for the outer iteration
					c.woken = true
					continue
				}
				// Listed again even if this iteration already handled it:
				// a client processed earlier in the loop (say, one that
				// just blocked) and served by a later client's push has a
				// new reply to take. Handling a client twice is harmless.
				c.stamp = stamp
				ready = append(ready, c)
			}
			if i == len(ready) {
				break
			}
		}
		c := ready[i]
		if c.flags&flagBlocked == 0 && c.bstate != nil {
			// Served (or unblocked) since we last looked: keep the undo
			// until the reply is written, then run what was pipelined
			// behind the blocking command.
			c.pendingUndo = c.bstate.undo
			c.bstate = nil
		}
		if c.dead || c.flags&flagCloseASAP != 0 {
			continue
		}
		if c.flags&(flagBlocked|flagCloseAfterReply) == 0 && c.in.pending() {
			if c.processInput() {
				if c.flags&flagBlocked == 0 {
					again = append(again, c)
				} else if st := c.bstate; st != nil && !st.deadline.IsZero() {
					heap.Push(&r.timers, timerEntry{at: st.deadline, c: c})
				}
			}
		}
		c.takeOutput()
		s.servedClientMemory(c)
	}
	// Clients over maxmemory-clients are evicted once their replies are
	// counted, before they are written, as Redis's beforeSleep does.
	s.evictClients()
	// New connections are taken only now, after the commands ran: a long
	// script in one of them serves the reactor from inside (busy.go), and
	// that nested iteration must be the one to register connections that
	// arrived before the script, or they would wait for it unanswered.
	inbox := r.inbox
	r.inbox = nil
	s.curReactor = nil
	a, off := s.aof, s.aofOff
	s.mu.Unlock()
	r.again = append(r.again, again...)
	if a != nil && off > a.Written() {
		// No reply leaves before the writes it may depend on are in the
		// AOF (persist.go). One wait covers the whole batch.
		s.waitPersisted(a, off)
	}

	for _, c := range inbox {
		r.clients[c.fd] = c
		if err := r.ctl(syscall.EPOLL_CTL_ADD, c.fd, syscall.EPOLLIN|syscall.EPOLLRDHUP); err != nil {
			c.dead = true
		}
		mark(c)
		if c.in.pending() || len(c.buf) > 0 {
			r.again = append(r.again, c)
		}
	}
	var dead []*Client
	for _, c := range ready {
		if !c.dead && c.flags&flagCloseASAP == 0 {
			r.flush(c)
		}
		if c.dead || c.flags&flagCloseASAP != 0 ||
			c.flags&flagCloseAfterReply != 0 && c.outPos == len(c.out) {
			dead = append(dead, c)
		}
	}
	if len(dead) > 0 {
		r.release(dead)
	}
	if busy == nil {
		r.ready = ready
	}
	return false
}

// readFrom reads what the socket has (one read: level-triggered epoll calls
// us again if more is waiting).
func (r *reactor) readFrom(c *Client) {
	s := r.s
	if c.dead {
		return
	}
	if err := c.in.prepareRead(s.queryBufLimit()); err != nil {
		s.log.Warn().Int64("id", c.id).Str("addr", c.addr).Msg("Closing client that reached max query buffer length")
		c.dead = true
		return
	}
	n, err := syscall.Read(c.fd, c.in.rbuf[c.in.rend:])
	switch {
	case n > 0:
		c.in.rend += n
		s.stats.netInput.Add(int64(n))
		s.stats.reads.Add(1)
	case n == 0:
		c.dead = true // orderly shutdown by the peer
	case err != syscall.EAGAIN && err != syscall.EINTR:
		c.dead = true
	}
}

// flush writes the pending output. A partial write arms EPOLLOUT; a failed
// one marks the client dead. When everything is written, a served pop's
// undo is dropped: the element reached the socket.
func (r *reactor) flush(c *Client) {
	for c.outPos < len(c.out) {
		n, err := syscall.Write(c.fd, c.out[c.outPos:])
		if n > 0 {
			c.outPos += n
			r.s.stats.netOutput.Add(int64(n))
			continue
		}
		if err == syscall.EINTR {
			continue
		}
		if err == syscall.EAGAIN {
			c.unsent.Store(int64(len(c.out) - c.outPos))
			if !c.wantWrite {
				c.wantWrite = true
				r.ctl(syscall.EPOLL_CTL_MOD, c.fd, syscall.EPOLLIN|syscall.EPOLLRDHUP|syscall.EPOLLOUT)
			}
			return
		}
		c.dead = true
		return
	}
	r.s.stats.writes.Add(1)
	c.unsent.Store(0)
	c.pendingUndo = nil
	if cap(c.out) > 64*1024 {
		c.out = nil
	} else {
		c.out = c.out[:0]
	}
	c.outPos = 0
	if c.wantWrite {
		c.wantWrite = false
		r.ctl(syscall.EPOLL_CTL_MOD, c.fd, syscall.EPOLLIN|syscall.EPOLLRDHUP)
	}
}

// release closes dead connections: under the lock it unregisters them,
// unblocks them and reverses a served pop whose reply never reached the
// socket; then it closes their sockets.
func (r *reactor) release(dead []*Client) {
	s := r.s
	live := dead[:0]
	for _, c := range dead {
		if !c.released {
			c.released = true
			live = append(live, c)
		}
	}
	dead = live
	s.lock()
	for _, c := range dead {
		if c.flags&flagBlocked != 0 {
			c.unblock()
		} else if c.bstate != nil {
			// Served since the loop last looked at it (a push in this
			// very iteration, after its death was noticed): the reply
			// never left its buffer.
			c.pendingUndo = c.bstate.undo
			c.bstate = nil
		}
		// A served pop whose reply was not written out in full (flush
		// drops the undo once it was) goes back where it came from.
		if c.pendingUndo != nil {
			c.pendingUndo()
			s.handleClientsBlockedOnKeys()
		}
		c.pendingUndo = nil
		s.removeClient(c)
	}
	s.mu.Unlock()
	for _, c := range dead {
		delete(r.clients, c.fd)
		syscall.EpollCtl(r.epfd, syscall.EPOLL_CTL_DEL, c.fd, nil)
		syscall.Close(c.fd)
	}
}

// expireTimers answers clients whose blocking timeout passed. Called with
// the engine lock held.
func (r *reactor) expireTimers(mark func(*Client)) {
	now := time.Now()
	for r.timers.Len() > 0 && !r.timers[0].at.After(now) {
		t := heap.Pop(&r.timers).(timerEntry)
		c := t.c
		if c.flags&flagBlocked == 0 || c.bstate == nil || c.bstate.deadline != t.at {
			continue
		}
		c.unblock()
		c.NullArray()
		mark(c)
	}
}

// shutdown closes every connection of the reactor.
func (r *reactor) shutdown() {
	dead := make([]*Client, 0, len(r.clients))
	for _, c := range r.clients {
		dead = append(dead, c)
	}
	s := r.s
	s.lock()
	dead = append(dead, r.inbox...)
	r.inbox = nil
	s.mu.Unlock()
	r.release(dead)
	r.closeFDs()
}

// timerEntry is a blocked client's deadline. Entries are removed lazily:
// one whose client is no longer blocked with that deadline is skipped.
type timerEntry struct {
	at time.Time
	c  *Client
}

type timerHeap []timerEntry

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h timerHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)        { *h = append(*h, x.(timerEntry)) }
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	*h = old[:len(old)-1]
	return t
}
