package integration

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/resp/resptest"
)

// Pub/sub differential cases. A subscribed connection receives frames that
// no command of its own asked for, one command can answer with several
// frames (SUBSCRIBE a b c), and channels are server-global, so these cases
// run on their own runner: several connections per case (openX), steps
// that write without reading or read frames without writing, a frame
// count per step (which may differ between RESP2, where a subscribed
// client's command is refused with one error, and RESP3, where it runs and
// its pushes arrive too), and frames compared as a multiset where Redis
// answers in its hash tables' order (UNSUBSCRIBE without arguments, the
// pmessages of several matching patterns).
//
// Every case ends with a barrier: PING on every connection, compared
// exactly. A frame one server sent and the other did not would surface
// there instead of going unnoticed. Then RESET on every connection
// (uncompared) drops the case's subscriptions on both servers before the
// next case, so global counts (PUBLISH receivers, PUBSUB NUMPAT, INFO)
// never see a previous case's clients.

// psStep is one step of a pub/sub case.
type psStep struct {
	conn int
	args []string // nil: no write, only read
	// frames is the number of replies read after writing (1 unless set);
	// frames3, when set, replaces it in RESP3.
	frames, frames3 int
	sendOnly        bool
	anyOrder        bool       // compare the frames as a multiset
	cmp             comparator // per frame; nil means exact bytes
	closed          bool       // both servers must close the connection
}

func ps(args ...string) psStep             { return psStep{args: args} }
func psOn(conn int, args ...string) psStep { return psStep{conn: conn, args: args} }
func recvPS(conn, n int) psStep            { return psStep{conn: conn, frames: n} }
func closedPS(conn int) psStep             { return psStep{conn: conn, closed: true} }

// n sets the number of frames a step reads.
func (s psStep) n(frames int) psStep { s.frames = frames; return s }

// n3 sets the number of frames read in RESP3.
func (s psStep) n3(frames int) psStep { s.frames3 = frames; return s }

// unordered compares the step's frames as a multiset.
func (s psStep) unordered() psStep { s.anyOrder = true; return s }

func (s psStep) with(c comparator) psStep { s.cmp = c; return s }

// psCase is a named pub/sub scenario.
type psCase struct {
	name    string
	conns   int
	steps   []psStep
	cleanup [][]string // run on both servers afterwards (CONFIG SET restores)
}

// runPubSub runs cases in both protocols against a fresh Celerity and the
// package's oracle.
func runPubSub(t *testing.T, cases []psCase) {
	t.Helper()
	tg := defaultTarget(t)
	names := map[string]bool{}
	for _, c := range cases {
		require.False(t, names[c.name], "duplicate case name %q", c.name)
		names[c.name] = true
	}
	for _, c := range cases {
		for _, proto := range protocols {
			ok := t.Run(fmt.Sprintf("%s/RESP%d", c.name, proto), func(t *testing.T) {
				x := openX(t, tg, proto, max(c.conns, 1))
				t.Cleanup(func() {
					resetPubSubConns(x)
					if len(c.cleanup) > 0 {
						x.cleanup(c.cleanup)
					}
				})
				closed := map[int]bool{}
				for i, st := range c.steps {
					if why := runPSStep(x, st); why != "" {
						t.Errorf("case %q step %d: %s", c.name, i+1, why)
					}
					if st.closed {
						closed[st.conn] = true
					}
					suiteStats.steps[proto].Add(1)
				}
				for i := range x.conns {
					if closed[i] {
						continue
					}
					if why := runPSStep(x, psOn(i, "PING")); why != "" {
						t.Errorf("case %q final PING on connection %d (a frame too many or too few?): %s", c.name, i, why)
					}
				}
				suiteStats.cases[proto].Add(1)
			})
			if !ok && !ping(tg.cel) {
				t.Fatalf("Celerity stopped answering PING after case %q (RESP%d)", c.name, proto)
			}
		}
	}
}

