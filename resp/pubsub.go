package resp

import (
	"slices"
	"strconv"
	"time"

	"github.com/celerity/celerity/resp/conffile"
)

// Pub/sub state, as Redis 7.0's pubsub.c keeps it, sized for the Celery
// result backend: one connection may hold hundreds of thousands of
// channels (celery-task-meta-<id> per pending result, celery#3808) and
// re-subscribe all of them in one SUBSCRIBE after a reconnect
// (celery#5320). Every operation is therefore O(1) per channel:
//
//   - The server maps each channel to the slice of its subscribers, and
//     each subscriber maps the channel to its own index in that slice.
//     Unsubscribing swaps the last subscriber into the hole and updates
//     that subscriber's index, so a channel with thousands of subscribers
//     never costs a linear search, and a channel with one subscriber (the
//     common case) costs one small slice. Delivery order between
//     different subscribers is not observable, so the swap is free to
//     reorder them.
//   - Patterns live in a slice that PUBLISH walks, matching each pattern
//     once and then writing to all its subscribers (Redis walks its
//     pattern dictionary the same way: the cost is per distinct pattern).
//     A client counts once per matching pattern it holds.
//   - A client's patterns keep their subscription order, because
//     PUNSUBSCRIBE without arguments answers in that order (Redis keeps
//     them in a list); removed entries become holes that are compacted
//     once they are half the slice, so removal stays O(1) amortized.
//
// Channels are server-global (not per database), exactly as in Redis:
// Kombu isolates databases itself by prefixing "/<db>." to its topics.
//
// Everything here runs under the engine lock. Messages are appended to
// subscribers' reply buffers and their reactors are woken (Server.wake);
// no socket is touched, so a slow subscriber never slows the publisher.
// A subscriber whose unsent output passes client-output-buffer-limit
// pubsub is disconnected instead of growing without bound.
//
// Two deliberate differences in that limit. Redis 7.0 checks it on every
// reply appended to a pubsub-class client, its own command's replies
// included, and so drops a client whose one SUBSCRIBE of 500,000
// celery-task-meta channels answers 44 MB of confirmations (observed on
// 7.0.15): the reconnect burst of celery#5320 cannot succeed there.
// Celerity checks the limit where the danger is, on messages pushed to
// a subscriber; a client reading its own replies is not what the limit
// guards against. And the measure is every byte the client has not been
// sent yet, where Redis leaves out its 16 KB static reply buffer, so a
// limit below 16 KB bites a little sooner here.

// pubsubState is the server's side of pub/sub. The zero value is empty;
// the maps are made on first use.
type pubsubState struct {
	channels map[string][]*Client // SUBSCRIBE: channel → subscribers
	shard    map[string][]*Client // SSUBSCRIBE: shard channel → subscribers
	patterns []*patternSubs       // PSUBSCRIBE, walked by every PUBLISH
	patIndex map[string]*patternSubs
}

// patternSubs is one distinct pattern and the clients subscribed to it.
type patternSubs struct {
	name string // map key and reply text
	pat  []byte // the same bytes, for globMatch without a conversion
	subs []*Client
	pos  int // index in pubsubState.patterns
}

// clientPubsub is one client's subscriptions; nil until the first one.
type clientPubsub struct {
	channels map[string]int32 // channel → this client's index in its subscriber slice
	shard    map[string]int32 // likewise for shard channels
	patterns []clientPattern  // in subscription order; ps == nil marks a removed entry
	patIndex map[string]int32 // pattern → index in patterns
	holes    int              // removed entries still in patterns

	// softSince is the Unix second the client's output first reached the
	// soft pubsub limit while still over it; 0 when under.
	softSince int64
}

// clientPattern is a client's subscription to one pattern.
type clientPattern struct {
	ps  *patternSubs
	pos int32 // this client's index in ps.subs
}

// Kinds of channel subscription: plain (SUBSCRIBE) and shard (SSUBSCRIBE)
// channels are separate namespaces with the same mechanics.
const (
	plainChannels = false
	shardChannels = true
)

func (st *pubsubState) channelMap(shard bool) map[string][]*Client {
	if shard {
		if st.shard == nil {
			st.shard = make(map[string][]*Client)
		}
		return st.shard
	}
	if st.channels == nil {
		st.channels = make(map[string][]*Client)
	}
	return st.channels
}

func (p *clientPubsub) channelMap(shard bool) map[string]int32 {
	if shard {
		return p.shard
	}
	return p.channels
}

