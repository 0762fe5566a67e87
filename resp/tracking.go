package resp

import (
	"math"
	"sort"
	"strconv"
	"strings"
)

// Client-side caching (Redis 7.0's tracking.c): CLIENT TRACKING, CACHING,
// GETREDIR and TRACKINGINFO, and the invalidation messages.
//
// Default mode: the keys of every read-only command a tracking client runs
// are remembered in a table key -> client ids (one table for all
// databases, as Redis keeps it); when such a key is modified, expires, is
// evicted or its database flushed, each client gets one invalidation and
// the key leaves the table. OPTIN/OPTOUT make CLIENT CACHING yes/no decide
// for the next command (or transaction). BCAST mode tracks key prefixes
// instead: the keys modified under a prefix are collected and sent to its
// clients once per reactor iteration (Redis's beforeSleep).
//
// An invalidation goes to the client as a RESP3 push ["invalidate",
// [key]], or to the REDIRECT client, which in RESP2 receives it as a
// message on __redis__:invalidate if it subscribed to it. An invalidation
// the running client caused for itself is sent after the command's reply
// (after EXEC's for a transaction), as Redis 7.0 does. NOLOOP skips
// invalidations a client caused itself.
//
// tracking-table-max-keys caps the table (default a million keys, 0 = no
// cap) as Redis 7.0's trackingLimitUsedSlots does: before each command
// (in processCommand, after the OOM check) and on each cron tick, while
// some client has tracking on, keys are taken from the table at random
// and invalidated as if modified, until it is back under the cap. One call
// evicts at most 100 keys times the number of calls in a row that ended
// still over the cap, so a cap lowered far below the table's size is
// reached over a few ticks, without a long stall. An eviction inside
// processCommand is not deferred after the reply (no command is running
// yet), and a NOLOOP client does not hear of the evictions its own
// commands trigger; the cron's reach everyone.

// clientTracking is a tracking client's state; nil on a client that never
// enabled tracking.
type clientTracking struct {
	on, bcast, optin, optout, noloop bool
	// caching is CLIENT CACHING's answer for the next command: 0 none,
	// 'y' or 'n'.
	caching      byte
	brokenRedir  bool
	redirect     int64
	prefixes     []string // BCAST prefixes, sorted
	pendingFlush bool     // a flush's null invalidation waits for the reply
}

// bcastPrefix is one BCAST prefix: its clients and the keys modified
// under it since the last broadcast, each with the client that modified
// it last (nil: the server), for NOLOOP.
type bcastPrefix struct {
	clients map[*Client]bool
	keys    map[string]*Client
}

// trackingState is the server's side.
type trackingState struct {
	clients  int                       // clients with tracking on (INFO tracking_clients)
	table    map[string]map[int64]bool // key -> ids of the clients that may cache it
	items    int64                     // ids in table (INFO tracking_total_items)
	prefixes map[string]*bcastPrefix   // BCAST prefixes (INFO tracking_total_prefixes)
	bcastOut bool                      // some prefix has keys to broadcast
	cur      *Client                   // the client whose command is running
	pending  []string                  // invalidations for cur, sent after its reply ("" a flush)
	// overLimit counts the trackingLimitUsedSlots calls in a row that
	// left the table over tracking-table-max-keys (Redis's
	// timeout_counter); the next call's effort grows with it.
	overLimit int
}

// TrackingConfig holds the tracking directive. It is embedded in Config.
type TrackingConfig struct {
	// TrackingTableMaxKeys is tracking-table-max-keys: the most keys the
	// tracking table remembers before random ones are invalidated; 0 = no
	// limit.
	TrackingTableMaxKeys int
}

func defaultTrackingConfig() TrackingConfig { return TrackingConfig{TrackingTableMaxKeys: 1000000} }

// trackingParams declares the directives of TrackingConfig.
func trackingParams() []*configParam {
	return []*configParam{
		intParam("tracking-table-max-keys", 0, 0, math.MaxInt64, func(c *Config) *int { return &c.TrackingTableMaxKeys }),
	}
}