// resetPubSubConns sends RESET on every connection of both servers and
// waits for its +RESET, skipping frames still in flight.
func resetPubSubConns(x *xpair) {
	for _, xc := range x.conns {
		for _, c := range xc.c {
			_ = c.NetConn().SetWriteDeadline(time.Now().Add(5 * time.Second))
			if _, err := c.NetConn().Write(resptest.Encode("RESET")); err != nil {
				continue // closed by the case
			}
			for i := 0; i < 10000; i++ {
				b, err := c.TryReadRaw(5 * time.Second)
				if err != nil || string(b) == "+RESET\r\n" {
					break
				}
			}
		}
	}
}

// runPSStep executes one step on both servers and compares.
func runPSStep(x *xpair, st psStep) string {
	xc := x.conns[st.conn]
	if st.closed {
		return x.expectClosed(xc, fmt.Sprintf("connection %d", st.conn))
	}
	frames := st.frames
	if st.args != nil && frames == 0 && !st.sendOnly {
		frames = 1
	}
	if x.proto == 3 && st.frames3 != 0 {
		frames = st.frames3
	}
	label := showArgs(st.args)
	if st.args == nil {
		label = fmt.Sprintf("(reading %d frames on connection %d)", frames, st.conn)
	}
	var got [2][][]byte
	for side, c := range xc.c {
		if st.args != nil {
			c.Send(x.subst(side, st.args)...)
		}
		for i := 0; i < frames; i++ {
			b, err := c.TryReadRaw(10 * time.Second)
			if err != nil {
				return fmt.Sprintf("%s [RESP%d]: %s: reading frame %d of %d: %v (got %q)", label, x.proto, sideName[side], i+1, frames, err, b)
			}
			got[side] = append(got[side], b)
		}
	}
	if st.anyOrder {
		g, gc := unorderedFrames(got[0])
		w, wc := unorderedFrames(got[1])
		if !slices.Equal(g, w) {
			return fmt.Sprintf("%s [RESP%d]: frames differ as multisets\n  celerity: %q\n  oracle:   %q", label, x.proto, g, w)
		}
		if !slices.Equal(gc, wc) {
			return fmt.Sprintf("%s [RESP%d]: subscription counts differ\n  celerity: %q\n  oracle:   %q", label, x.proto, gc, wc)
		}
		return ""
	}
	for i := range got[0] {
		if why := compareWith(st.cmp, got[0][i], got[1][i]); why != "" {
			return fmt.Sprintf("%s [RESP%d] frame %d: %s\n  celerity: %s\n  oracle:   %s", label, x.proto, i+1, why, showReply(got[0][i]), showReply(got[1][i]))
		}
	}
	return ""
}

// unorderedFrames prepares frames that arrive in hash order for
// comparison: the frames without their trailing count, sorted, and the
// counts in arrival order. An unsubscribe-all answers each name with the
// count left after it, so the names come in any order but the counts
// always go down one by one.
func unorderedFrames(frames [][]byte) (sorted, counts []string) {
	for _, f := range frames {
		body := string(f)
		if r, err := parseReply(f); err == nil && r.isAggregate() && len(r.Elems) > 0 {
			if last := r.Elems[len(r.Elems)-1]; last.Kind == ':' {
				body = strings.TrimSuffix(body, string(last.Raw))
				counts = append(counts, last.Head)
			}
		}
		sorted = append(sorted, body)
	}
	slices.Sort(sorted)
	return sorted, counts
}

// cmpPubsubInfo compares the pub/sub fields of INFO stats.
func cmpPubsubInfo(g, w *reply) string {
	pick := func(r *reply) string {
		var out []string
		for _, l := range strings.Split(r.Str, "\r\n") {
			if strings.HasPrefix(l, "pubsub") {
				out = append(out, l)
			}
		}
		return strings.Join(out, " ")
	}
	if a, b := pick(g), pick(w); a != b || a == "" {
		return fmt.Sprintf("pub/sub fields %q, oracle %q", a, b)
	}
	return ""
}

// cmpArrayUnordered compares an array reply as a multiset of elements.
func cmpArrayUnordered(g, w *reply) string {
	return compareReplies(modeUnordered, g.Raw, w.Raw)
}

func TestDiffPubSub(t *testing.T) {
	runPubSub(t, pubsubCases())
}