// subs returns the client's subscription state, creating it.
func (c *Client) subs() *clientPubsub {
	if c.pubsub == nil {
		c.pubsub = &clientPubsub{
			channels: make(map[string]int32),
			shard:    make(map[string]int32),
			patIndex: make(map[string]int32),
		}
	}
	return c.pubsub
}

// subscriptionCount is what (P)SUBSCRIBE and (P)UNSUBSCRIBE confirmations
// report: channels plus patterns (shard channels are counted apart).
func (c *Client) subscriptionCount() int {
	if c.pubsub == nil {
		return 0
	}
	return len(c.pubsub.channels) + len(c.pubsub.patIndex)
}

// shardSubscriptionCount is what SSUBSCRIBE and SUNSUBSCRIBE report.
func (c *Client) shardSubscriptionCount() int {
	if c.pubsub == nil {
		return 0
	}
	return len(c.pubsub.shard)
}

// pubsubCounts returns the client's channels, patterns and shard channels
// (CLIENT LIST sub, psub, ssub).
func (c *Client) pubsubCounts() (sub, psub, ssub int) {
	if c.pubsub == nil {
		return 0, 0, 0
	}
	return len(c.pubsub.channels), len(c.pubsub.patIndex), len(c.pubsub.shard)
}

// countFor is the count a confirmation of the given kind reports.
func (c *Client) countFor(shard bool) int {
	if shard {
		return c.shardSubscriptionCount()
	}
	return c.subscriptionCount()
}

// updatePubsubFlag keeps flagPubsub equal to "has any subscription of any
// kind", as Redis does after every (un)subscribe: RESP2 subscribed mode
// and the pubsub client class both follow it.
func (c *Client) updatePubsubFlag() {
	if c.subscriptionCount()+c.shardSubscriptionCount() > 0 {
		c.flags |= flagPubsub
		return
	}
	c.flags &^= flagPubsub
	c.pubsub = nil // drop the empty maps: most clients subscribe once, briefly
}

// pubsubConfirm writes a (un)subscribe confirmation: a push frame in RESP3,
// an array in RESP2; a nil name (an unsubscribe-all with nothing to
// unsubscribe) is a null.
func (c *Client) pubsubConfirm(kind string, name []byte, count int) {
	c.Push(3)
	c.BulkString(kind)
	if name == nil {
		c.Null()
	} else {
		c.Bulk(name)
	}
	c.Int(int64(count))
}

// growReplies reserves room for a confirmation per name, so a
// 500,000-channel SUBSCRIBE appends into one allocation instead of
// doubling its way up. The room is computed from the names themselves,
// so it is bounded by the request that asked for it.
func (c *Client) growReplies(names [][]byte) {
	need := 0
	for _, name := range names {
		need += len(name) + confirmOverhead
	}
	c.reserve(need)
}

// confirmOverhead bounds a confirmation's bytes besides the name:
// ">3\r\n$12\r\npunsubscribe\r\n$<len>\r\n" ... "\r\n:<count>\r\n".
const confirmOverhead = 48

// reserve makes room for need more bytes of replies (growing as append
// does, so many small reservations stay amortized).
func (c *Client) reserve(need int) { c.buf = slices.Grow(c.buf, need) }

// subscribeChannel subscribes the client to a channel (or shard channel).
// It reports false when the client was already subscribed.
func (c *Client) subscribeChannel(name []byte, shard bool, hint int) bool {
	p := c.subs()
	mine := p.channelMap(shard)
	if _, ok := mine[string(name)]; ok {
		return false
	}
	if len(mine) == 0 && hint > 8 {
		// A big first SUBSCRIBE: size the map once.
		mine = make(map[string]int32, hint)
		if shard {
			p.shard = mine
		} else {
			p.channels = mine
		}
	}
	all := c.srv.pubsub.channelMap(shard)
	if len(all) == 0 && hint > 8 {
		all = make(map[string][]*Client, hint)
		if shard {
			c.srv.pubsub.shard = all
		} else {
			c.srv.pubsub.channels = all
		}
	}
	// One copy of the name serves both maps (argv aliases the read
	// buffer, so it must be copied once anyway).
	key := string(name)
	subs := all[key]
	mine[key] = int32(len(subs))
	all[key] = append(subs, c)
	return true
}

// unsubscribeChannel removes the client from a channel it holds at index
// pos of the server's subscriber slice, keeping both sides' indexes right.
func (c *Client) unsubscribeChannel(key string, pos int32, shard bool) {
	c.leaveChannel(key, pos, shard)
	delete(c.pubsub.channelMap(shard), key)
}