// active reports whether the hooks have anything to do: a client tracks
// keys, or the table still holds ids of clients that stopped (dropped as
// their keys are modified, as in Redis).
func (t *trackingState) active() bool { return t.clients > 0 || len(t.table) > 0 }

// enableTracking turns tracking on for c with the given options; the
// arguments were checked by clientTrackingCommand.
func (s *Server) enableTracking(c *Client, redirect int64, opts clientTracking, prefixes []string) {
	t := &s.tracking
	if c.track == nil {
		c.track = &clientTracking{}
	}
	ct := c.track
	if !ct.on {
		t.clients++
	}
	ct.on, ct.brokenRedir = true, false
	ct.bcast, ct.optin, ct.optout, ct.noloop = false, false, false, false
	ct.redirect = redirect
	if t.table == nil {
		t.table = map[string]map[int64]bool{}
		t.prefixes = map[string]*bcastPrefix{}
	}
	if opts.bcast {
		ct.bcast = true
		if len(prefixes) == 0 {
			prefixes = []string{""}
		}
		for _, p := range prefixes {
			bp := t.prefixes[p]
			if bp == nil {
				bp = &bcastPrefix{clients: map[*Client]bool{}, keys: map[string]*Client{}}
				t.prefixes[p] = bp
			}
			if !bp.clients[c] {
				bp.clients[c] = true
				ct.prefixes = append(ct.prefixes, p)
			}
		}
		sort.Strings(ct.prefixes)
	}
	ct.optin, ct.optout, ct.noloop = opts.optin, opts.optout, opts.noloop
}

// disableTracking turns tracking off for c (CLIENT TRACKING off, RESET, a
// closed connection). Its ids stay in the table and are dropped lazily.
func (s *Server) disableTracking(c *Client) {
	ct := c.track
	if ct == nil || !ct.on {
		return
	}
	t := &s.tracking
	for _, p := range ct.prefixes {
		if bp := t.prefixes[p]; bp != nil {
			delete(bp.clients, c)
			if len(bp.clients) == 0 {
				delete(t.prefixes, p)
			}
		}
	}
	t.clients--
	c.track = nil
	if t.cur == c {
		t.pending = t.pending[:0]
	}
}

// trackingAfterCall remembers the keys of a read-only command for the
// client that ran it (a script's caller for the commands of a script).
// Called by call() when tracking is enabled.
func (s *Server) trackingAfterCall(c *Client, cmd *Command) {
	if cmd.Flags&Readonly == 0 || cmd.Flags&Pubsub != 0 || cmd.Name == "eval_ro" || cmd.Name == "evalsha_ro" {
		return
	}
	caller := c
	if c.flags&flagScript != 0 && s.scripts != nil && s.scripts.run.caller != nil {
		caller = s.scripts.run.caller
	}
	ct := caller.track
	if ct == nil || !ct.on || ct.bcast {
		return
	}
	if ct.optin && ct.caching != 'y' || ct.optout && ct.caching == 'n' {
		return
	}
	t := &s.tracking
	for _, i := range cmd.keyIndexes(c.argv) {
		key := string(c.argv[i])
		ids := t.table[key]
		if ids == nil {
			ids = map[int64]bool{}
			t.table[key] = ids
		}
		if !ids[caller.id] {
			ids[caller.id] = true
			t.items++
		}
	}
}

// trackingInvalidateKey handles a modified key: by is the client that
// modified it, nil for the server (expiry, eviction).
func (s *Server) trackingInvalidateKey(by *Client, key string) {
	t := &s.tracking
	for p, bp := range t.prefixes {
		if strings.HasPrefix(key, p) {
			bp.keys[key] = by
			t.bcastOut = true
		}
	}
	s.invalidateTrackedKey(key, true)
}