// pubsubCases are the single-connection cases: confirmations, the forms
// without arguments, names never subscribed, PING and the RESP2 filter,
// transactions, RESET, arity.
func pubsubCases() []psCase {
	return []psCase{
		{name: "confirmations", steps: []psStep{
			ps("SUBSCRIBE", "a", "b", "a").n(3),
			ps("SUBSCRIBE", "c").n(1),
			ps("PSUBSCRIBE", "p*", "p*", "q?").n(3),
			ps("SSUBSCRIBE", "s1", "s2", "s1").n(3),
			ps("subscribe", "", "\x00bin\r\n", "with space", "ünïcode").n(4),
			ps("UNSUBSCRIBE", "b").n(1),
			ps("UNSUBSCRIBE", "never", "b").n(2),
			ps("PUNSUBSCRIBE", "never").n(1),
			ps("SUNSUBSCRIBE", "never", "s1").n(2),
			ps("PUNSUBSCRIBE", "q?").n(1),
			ps("UNSUBSCRIBE").n(6).unordered(),
			ps("UNSUBSCRIBE").n(1),
			ps("PUNSUBSCRIBE").n(1),
			ps("PUNSUBSCRIBE").n(1),
			ps("SUNSUBSCRIBE").n(1),
			ps("SUNSUBSCRIBE").n(1),
		}},
		{name: "unsubscribe-all-pattern-order", steps: []psStep{
			// Patterns are answered in subscription order (a list in
			// Redis), so this one is compared exactly.
			ps("PSUBSCRIBE", "p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9", "p10", "p11").n(12),
			ps("PUNSUBSCRIBE", "p4", "p9").n(2),
			ps("PSUBSCRIBE", "p4").n(1),
			ps("PUNSUBSCRIBE").n(11),
		}},
		{name: "never-subscribed", steps: []psStep{
			ps("UNSUBSCRIBE", "x", "y").n(2),
			ps("GET", "k"), // a count of 0 leaves subscribed mode at once
			ps("PUNSUBSCRIBE", "x"),
			ps("SUNSUBSCRIBE", "x"),
			ps("UNSUBSCRIBE"), ps("PUNSUBSCRIBE"), ps("SUNSUBSCRIBE"),
			ps("GET", "k"),
			// Kombu cancels a fanout consumer with UNSUBSCRIBE of the
			// topic it PSUBSCRIBEd: the count stays 1 and the pattern stays.
			ps("PSUBSCRIBE", "/0.celery.pidbox"),
			ps("UNSUBSCRIBE", "/0.celery.pidbox"),
			ps("UNSUBSCRIBE", "/0.celery.pidbox"),
			ps("UNSUBSCRIBE"),
			ps("GET", "k"),
			ps("PUNSUBSCRIBE", "/0.celery.pidbox"),
			ps("GET", "k"),
		}},
		{name: "count-kinds", steps: []psStep{
			// Channels and patterns share a count; shard channels have
			// their own; subscribed mode lasts while any of them remains.
			ps("SSUBSCRIBE", "s"),
			ps("UNSUBSCRIBE"),
			ps("GET", "k"),
			ps("SUBSCRIBE", "a"),
			ps("SUNSUBSCRIBE"),
			ps("GET", "k"),
			ps("PSUBSCRIBE", "a*"),
			ps("UNSUBSCRIBE"),
			ps("PUNSUBSCRIBE"),
			ps("GET", "k"),
		}},
		{name: "ping-while-subscribed", steps: []psStep{
			ps("PING"), ps("PING", "x"),
			ps("SUBSCRIBE", "a"),
			ps("PING"), ps("PING", "hello"), ps("PING", ""), ps("ping", "redis-py-health-check"),
			ps("PING", "a", "b"),
			ps("PSUBSCRIBE", "x*"), ps("PING", "x"),
			ps("UNSUBSCRIBE", "a"), ps("PING"),
			ps("PUNSUBSCRIBE"), ps("PING"), ps("PING", "y"),
		}},
		{name: "resp2-filter", steps: []psStep{
			ps("SUBSCRIBE", "a"),
			ps("GET", "k"), ps("SET", "k", "v"), ps("GET", "k"),
			ps("CLIENT", "GETNAME"), ps("PUBSUB", "NUMPAT"), ps("PUBSUB", "NUMSUB", "a"),
			ps("MULTI"), ps("DISCARD"),
			// In RESP3 the PUBLISH runs: its own push, then its count.
			ps("PUBLISH", "a", "self").n3(2),
			ps("SPUBLISH", "a", "x"),
			ps("NOSUCHCOMMAND", "x"), ps("GET"), ps("SUBSCRIBE"),
			ps("SSUBSCRIBE", "s"), ps("PSUBSCRIBE", "p"),
			ps("SUNSUBSCRIBE"), ps("PUNSUBSCRIBE"), ps("UNSUBSCRIBE"),
			ps("GET", "k"),
		}},
		{name: "reset-unsubscribes", steps: []psStep{
			ps("SUBSCRIBE", "a", "b").n(2), ps("PSUBSCRIBE", "p*"), ps("SSUBSCRIBE", "s"),
			ps("RESET"),
			ps("PUBSUB", "NUMSUB", "a", "b"), ps("PUBSUB", "NUMPAT"), ps("PUBSUB", "SHARDNUMSUB", "s"),
			ps("PUBSUB", "CHANNELS"), ps("PUBLISH", "a", "x"), ps("GET", "k"),
			ps("UNSUBSCRIBE"),
		}},
		{name: "multi-subscribe-publish", steps: []psStep{
			ps("MULTI"), ps("SUBSCRIBE", "a"), ps("PUBLISH", "a", "x"), ps("SSUBSCRIBE", "s"),
			ps("PSUBSCRIBE", "a*"), ps("PUBLISH", "a", "y"), ps("UNSUBSCRIBE"),
			// The frames a transaction sends to itself land inside the
			// EXEC array's bytes, as in Redis; SSUBSCRIBE is refused
			// there (no MULTI exception, unlike SUBSCRIBE).
			ps("EXEC").n(4),
			ps("GET", "k"),
			ps("PUNSUBSCRIBE"),
			ps("GET", "k"),
			ps("PUBLISH", "zz", "1"),
		}},
		{name: "multi-publish-queued-errors", steps: []psStep{
			ps("MULTI"), ps("PUBLISH", "a"), ps("PUBLISH", "a", "b"), ps("EXEC"),
			ps("MULTI"), ps("PUBLISH", "a", "b"), ps("SPUBLISH", "s", "m"), ps("PUBSUB", "NUMPAT"),
			ps("PUBSUB", "CHANNELS"), ps("EXEC"),
		}},
		{name: "introspection-empty", steps: []psStep{
			ps("PUBSUB", "CHANNELS"), ps("PUBSUB", "CHANNELS", "*"), ps("PUBSUB", "NUMSUB"),
			ps("PUBSUB", "NUMSUB", "a", "b", "a"), ps("PUBSUB", "NUMPAT"), ps("PUBSUB", "SHARDCHANNELS"),
			ps("PUBSUB", "SHARDNUMSUB"), ps("PUBSUB", "SHARDNUMSUB", "x"),
		}},
		{name: "introspection-errors", steps: []psStep{
			ps("PUBSUB"), ps("PUBSUB", "FOO"), ps("pubsub", "foo", "bar"), ps("PUBSUB", "CHANNELS", "a", "b"),
			ps("PUBSUB", "channels", "a", "b", "c"), ps("PUBSUB", "NUMPAT", "x"), ps("PUBSUB", "SHARDCHANNELS", "x", "y"),
			ps("PUBSUB", "HELP"), ps("pubsub", "help"), ps("PUBSUB", "HELP", "x"), ps("PUBSUB", ""),
		}},
		{name: "arity", steps: []psStep{
			ps("SUBSCRIBE"), ps("PSUBSCRIBE"), ps("SSUBSCRIBE"), ps("PUBLISH"), ps("PUBLISH", "a"),
			ps("PUBLISH", "a", "b", "c"), ps("SPUBLISH", "a"), ps("SPUBLISH", "a", "b", "c"),
			ps("publish", "a", "b"), ps("spublish", "a", "b"),
		}},
		{name: "output-buffer-limit-config", steps: []psStep{
			ps("CONFIG", "GET", "client-output-buffer-limit"),
			ps("CONFIG", "GET", "CLIENT-OUTPUT-BUFFER-LIMIT"),
			ps("CONFIG", "SET", "client-output-buffer-limit", "pubsub 1mb 512kb 5"),
			ps("CONFIG", "GET", "client-output-buffer-limit"),
			ps("CONFIG", "SET", "client-output-buffer-limit", "normal 1 2 3 replica 4 5 6"),
			ps("CONFIG", "GET", "client-output-buffer-limit"),
			ps("CONFIG", "SET", "client-output-buffer-limit", ""),
			ps("CONFIG", "SET", "client-output-buffer-limit", "Pubsub 1K k +3 SLAVE 0 0 0"),
			ps("CONFIG", "GET", "client-output-buffer-limit"),
			ps("CONFIG", "SET", "client-output-buffer-limit", "pubsub 1 2"),
			ps("CONFIG", "SET", "client-output-buffer-limit", "master 1 1 1"),
			ps("CONFIG", "SET", "client-output-buffer-limit", "foo 1 1 1"),
			ps("CONFIG", "SET", "client-output-buffer-limit", "pubsub -1 2 3"),
			ps("CONFIG", "SET", "client-output-buffer-limit", "pubsub 1 2 1k"),
			ps("CONFIG", "SET", "client-output-buffer-limit", "pubsub 1 2 2147483648"),
			ps("CONFIG", "SET", "client-output-buffer-limit", "pubsub 1 2 4294967297"),
			ps("CONFIG", "SET", "client-output-buffer-limit", "pubsub 1 1 -4294967295"),
			ps("CONFIG", "SET", "client-output-buffer-limit", " pubsub 1 2 3"),
			ps("CONFIG", "SET", "client-output-buffer-limit", "pubsub  1 2"),
			ps("CONFIG", "SET", "client-output-buffer-limit", "pubsub 18446744073709551616 9223372036854775808 0"),
			ps("CONFIG", "GET", "client-output-buffer-limit"),
			ps("CONFIG", "SET", "client-output-buffer-limit", "pubsub 1 1 1", "client-output-buffer-limit", "normal 1 1 1"),
			ps("CONFIG", "SET", "client-output-buffer-limit", "pubsub 1 1 1 normal x 1 1"),
			ps("CONFIG", "GET", "client-output-buffer-limit"),
			ps("CONFIG", "GET", "client-output-buffer-*").with(cmpArrayUnordered),
		}, cleanup: [][]string{{"CONFIG", "SET", "client-output-buffer-limit", "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"}}},
	}
}