// leaveChannel is the server's half of unsubscribeChannel: the client
// leaves the channel's subscribers, and the channel goes with its last
// subscriber. The subscriber moved into the hole learns its new index.
func (c *Client) leaveChannel(key string, pos int32, shard bool) {
	all := c.srv.pubsub.channelMap(shard)
	subs := all[key]
	last := int32(len(subs) - 1)
	if pos != last {
		moved := subs[last]
		subs[pos] = moved
		moved.pubsub.channelMap(shard)[key] = pos
	}
	subs[last] = nil
	if last == 0 {
		delete(all, key)
	} else {
		all[key] = subs[:last]
	}
}

// unsubscribeChannels runs (S)UNSUBSCRIBE for the given names, or for
// every channel of the kind when names is empty, writing a confirmation
// per channel when notify is set. A name the client does not hold is
// still confirmed, with the unchanged count (Kombu and Celery unsubscribe
// names they never subscribed to, and rely on the answer).
func (c *Client) unsubscribeChannels(names [][]byte, shard, notify bool) {
	kind := "unsubscribe"
	if shard {
		kind = "sunsubscribe"
	}
	if len(names) > 0 {
		for _, name := range names {
			if c.pubsub != nil {
				if pos, ok := c.pubsub.channelMap(shard)[string(name)]; ok {
					c.unsubscribeChannel(string(name), pos, shard)
				}
			}
			if notify {
				c.pubsubConfirm(kind, name, c.countFor(shard))
			}
		}
		return
	}
	if c.pubsub == nil || len(c.pubsub.channelMap(shard)) == 0 {
		if notify {
			c.pubsubConfirm(kind, nil, c.countFor(shard))
		}
		return
	}
	mine := c.pubsub.channelMap(shard)
	if notify {
		need := 0
		for key := range mine {
			need += len(key) + confirmOverhead
		}
		c.reserve(need)
	}
	// The client's own map is dropped whole afterwards rather than
	// entry by entry (half the map work of a 500,000-channel
	// unsubscribe); meanwhile the count is kept by hand. The order is
	// the map's, as Redis answers in its dict's order.
	count := c.countFor(shard)
	for key, pos := range mine {
		c.leaveChannel(key, pos, shard)
		count--
		if notify {
			c.Push(3)
			c.BulkString(kind)
			c.BulkString(key)
			c.Int(int64(count))
		}
	}
	if shard {
		c.pubsub.shard = make(map[string]int32)
	} else {
		c.pubsub.channels = make(map[string]int32)
	}
}

// subscribePattern subscribes the client to a pattern; false when it
// already was.
func (c *Client) subscribePattern(name []byte) bool {
	p := c.subs()
	if _, ok := p.patIndex[string(name)]; ok {
		return false
	}
	st := &c.srv.pubsub
	if st.patIndex == nil {
		st.patIndex = make(map[string]*patternSubs)
	}
	ps := st.patIndex[string(name)]
	if ps == nil {
		key := string(name)
		ps = &patternSubs{name: key, pat: []byte(key), pos: len(st.patterns)}
		st.patterns = append(st.patterns, ps)
		st.patIndex[key] = ps
	}
	p.patIndex[ps.name] = int32(len(p.patterns))
	p.patterns = append(p.patterns, clientPattern{ps: ps, pos: int32(len(ps.subs))})
	ps.subs = append(ps.subs, c)
	return true
}

// leavePattern takes the client out of a pattern's subscribers, and the
// pattern out of PUBLISH's walk when it was the last one.
func (c *Client) leavePattern(cp clientPattern) {
	ps := cp.ps
	last := int32(len(ps.subs) - 1)
	if cp.pos != last {
		moved := ps.subs[last]
		ps.subs[cp.pos] = moved
		mp := moved.pubsub
		mp.patterns[mp.patIndex[ps.name]].pos = cp.pos
	}
	ps.subs[last] = nil
	ps.subs = ps.subs[:last]
	if last > 0 {
		return
	}
	st := &c.srv.pubsub
	end := len(st.patterns) - 1
	if ps.pos != end {
		st.patterns[ps.pos] = st.patterns[end]
		st.patterns[ps.pos].pos = ps.pos
	}
	st.patterns[end] = nil
	st.patterns = st.patterns[:end]
	delete(st.patIndex, ps.name)
}