// invalidateTrackedKey removes key from the table and tells the clients
// that may cache it. executing says whether t.cur is running a command:
// then its own invalidation waits for its reply; before the command runs
// (trackingLimitUsedSlots in processCommand) it is sent at once. A NOLOOP
// client is never told about t.cur's keys.
func (s *Server) invalidateTrackedKey(key string, executing bool) {
	t := &s.tracking
	ids, ok := t.table[key]
	if !ok {
		return
	}
	delete(t.table, key)
	t.items -= int64(len(ids))
	for _, id := range sortedIDs(ids) {
		target := s.clients[id]
		if target == nil || target.track == nil || !target.track.on || target.track.bcast {
			continue
		}
		if target.track.noloop && target == t.cur {
			continue
		}
		if target == t.cur && executing {
			t.pending = append(t.pending, key)
			continue
		}
		s.sendTrackingKeys(target, []string{key}, false)
	}
}

// trackingLimitUsedSlots invalidates random keys while the table holds
// more than tracking-table-max-keys, at most 100 × (overLimit+1) of them
// per call (Redis's function of that name). Go's map iteration starts at
// a random place, which stands in for Redis's random walk of its radix
// tree. Called with the engine lock, while some client has tracking on.
func (s *Server) trackingLimitUsedSlots() {
	t := &s.tracking
	limit := s.cfg.TrackingTableMaxKeys
	if limit == 0 {
		return
	}
	if len(t.table) <= limit {
		t.overLimit = 0
		return
	}
	effort := 100 * (t.overLimit + 1)
	for key := range t.table {
		if effort == 0 {
			break
		}
		effort--
		s.invalidateTrackedKey(key, false)
		if len(t.table) <= limit {
			t.overLimit = 0
			return
		}
	}
	t.overLimit++
}