func TestDiffPubSubDelivery(t *testing.T) {
	runPubSub(t, pubsubDeliveryCases())
}

// pubsubDeliveryCases need a publisher (connection 0) and subscribers.
func pubsubDeliveryCases() []psCase {
	return []psCase{
		{name: "message-and-pmessage", conns: 3, steps: []psStep{
			psOn(1, "SUBSCRIBE", "news"), psOn(2, "PSUBSCRIBE", "n*"),
			ps("PUBLISH", "news", "hi"), recvPS(1, 1), recvPS(2, 1),
			ps("PUBLISH", "other", "x"), // patterns only count when they match
			ps("PUBLISH", "nope", "x"), recvPS(2, 1),
			// A subscriber to both gets the channel's frame, then the
			// pattern's.
			psOn(1, "PSUBSCRIBE", "*"),
			ps("PUBLISH", "news", "m2"), recvPS(1, 2), recvPS(2, 1),
			ps("PUBLISH", "news", "a\r\nb\x00c"), recvPS(1, 2), recvPS(2, 1),
			ps("PUBLISH", "news", ""), recvPS(1, 2), recvPS(2, 1),
			ps("PUBSUB", "NUMSUB", "news", "n*", "*"), ps("PUBSUB", "NUMPAT"),
		}},
		{name: "receivers-per-pattern", conns: 3, steps: []psStep{
			// A client counts once per matching pattern it holds, and a
			// pattern held by two clients counts twice.
			psOn(1, "PSUBSCRIBE", "a*", "*", "a?c", "[a-z]bc").n(4), psOn(1, "SUBSCRIBE", "abc"),
			psOn(2, "PSUBSCRIBE", "a*"),
			ps("PUBLISH", "abc", "m"),
			recvPS(1, 1),             // the channel's message comes first
			recvPS(1, 4).unordered(), // then the patterns', in hash order
			recvPS(2, 1),
			ps("PUBSUB", "NUMPAT"),
			ps("PUBLISH", "xbc", "m"), recvPS(1, 2).unordered(),
		}},
		{name: "glob-classes-and-escapes", conns: 2, steps: []psStep{
			psOn(1, "PSUBSCRIBE", "n?ws", "[a-z]ews", "n[^x]ws", `n\*s`, `n\?ws`, "[0-9]*", "[^a-m]*", `\[x]`, `a[\]]b`, "[z-a]q").n(10),
			ps("PUBLISH", "news", "1"), recvPS(1, 4).unordered(),
			ps("PUBLISH", "nxws", "2"), recvPS(1, 2).unordered(),
			ps("PUBLISH", "n*s", "3"), recvPS(1, 2).unordered(),
			ps("PUBLISH", "n?ws", "4"), recvPS(1, 4).unordered(),
			ps("PUBLISH", "42", "5"), recvPS(1, 2).unordered(),
			ps("PUBLISH", "[x]", "6"), recvPS(1, 2).unordered(),
			ps("PUBLISH", "a]b", "7"), recvPS(1, 1),
			ps("PUBLISH", "mq", "8"), recvPS(1, 1),
			ps("PUBLISH", "Mews", "9"), recvPS(1, 1),
			ps("PUBLISH", "xq", "10"), recvPS(1, 2).unordered(),
			ps("PUBLISH", "aq", "11"), recvPS(1, 1),
			ps("PUBLISH", "ab", "12"),
		}},
		{name: "kombu-fanout-patterns", conns: 3, steps: []psStep{
			// A worker's gossip and remote control, and an event receiver.
			psOn(1, "PSUBSCRIBE", "/0.celeryev/worker.*", "/0.celery.pidbox").n(2),
			psOn(2, "PSUBSCRIBE", "/0.celeryev/*"),
			ps("PUBLISH", "/0.celeryev/worker.heartbeat", `{"hostname":"w1@h"}`), recvPS(1, 1), recvPS(2, 1),
			ps("PUBLISH", "/0.celeryev/task.multi", `[{"type":"task-succeeded"}]`), recvPS(2, 1),
			ps("PUBLISH", "/0.celery.pidbox", `{"method":"ping"}`), recvPS(1, 1),
			ps("PUBLISH", "/1.celery.pidbox", "other db"),
			// Kombu's cancel: UNSUBSCRIBE of the topic; it stays.
			psOn(1, "UNSUBSCRIBE", "/0.celery.pidbox"),
			ps("PUBLISH", "/0.celery.pidbox", "still"), recvPS(1, 1),
		}},
		{name: "result-backend-channels", conns: 2, steps: []psStep{
			// Celery's ResultConsumer: SUBSCRIBE per task, repeated
			// UNSUBSCRIBEs once the result arrived.
			psOn(1, "SUBSCRIBE", "celery-task-meta-1", "celery-task-meta-2").n(2),
			ps("PUBLISH", "celery-task-meta-2", `{"status":"SUCCESS"}`), recvPS(1, 1),
			psOn(1, "UNSUBSCRIBE", "celery-task-meta-2"),
			psOn(1, "UNSUBSCRIBE", "celery-task-meta-2"),
			psOn(1, "UNSUBSCRIBE", "celery-task-meta-2"),
			ps("PUBLISH", "celery-task-meta-2", "late"),
			ps("PUBLISH", "celery-task-meta-1", "ok"), recvPS(1, 1),
		}},
		{name: "shard-channels", conns: 2, steps: []psStep{
			psOn(1, "SSUBSCRIBE", "s", "t").n(2), psOn(1, "PSUBSCRIBE", "*"),
			ps("SPUBLISH", "s", "m"), recvPS(1, 1),
			// Shard and plain channels are separate namespaces, and
			// patterns never match shard channels.
			ps("PUBLISH", "s", "plain"), recvPS(1, 1),
			ps("SPUBLISH", "nobody", "m"),
			ps("PUBSUB", "SHARDCHANNELS").with(cmpArrayUnordered), ps("PUBSUB", "SHARDCHANNELS", "s*"),
			ps("PUBSUB", "SHARDNUMSUB", "s", "t", "u"), ps("PUBSUB", "CHANNELS"),
		}},
		{name: "resp3-subscriber-keeps-working", conns: 2, steps: []psStep{
			// In RESP3 a subscriber runs any command and gets pushes in
			// between; in RESP2 the commands are refused.
			psOn(1, "SUBSCRIBE", "ch"),
			psOn(1, "SET", "k", "v"), psOn(1, "GET", "k"),
			ps("PUBLISH", "ch", "m1"), recvPS(1, 1),
			psOn(1, "GET", "k"),
			psOn(1, "PUBLISH", "ch", "to-self").n3(2),
		}},
		{name: "channels-are-global", conns: 2, steps: []psStep{
			psOn(1, "SELECT", "3"), psOn(1, "SUBSCRIBE", "global"),
			ps("SELECT", "5"), ps("PUBLISH", "global", "m"), recvPS(1, 1),
			ps("PUBSUB", "NUMSUB", "global"),
		}},
		{name: "publish-in-transaction", conns: 2, steps: []psStep{
			psOn(1, "SUBSCRIBE", "ch"),
			ps("MULTI"), ps("PUBLISH", "ch", "a"), ps("SET", "k", "v"), ps("PUBLISH", "ch", "b"), ps("EXEC"),
			recvPS(1, 2),
			ps("WATCH", "k"), ps("SET", "k", "w"), ps("MULTI"), ps("PUBLISH", "ch", "never"), ps("EXEC"),
			ps("PUBLISH", "ch", "c"), recvPS(1, 1),
		}},
		{name: "shared-channel", conns: 4, steps: []psStep{
			// Subscribers leaving from the middle, the end and the start
			// of a channel's list; the others keep receiving.
			psOn(1, "SUBSCRIBE", "pidbox"), psOn(2, "SUBSCRIBE", "pidbox"), psOn(3, "SUBSCRIBE", "pidbox"),
			ps("PUBLISH", "pidbox", "1"), recvPS(1, 1), recvPS(2, 1), recvPS(3, 1),
			psOn(2, "UNSUBSCRIBE", "pidbox"),
			ps("PUBLISH", "pidbox", "2"), recvPS(1, 1), recvPS(3, 1),
			psOn(3, "UNSUBSCRIBE"), psOn(2, "SUBSCRIBE", "pidbox"),
			ps("PUBLISH", "pidbox", "3"), recvPS(1, 1), recvPS(2, 1),
			psOn(1, "RESET"),
			ps("PUBLISH", "pidbox", "4"), recvPS(2, 1),
			ps("PUBSUB", "NUMSUB", "pidbox"),
		}},
		{name: "quit-while-subscribed", conns: 2, steps: []psStep{
			psOn(1, "SUBSCRIBE", "a"), psOn(1, "QUIT"), closedPS(1),
		}},
		{name: "hello-while-subscribed", conns: 2, steps: []psStep{
			// RESP2 subscribers cannot switch; RESP3 ones can go back to
			// RESP2 and then meet the filter.
			psOn(1, "SUBSCRIBE", "a"),
			psOn(1, "HELLO", "2").with(cmpHello),
			psOn(1, "GET", "k"),
			ps("PUBLISH", "a", "m"), recvPS(1, 1),
			psOn(1, "HELLO", "3").with(cmpHello),
			ps("PUBLISH", "a", "m"), recvPS(1, 1),
		}},
		{name: "introspection", conns: 3, steps: []psStep{
			psOn(1, "SUBSCRIBE", "news", "x", "nothing").n(3), psOn(1, "PSUBSCRIBE", "n*", "n?ws").n(2),
			psOn(1, "SSUBSCRIBE", "news"), psOn(2, "SUBSCRIBE", "news"), psOn(2, "PSUBSCRIBE", "n*"),
			ps("PUBSUB", "CHANNELS").with(cmpArrayUnordered),
			ps("PUBSUB", "CHANNELS", "n*").with(cmpArrayUnordered),
			ps("PUBSUB", "CHANNELS", "[a-x]"), ps("PUBSUB", "CHANNELS", "zz*"),
			ps("PUBSUB", "NUMSUB", "news", "x", "zz", "news", "n*"),
			ps("PUBSUB", "NUMPAT"),
			ps("PUBSUB", "SHARDCHANNELS"), ps("PUBSUB", "SHARDNUMSUB", "news", "x"),
			psOn(1, "UNSUBSCRIBE", "nothing"), ps("PUBSUB", "CHANNELS", "no*"),
			ps("INFO", "stats").with(cmpPubsubInfo),
			ps("CLIENT", "LIST", "ID", "{id1}", "{id2}").with(cmpClients),
			ps("CLIENT", "LIST", "TYPE", "pubsub").with(cmpClients),
			ps("CLIENT", "KILL", "TYPE", "pubsub"),
			closedPS(1), closedPS(2),
		}},
		{name: "client-info-fields", conns: 2, steps: []psStep{
			psOn(1, "SUBSCRIBE", "a", "b").n(2), psOn(1, "PSUBSCRIBE", "p"), psOn(1, "SSUBSCRIBE", "s", "t", "u").n(3),
			ps("CLIENT", "LIST", "ID", "{id1}").with(cmpClients),
			psOn(1, "UNSUBSCRIBE").n(2).unordered(), psOn(1, "PUNSUBSCRIBE"),
			ps("CLIENT", "LIST", "ID", "{id1}").with(cmpClients),
			psOn(1, "SUNSUBSCRIBE").n(3).unordered(),
			ps("CLIENT", "LIST", "ID", "{id1}").with(cmpClients),
			ps("INFO", "stats").with(cmpPubsubInfo),
		}},
		{name: "output-buffer-hard-limit-closes", conns: 2, steps: []psStep{
			// Redis leaves its 16 KB static reply buffer out of the
			// measure, so the message is bigger than that.
			ps("CONFIG", "SET", "client-output-buffer-limit", "pubsub 1 0 0"),
			psOn(1, "SUBSCRIBE", "big"),
			ps("SET", "k", "v"),
			ps("PUBLISH", "big", strings.Repeat("x", 20000)),
			closedPS(1),
			ps("PUBSUB", "NUMSUB", "big"), // gone once released
			ps("DBSIZE"),
		}, cleanup: [][]string{{"CONFIG", "SET", "client-output-buffer-limit", "pubsub 33554432 8388608 60"}}},
	}
}