// unsubscribePattern removes the client's subscription at index i of its
// pattern list, leaving a hole that a later compaction squeezes out.
func (c *Client) unsubscribePattern(i int32) {
	p := c.pubsub
	cp := p.patterns[i]
	c.leavePattern(cp)
	delete(p.patIndex, cp.ps.name)
	p.patterns[i] = clientPattern{}
	p.holes++
	if p.holes > 16 && p.holes*2 > len(p.patterns) {
		p.compactPatterns()
	}
}

// compactPatterns squeezes removed entries out of the pattern list,
// keeping the order, and re-points the index.
func (p *clientPubsub) compactPatterns() {
	kept := p.patterns[:0]
	for _, cp := range p.patterns {
		if cp.ps != nil {
			p.patIndex[cp.ps.name] = int32(len(kept))
			kept = append(kept, cp)
		}
	}
	clear(p.patterns[len(kept):])
	p.patterns = kept
	p.holes = 0
}

// unsubscribePatterns runs PUNSUBSCRIBE for the given patterns, or for all
// of the client's patterns in subscription order when names is empty.
func (c *Client) unsubscribePatterns(names [][]byte, notify bool) {
	if len(names) > 0 {
		for _, name := range names {
			if c.pubsub != nil {
				if i, ok := c.pubsub.patIndex[string(name)]; ok {
					c.unsubscribePattern(i)
				}
			}
			if notify {
				c.pubsubConfirm("punsubscribe", name, c.subscriptionCount())
			}
		}
		return
	}
	if c.pubsub == nil || len(c.pubsub.patIndex) == 0 {
		if notify {
			c.pubsubConfirm("punsubscribe", nil, c.subscriptionCount())
		}
		return
	}
	p := c.pubsub
	for _, cp := range p.patterns {
		if cp.ps == nil {
			continue
		}
		c.leavePattern(cp)
		delete(p.patIndex, cp.ps.name)
		if notify {
			c.Push(3)
			c.BulkString("punsubscribe")
			c.BulkString(cp.ps.name)
			c.Int(int64(c.subscriptionCount()))
		}
	}
	p.patterns, p.holes = nil, 0
}

// pubsubUnsubscribeAll drops every subscription without a reply and
// leaves subscribed mode: RESET, and a closing connection.
func (c *Client) pubsubUnsubscribeAll() {
	if c.pubsub == nil {
		c.flags &^= flagPubsub
		return
	}
	c.unsubscribeChannels(nil, plainChannels, false)
	c.unsubscribeChannels(nil, shardChannels, false)
	c.unsubscribePatterns(nil, false)
	c.updatePubsubFlag()
}

// publish delivers msg to the subscribers of channel and of every pattern
// matching it, and returns the receivers as Redis counts them: each
// channel subscriber once, plus each client once per matching pattern it
// holds. A subscriber gets the message frame first, then its pmessages.
func (s *Server) publish(channel, msg []byte) int64 {
	st := &s.pubsub
	var n int64
	for _, c := range st.channels[string(channel)] {
		c.deliver("message", nil, channel, msg)
		n++
	}
	for _, ps := range st.patterns {
		if !globMatch(ps.pat, channel, false) {
			continue
		}
		for _, c := range ps.subs {
			c.deliver("pmessage", ps.pat, channel, msg)
			n++
		}
	}
	return n
}

// spublish delivers msg to the subscribers of a shard channel (patterns
// never match shard channels).
func (s *Server) spublish(channel, msg []byte) int64 {
	var n int64
	for _, c := range s.pubsub.shard[string(channel)] {
		c.deliver("smessage", nil, channel, msg)
		n++
	}
	return n
}

// deliver appends one message frame to a subscriber's output and wakes
// its reactor. A client being closed still counts as a receiver (Redis
// counts it until it is freed) but gets nothing more written.
func (c *Client) deliver(kind string, pattern, channel, msg []byte) {
	if c.flags&(flagCloseASAP|flagCloseAfterReply) != 0 {
		return
	}
	if pattern != nil {
		c.Push(4)
		c.BulkString(kind)
		c.Bulk(pattern)
	} else {
		c.Push(3)
		c.BulkString(kind)
	}
	c.Bulk(channel)
	c.Bulk(msg)
	s := c.srv
	if s.overPubsubLimit(c) {
		// Log before closing, as Redis does, so the line shows the client
		// as it was. The info line names the command, never arguments.
		s.log.Warn().Msg("Client " + c.infoLine(time.Now().UnixMilli()) +
			" scheduled to be closed ASAP for overcoming of output buffer limits.")
		c.kill()
		return
	}
	if s.cfg.MaxMemoryClients != 0 {
		s.trackClientMemory(c)
		s.evictClients()
	}
	s.wake(c)
}

