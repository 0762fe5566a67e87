package resp

import (
	"slices"
	"time"
)

// Client memory and client eviction (maxmemory-clients), as Redis 7.0.
//
// What a client takes is its own budget, never the keyspace's: it shows in
// INFO's mem_clients_normal (and so in used_memory), in
// mem_not_counted_for_evict, and in CLIENT LIST's tot-mem, but it is not
// compared with maxmemory, so a subscriber that stops reading can never get
// a key evicted (evict.go). Two limits bound it instead:
// client-output-buffer-limit closes one client whose output piles up
// (pubsub.go, monitor.go), and maxmemory-clients closes the biggest clients
// once all of them together take more than the limit (a size, or a
// percentage of maxmemory; at least 128 KiB), as Redis's evictClients does.
// CLIENT NO-EVICT exempts a client; evicted clients count in INFO's
// evicted_clients and are logged with their CLIENT LIST line.
//
// A client's memory (memoryUsage) is what Redis's getClientMemoryUsage
// counts, in Celerity's terms: the reply bytes not yet received (written by
// units, or waiting for the socket), the read buffer, the queued MULTI
// commands, the subscriptions and watched keys, and a fixed part for the
// client itself. The server keeps the sum up to date incrementally: a
// client's reactor refreshes its share after each batch it served (the
// only goroutine that may read the client's read buffer), PUBLISH after
// each message it queues, and the cron for every client; so checking the
// limit costs one comparison. Shares go stale when a reactor writes output
// out without the lock, so before evicting anyone every share is measured
// again.

// clientBaseMemory is the fixed part of a client: its structures and the
// reply buffer it starts with (Redis 7.0 reports about 22 KB for an idle
// client with its 20 KB query buffer; the read buffer counts separately
// here).
const clientBaseMemory = 2048

// Per-entry costs of a client's subscriptions and watched keys (dict and
// list entries in Redis).
const (
	clientSubMemory   = 32
	clientWatchMemory = 48
)

// clientEvictionMin is the smallest effective maxmemory-clients, so a
// misconfiguration cannot cut every client off.
const clientEvictionMin = 128 << 10

// clientMemoryState is the server's side of client memory (Server.cmem).
type clientMemoryState struct {
	total      int64 // sum of every client's Client.cmem.mem
	evicted    int64 // INFO evicted_clients
	overWarned bool  // "Over client maxmemory" logged since the last time under
}

// clientMem is a client's side: its last measured share and the capacity
// of its read buffer as its reactor last saw it.
type clientMem struct {
	mem     int64
	readBuf int64
}

// memoryUsage measures what c takes. Engine lock. A client being closed
// takes nothing any more: its memory is about to be freed.
func (c *Client) memoryUsage() int64 {
	if c.flags&flagCloseASAP != 0 {
		return 0
	}
	n := clientBaseMemory + int64(cap(c.buf)) + c.unsent.Load() + c.cmem.readBuf + c.mstate.bytes
	if p := c.pubsub; p != nil {
		n += clientSubMemory * int64(len(p.channels)+len(p.patIndex)+len(p.shard))
	}
	return n + clientWatchMemory*int64(len(c.watched))
}

// trackClientMemory refreshes c's share of the total. Engine lock.
func (s *Server) trackClientMemory(c *Client) {
	m := c.memoryUsage()
	s.cmem.total += m - c.cmem.mem
	c.cmem.mem = m
}

// servedClientMemory is trackClientMemory from c's own reactor, which may
// also look at c's read buffer. Engine lock.
func (s *Server) servedClientMemory(c *Client) {
	c.cmem.readBuf = int64(cap(c.in.rbuf))
	s.trackClientMemory(c)
}

// forgetClientMemory removes a closed client's share. Engine lock.
func (s *Server) forgetClientMemory(c *Client) {
	s.cmem.total -= c.cmem.mem
	c.cmem.mem = 0
}

// clientsMemory measures every client again and returns the total (INFO,
// MEMORY STATS, before evicting). Engine lock.
func (s *Server) clientsMemory() int64 {
	for _, c := range s.clients {
		s.trackClientMemory(c)
	}
	return s.cmem.total
}

// clientEvictionLimit is getClientEvictionLimit: maxmemory-clients as a
// size or as a percentage of maxmemory (none without maxmemory), at least
// 128 KiB; 0 when client eviction is off.
func (s *Server) clientEvictionLimit() int64 {
	v := s.cfg.MaxMemoryClients
	switch {
	case v < 0 && s.cfg.MaxMemory > 0:
		v = int64(float64(s.cfg.MaxMemory) * float64(-v) / 100)
	case v <= 0:
		return 0
	}
	return max(v, clientEvictionMin)
}

// evictClients closes the biggest evictable clients until the clients'
// memory is under maxmemory-clients (Redis's evictClients, which takes
// clients from its largest memory bucket first). Engine lock.
func (s *Server) evictClients() {
	limit := s.clientEvictionLimit()
	if limit == 0 || s.cmem.total < limit {
		s.cmem.overWarned = false
		return
	}
	if s.clientsMemory() < limit {
		s.cmem.overWarned = false
		return
	}
	var cands []*Client
	for _, c := range s.clients {
		if c.flags&(flagNoEvict|flagCloseASAP) == 0 && c.cmem.mem > 0 {
			cands = append(cands, c)
		}
	}
	slices.SortFunc(cands, func(a, b *Client) int {
		switch {
		case a.cmem.mem > b.cmem.mem:
			return -1
		case a.cmem.mem < b.cmem.mem:
			return 1
		}
		return int(a.id - b.id)
	})
	now := time.Now().UnixMilli()
	for _, c := range cands {
		if s.cmem.total < limit {
			return
		}
		// The line shows the client as it was, as Redis logs it (the
		// command name, never arguments).
		s.log.Info().Msg("Evicting client: " + c.infoLine(now))
		c.kill()
		s.forgetClientMemory(c)
		s.cmem.evicted++
	}
	if s.cmem.total >= limit && !s.cmem.overWarned {
		s.cmem.overWarned = true
		s.log.Warn().Msg("Over client maxmemory after evicting all evictable clients")
	}
}

// clientMemoryCron measures every client again and applies
// maxmemory-clients (a lowered limit, output written meanwhile). Engine
// lock.
func (s *Server) clientMemoryCron() {
	s.clientsMemory()
	s.evictClients()
}

// trackPeakMemory raises used_memory_peak to the memory in use now, from
// the running totals (the cron's cheap version of what INFO computes).
// Engine lock.
func (s *Server) trackPeakMemory() {
	_, scripts := s.scriptCacheStats()
	s.stats.peakMemory = max(s.stats.peakMemory, usedMemoryStartup+s.ks.Memory()+s.cmem.total+scripts)
}