// TestDiffPubSubBigSubscribe compares a large SUBSCRIBE burst: every
// confirmation's bytes, then the no-argument UNSUBSCRIBE as a multiset.
func TestDiffPubSubBigSubscribe(t *testing.T) {
	tg := defaultTarget(t)
	const n = 20000
	args := []string{"SUBSCRIBE"}
	for i := 0; i < n; i++ {
		args = append(args, fmt.Sprintf("celery-task-meta-%08d", i))
	}
	for _, proto := range protocols {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			x := openX(t, tg, proto, 1)
			t.Cleanup(func() { resetPubSubConns(x) })
			var all [2][]byte
			for side, c := range x.conns[0].c {
				c.Send(args...)
				c.Send(args...)
				var b bytes.Buffer
				for i := 0; i < 2*n; i++ {
					b.Write(c.ReadRaw())
				}
				all[side] = b.Bytes()
			}
			require.True(t, bytes.Equal(all[0], all[1]), "SUBSCRIBE confirmations differ")
			require.Empty(t, runPSStep(x, ps("PUBLISH", "celery-task-meta-00012345", "r").n3(2)))
			require.Empty(t, runPSStep(x, ps("UNSUBSCRIBE").n(n).unordered()))
			suiteStats.steps[proto].Add(3)
		})
	}
}