// overPubsubLimit applies client-output-buffer-limit pubsub to a
// subscriber that was just given a message: true at the hard limit, or
// when the output has stayed at or over the soft limit for more than the
// soft seconds. The measure is what the client has not received yet
// (reply buffer plus unsent socket output); the clock is the unit's, in
// seconds, as Redis's server.unixtime.
func (s *Server) overPubsubLimit(c *Client) bool {
	lim := s.cfg.ClientOutputBufferLimits[obufPubsub]
	if lim.Hard == 0 && lim.Soft == 0 {
		return false
	}
	used := uint64(c.OutputPending())
	if lim.Hard != 0 && used >= lim.Hard {
		return true
	}
	p := c.pubsub
	if lim.Soft == 0 || used < lim.Soft {
		p.softSince = 0
		return false
	}
	now := s.unitMs / 1000
	if p.softSince == 0 {
		p.softSince = now
		return false
	}
	return now-p.softSince > int64(lim.SoftSeconds)
}

// Client classes of client-output-buffer-limit, in Redis's order.
const (
	obufNormal = iota
	obufReplica
	obufPubsub
	obufClasses
)

var obufClassNames = [obufClasses]string{"normal", "slave", "pubsub"}

// OutputBufferLimit is one class of client-output-buffer-limit: close the
// client at Hard bytes of pending output, or after SoftSeconds over Soft.
// Zero disables a limit.
type OutputBufferLimit struct {
	Hard, Soft  uint64
	SoftSeconds int
}

// client-output-buffer-limit's error texts, as Redis 7.0.15 words them.
const (
	errObufArgCount = "Wrong number of arguments in buffer limit configuration."
	errObufClass    = "Invalid client class specified in buffer limit configuration."
	errObufValue    = "Error in hard, soft or soft_seconds setting in buffer limit configuration."
)

// formatOutputBufferLimits renders the directive as CONFIG GET shows it:
// "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60".
func formatOutputBufferLimits(l *[obufClasses]OutputBufferLimit) string {
	b := make([]byte, 0, 80)
	for class, lim := range l {
		if class > 0 {
			b = append(b, ' ')
		}
		b = append(b, obufClassNames[class]...)
		b = append(b, ' ')
		b = strconv.AppendUint(b, lim.Hard, 10)
		b = append(b, ' ')
		b = strconv.AppendUint(b, lim.Soft, 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(lim.SoftSeconds), 10)
	}
	return string(b)
}

// parseOutputBufferLimits applies "<class> <hard> <soft> <seconds>"
// groups, all or nothing, with Redis 7.0.15's checks as observed on the
// oracle: classes normal, slave/replica, pubsub in any case (master is
// refused); hard and soft are memory values (units, no sign, saturating);
// seconds is read like strtoll over the whole word (blanks and a sign
// allowed) and then stored in a C int, so a value whose low 32 bits are
// negative is refused and -4294967295 means 1. The first bad word, in
// argument order, decides the error. A single empty argument (CONFIG SET
// with an empty value) is no groups at all.
func parseOutputBufferLimits(l *[obufClasses]OutputBufferLimit, args []string) error {
	if len(args) == 1 && args[0] == "" {
		return nil
	}
	if len(args)%4 != 0 {
		return configErr(errObufArgCount)
	}
	next := *l
	for i := 0; i < len(args); i += 4 {
		class := obufClassByName(args[i])
		if class < 0 {
			return configErr(errObufClass)
		}
		hard, err := conffile.ParseMemory(args[i+1])
		if err != nil {
			return configErr(errObufValue)
		}
		soft, err := conffile.ParseMemory(args[i+2])
		if err != nil {
			return configErr(errObufValue)
		}
		secs, ok := strtollWhole(args[i+3])
		if !ok || int32(secs) < 0 {
			return configErr(errObufValue)
		}
		next[class] = OutputBufferLimit{Hard: uint64(hard), Soft: uint64(soft), SoftSeconds: int(int32(secs))}
	}
	*l = next
	return nil
}

// obufClassByName maps a class name to its index, -1 when unknown.
func obufClassByName(name string) int {
	// ASCII case folding only, as strcasecmp.
	switch upper(name) {
	case "NORMAL":
		return obufNormal
	case "SLAVE", "REPLICA":
		return obufReplica
	case "PUBSUB":
		return obufPubsub
	}
	return -1
}