// sortedIDs lists a set of client ids in order (Redis walks its radix
// tree of ids in order, so clients are told in the order they connected).
func sortedIDs(ids map[int64]bool) []int64 {
	out := make([]int64, 0, len(ids))
	for id := range ids {
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// trackingFlush handles FLUSHDB/FLUSHALL: every tracking client is told
// that all keys are invalid (a null), and the table is emptied.
func (s *Server) trackingFlush() {
	t := &s.tracking
	for _, c := range s.sortedClients() {
		if c.track == nil || !c.track.on {
			continue
		}
		if c == t.cur {
			c.track.pendingFlush = true
			t.pending = append(t.pending, "")
			continue
		}
		s.sendTrackingKeys(c, nil, true)
	}
	t.table = map[string]map[int64]bool{}
	t.items = 0
}

// trackingAfterCommand ends a client's command as Redis's resetClient and
// call() do for tracking: invalidations it caused for itself go out after
// its reply, and CLIENT CACHING's answer lasts for one command (a whole
// transaction), CLIENT's own subcommands excepted.
func (s *Server) trackingAfterCommand(c *Client) {
	t := &s.tracking
	if len(t.pending) > 0 && c.track != nil {
		for _, key := range t.pending {
			if key == "" && c.track.pendingFlush {
				s.sendTrackingKeys(c, nil, true)
				continue
			}
			s.sendTrackingKeys(c, []string{key}, false)
		}
		c.track.pendingFlush = false
	}
	t.pending = t.pending[:0]
	t.cur = nil
	if c.track != nil && c.track.caching != 0 && c.flags&flagMulti == 0 &&
		(c.lastCmd == nil || c.lastCmd.Name != "client" && (c.lastCmd.parent == nil || c.lastCmd.parent.Name != "client")) {
		c.track.caching = 0
	}
}

// trackingBroadcast sends the keys modified under each BCAST prefix to its
// clients, once per reactor iteration and cron tick. Engine lock.
func (s *Server) trackingBroadcast() {
	t := &s.tracking
	if !t.bcastOut {
		return
	}
	t.bcastOut = false
	prefixes := make([]string, 0, len(t.prefixes))
	for p := range t.prefixes {
		prefixes = append(prefixes, p)
	}
	sort.Strings(prefixes)
	for _, p := range prefixes {
		bp := t.prefixes[p]
		if len(bp.keys) == 0 {
			continue
		}
		keys := make([]string, 0, len(bp.keys))
		for k := range bp.keys {
			keys = append(keys, k)
		}
		sort.Strings(keys) // Redis's radix tree yields them in order
		clients := make([]*Client, 0, len(bp.clients))
		for c := range bp.clients {
			clients = append(clients, c)
		}
		sort.Slice(clients, func(i, j int) bool { return clients[i].id < clients[j].id })
		for _, c := range clients {
			send := keys
			if c.track != nil && c.track.noloop {
				send = nil
				for _, k := range keys {
					if bp.keys[k] != c {
						send = append(send, k)
					}
				}
				if len(send) == 0 {
					continue
				}
			}
			s.sendTrackingKeys(c, send, false)
		}
		bp.keys = map[string]*Client{}
	}
}

// sendTrackingKeys sends one invalidation for keys (all keys when flush)
// to the tracking client c or to its redirection, as Redis's
// sendTrackingMessage.
func (s *Server) sendTrackingKeys(c *Client, keys []string, flush bool) {
	ct := c.track
	target, redirected := c, false
	if ct != nil && ct.redirect != 0 {
		r := s.clients[ct.redirect]
		if r == nil {
			ct.brokenRedir = true
			if c.proto > 2 {
				c.Push(2)
				c.BulkString("tracking-redir-broken")
				c.Int(ct.redirect)
				s.wake(c)
			}
			return
		}
		target, redirected = r, true
	}
	switch {
	case target.proto > 2:
		target.Push(2)
		target.BulkString("invalidate")
	case redirected && target.flags&flagPubsub != 0:
		target.Push(3)
		target.BulkString("message")
		target.BulkString("__redis__:invalidate")
	default:
		return // RESP2 without redirection has no way to be told
	}
	if flush {
		// The tracking client's null, as Redis writes shared.null[c->resp].
		if c.proto > 2 {
			target.Raw([]byte("_\r\n"))
		} else {
			target.Raw([]byte("$-1\r\n"))
		}
	} else {
		target.Array(len(keys))
		for _, k := range keys {
			target.BulkString(k)
		}
	}
	s.wake(target)
}

// clientTrackingCommand is CLIENT TRACKING on|off [REDIRECT id] [PREFIX p
// ...] [BCAST] [OPTIN] [OPTOUT] [NOLOOP], with Redis 7.0's checks in its
// order.
func clientTrackingCommand(c *Client) {
	s := c.srv
	var opts clientTracking
	var redirect int64
	var prefixes []string
	for i := 3; i < len(c.argv); i++ {
		more := i+1 < len(c.argv)
		a := c.argv[i]
		switch {
		case optIs(a, "redirect") && more:
			i++
			if redirect != 0 {
				c.Error("ERR A client can only redirect to a single other client")
				return
			}
			id, ok := c.intArg(i)
			if !ok {
				return
			}
			if s.clients[id] == nil {
				c.Error("ERR The client ID you want redirect to does not exist")
				return
			}
			redirect = id
		case optIs(a, "bcast"):
			opts.bcast = true
		case optIs(a, "optin"):
			opts.optin = true
		case optIs(a, "optout"):
			opts.optout = true
		case optIs(a, "noloop"):
			opts.noloop = true
		case optIs(a, "prefix") && more:
			i++
			prefixes = append(prefixes, string(c.argv[i]))
		default:
			c.SyntaxError()
			return
		}
	}
	ct := c.track
	on := ct != nil && ct.on
	switch {
	case optIs(c.argv[2], "on"):
		if !opts.bcast && len(prefixes) > 0 {
			c.Error("ERR PREFIX option requires BCAST mode to be enabled")
			return
		}
		if on && ct.bcast != opts.bcast {
			c.Error("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.")
			return
		}
		if opts.bcast && (opts.optin || opts.optout) {
			c.Error("ERR OPTIN and OPTOUT are not compatible with BCAST")
			return
		}
		if opts.optin && opts.optout {
			c.Error("ERR You can't specify both OPTIN mode and OPTOUT mode")
			return
		}
		if on && (opts.optin && ct.optout || opts.optout && ct.optin) {
			c.Error("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.")
			return
		}
		if !checkPrefixCollisions(c, prefixes) {
			return
		}
		s.enableTracking(c, redirect, opts, prefixes)
	case optIs(c.argv[2], "off"):
		s.disableTracking(c)
	default:
		c.SyntaxError()
		return
	}
	c.OK()
}

// checkPrefixCollisions refuses prefixes that overlap one another or one
// the client already has (both would report the same key).
func checkPrefixCollisions(c *Client, prefixes []string) bool {
	overlap := func(a, b string) bool { return strings.HasPrefix(a, b) || strings.HasPrefix(b, a) }
	for i, p := range prefixes {
		if c.track != nil {
			for _, old := range c.track.prefixes {
				if overlap(old, p) {
					c.Error("ERR Prefix '" + cstr([]byte(p), len(p)) + "' overlaps with an existing prefix '" + cstr([]byte(old), len(old)) + "'. Prefixes for a single client must not overlap.")
					return false
				}
			}
		}
		for _, q := range prefixes[i+1:] {
			if overlap(p, q) {
				c.Error("ERR Prefix '" + cstr([]byte(p), len(p)) + "' overlaps with another provided prefix '" + cstr([]byte(q), len(q)) + "'. Prefixes for a single client must not overlap.")
				return false
			}
		}
	}
	return true
}

// clientCachingCommand is CLIENT CACHING yes|no: whether the next command
// is tracked, in OPTIN (yes) or OPTOUT (no) mode.
func clientCachingCommand(c *Client) {
	ct := c.track
	if ct == nil || !ct.on {
		c.Error("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled")
		return
	}
	switch {
	case optIs(c.argv[2], "yes"):
		if !ct.optin {
			c.Error("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.")
			return
		}
		ct.caching = 'y'
	case optIs(c.argv[2], "no"):
		if !ct.optout {
			c.Error("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.")
			return
		}
		ct.caching = 'n'
	default:
		c.SyntaxError()
		return
	}
	c.OK()
}

// trackingRedirect is CLIENT GETREDIR's answer and CLIENT LIST's redir:
// -1 without tracking, 0 without redirection.
func (c *Client) trackingRedirect() int64 {
	if c.track == nil || !c.track.on {
		return -1
	}
	return c.track.redirect
}

func clientGetredirCommand(c *Client) { c.Int(c.trackingRedirect()) }

// clientTrackinginfoCommand is CLIENT TRACKINGINFO: flags, redirect and
// prefixes, in Redis 7.0's order.
func clientTrackinginfoCommand(c *Client) {
	ct := c.track
	var flags []string
	if ct == nil || !ct.on {
		flags = []string{"off"}
	} else {
		flags = append(flags, "on")
		if ct.bcast {
			flags = append(flags, "bcast")
		}
		if ct.optin {
			flags = append(flags, "optin")
			if ct.caching == 'y' {
				flags = append(flags, "caching-yes")
			}
		}
		if ct.optout {
			flags = append(flags, "optout")
			if ct.caching == 'n' {
				flags = append(flags, "caching-no")
			}
		}
		if ct.noloop {
			flags = append(flags, "noloop")
		}
		if ct.brokenRedir {
			flags = append(flags, "broken_redirect")
		}
	}
	c.Map(3)
	c.BulkString("flags")
	c.Set(len(flags))
	for _, f := range flags {
		c.BulkString(f)
	}
	c.BulkString("redirect")
	c.Int(c.trackingRedirect())
	c.BulkString("prefixes")
	if ct == nil || !ct.on {
		c.Array(0)
		return
	}
	c.Array(len(ct.prefixes))
	for _, p := range ct.prefixes {
		c.BulkString(p)
	}
}

// trackingFlags are CLIENT LIST's tracking flag letters.
func (c *Client) trackingFlags() string {
	ct := c.track
	if ct == nil || !ct.on {
		return ""
	}
	f := "t"
	if ct.brokenRedir {
		f += "R"
	}
	if ct.bcast {
		f += "B"
	}
	return f
}

// trackingInfoStats are INFO's tracking_total_* fields.
func (s *Server) trackingInfoStats() (keys, items, prefixes string) {
	t := &s.tracking
	return strconv.Itoa(len(t.table)), strconv.FormatInt(t.items, 10), strconv.Itoa(len(t.prefixes))
}
