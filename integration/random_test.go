package integration

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/resp/resptest"
)

// randomCommands is how many commands one seed generates.
const randomCommands = 2000

// fixedSeeds run on every `go test`; DIFF_SEEDS=n adds n time-derived
// seeds (printed, so a failure can be replayed with DIFF_SEED=<seed>).
var fixedSeeds = []uint64{1, 2, 3, 4, 5}

func TestDiffRandom(t *testing.T) {
	needOracle(t)
	seeds := slices.Clone(fixedSeeds)
	if s := os.Getenv("DIFF_SEED"); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		require.NoError(t, err, "DIFF_SEED")
		seeds = []uint64{seed}
	}
	if s := os.Getenv("DIFF_SEEDS"); s != "" {
		n, err := strconv.Atoi(s)
		require.NoError(t, err, "DIFF_SEEDS")
		base := uint64(time.Now().UnixNano())
		for i := 0; i < n; i++ {
			seeds = append(seeds, base+uint64(i))
		}
	}
	srv := resptest.NewServer(t)
	for _, seed := range seeds {
		cmds := newGenerator(seed).generate(randomCommands)
		for _, proto := range protocols {
			t.Run(fmt.Sprintf("seed=%d/RESP%d", seed, proto), func(t *testing.T) {
				r := replay(t, srv.Addr(), proto, cmds)
				suiteStats.random.Add(int64(r.compared))
				if r.failed() {
					t.Errorf("seed %d, RESP%d: %s", seed, proto, shrinkReport(t, srv.Addr(), proto, cmds, r))
				}
			})
		}
	}
}

// replayResult is the outcome of running a command sequence on both servers.
type replayResult struct {
	at       int    // index of the first mismatching command; len(cmds) for the final dataset; -1 if none
	name     string // the mismatching command's name (or "dataset")
	why      string
	compared int
}

func (r replayResult) failed() bool { return r.at >= 0 }

// replay runs cmds on fresh connections from empty datasets, stopping at
// the first mismatch, then compares the whole dataset.
func replay(tb testing.TB, celAddr string, proto int, cmds []step) replayResult {
	tb.Helper()
	p := openPair(tb, celAddr, proto)
	defer p.close()
	for i, st := range cmds {
		if why := p.run(st); why != "" {
			return replayResult{at: i, name: strings.ToUpper(st.args[0]), why: why, compared: i}
		}
	}
	if why := p.compareDataset(); why != "" {
		return replayResult{at: len(cmds), name: "dataset", why: why, compared: len(cmds)}
	}
	return replayResult{at: -1, compared: len(cmds)}
}

func (p *pair) close() {
	p.cel.NetConn().Close()
	p.ora.NetConn().Close()
}

// compareDataset compares every database key by key: the key sets, and
// for each key its TYPE, value, PTTL (±50 ms) and OBJECT ENCODING.
func (p *pair) compareDataset() string {
	p.tb.Helper()
	var errs []string
	for db := 0; db < 16; db++ {
		sel := []string{"SELECT", itoa(db)}
		if why := p.run(do(sel...)); why != "" {
			return why
		}
		keys := do("KEYS", "*")
		got, want := p.both(keys.args)
		if why := compareReplies(modeUnordered, got, want); why != "" {
			errs = append(errs, fmt.Sprintf("db %d: %s: %s\n  celerity: %s\n  oracle:   %s", db, showArgs(keys.args), why, showReply(got), showReply(want)))
			continue
		}
		r, err := parseReply(want)
		if err != nil {
			return err.Error()
		}
		for _, k := range r.Elems {
			typ := strings.TrimSpace(strings.TrimPrefix(string(p.ora.DoRaw("TYPE", k.Str)), "+"))
			for _, st := range []step{do("TYPE", k.Str), readValue(typ, k.Str), pttl("PTTL", k.Str), do("OBJECT", "ENCODING", k.Str)} {
				if why := p.run(st); why != "" {
					errs = append(errs, fmt.Sprintf("db %d: %s", db, why))
				}
			}
		}
	}
	p.run(do("SELECT", "0"))
	return strings.Join(errs, "\n")
}

// readValue is the step that reads a whole value of the given type.
func readValue(typ, key string) step {
	switch typ {
	case "list":
		return do("LRANGE", key, "0", "-1")
	case "hash":
		return unorderedPairs("HGETALL", key) // field order is the hash table's
	case "set":
		return unordered("SMEMBERS", key)
	case "zset":
		return do("ZRANGE", key, "0", "-1", "WITHSCORES")
	}
	return do("GET", key)
}

// shrinkReport minimizes a failing sequence and renders the result.
func shrinkReport(tb testing.TB, celAddr string, proto int, cmds []step, first replayResult) string {
	tb.Helper()
	last := first
	seq, exhausted := ddmin(cmds[:min(first.at+1, len(cmds))], 400, func(cand []step) (int, bool) {
		r := replay(tb, celAddr, proto, cand)
		// Keep chasing the same bug: the same command (or the dataset) must
		// be the one that disagrees.
		if !r.failed() || r.name != first.name {
			return 0, false
		}
		last = r
		return r.at, true
	})
	var b strings.Builder
	fmt.Fprintf(&b, "first mismatch at command %d of %d; minimal sequence (%d commands", first.at+1, len(cmds), len(seq))
	if exhausted {
		b.WriteString(", shrink budget exhausted")
	}
	b.WriteString("):\n")
	for i, st := range seq {
		fmt.Fprintf(&b, "  %3d  %s\n", i+1, showArgs(st.args))
	}
	fmt.Fprintf(&b, "mismatch: %s", last.why)
	return b.String()
}

// ddmin shrinks seq by delta debugging: it removes chunks (halves, then
// quarters, ... then single elements) as long as fails still holds, and
// returns a sequence from which no single element can be removed. fails
// reports the index of the failing element (the sequence is cut after it;
// len(cand) when the failure is only visible at the end). At most budget
// candidates are tried; exhausted reports running out.
func ddmin[T any](seq []T, budget int, fails func(cand []T) (at int, ok bool)) ([]T, bool) {
	seq = slices.Clone(seq)
	for n := 2; len(seq) >= 2; {
		chunk := (len(seq) + n - 1) / n
		reduced := false
		for start := 0; start < len(seq); start += chunk {
			if budget == 0 {
				return seq, true
			}
			budget--
			cand := append(slices.Clone(seq[:start]), seq[min(start+chunk, len(seq)):]...)
			if at, ok := fails(cand); ok {
				seq, reduced = cand[:min(at+1, len(cand))], true
				break
			}
		}
		switch {
		case reduced:
			n = min(max(n-1, 2), max(len(seq), 2))
		case chunk == 1:
			return seq, false // every single removal was tried
		default:
			n = min(n*2, len(seq))
		}
	}
	return seq, false
}

// generator produces random commands over a small key space, so they
// collide: strings, counters, ranges, TTLs, renames, copies across three
// databases. Every argument list is deterministic given the seed.
//
// Timing rules keep both servers deterministic: relative TTLs are between
// 100 s and 5000 s; absolute ones are either in the past or at least
// 20000 s ahead; GT/LT are only used with absolute times, so a comparison
// never depends on the milliseconds between the two servers' runs.
type generator struct {
	r       *rand.Rand
	futureS []string // absolute seconds, far ahead
	futureM []string // absolute milliseconds, far ahead
}

func newGenerator(seed uint64) *generator {
	g := &generator{r: rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))}
	base := time.Now().Unix() + 20000
	for i := int64(0); i < 3; i++ {
		g.futureS = append(g.futureS, strconv.FormatInt(base+1000*i, 10))
		g.futureM = append(g.futureM, strconv.FormatInt((base+1000*i)*1000+777*i, 10))
	}
	return g
}

func (g *generator) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }
func (g *generator) chance(p float64) bool    { return g.r.Float64() < p }

var (
	randKeys   = []string{"a", "b", "c", "d", "k:1", "k:2"}
	randValues = []string{"", "0", "1", "-1", "7", "10", "9999", "10000", "123", "-123", "9223372036854775807",
		"-9223372036854775808", "abc", "3.5", "1e3", " 1", "01", "hello world", strings.Repeat("a", 44),
		strings.Repeat("b", 45), "0.1", "inf"}
)

func (g *generator) key() string   { return g.pick(randKeys...) }
func (g *generator) value() string { return g.pick(randValues...) }
func (g *generator) db() string    { return g.pick("0", "1", "2", "0", "1", "2", "16", "-1", "x") }

// relExpire returns a relative expiry option pair (or a bad one).
func (g *generator) relExpire() []string {
	if g.chance(0.5) {
		return []string{g.pick("EX", "ex"), g.pick("100", "500", "1000", "5000", "100", "0", "-1", "abc", "9223372036854775807")}
	}
	return []string{"PX", g.pick("100000", "500000", "2500000", "0", "-5", "9223372036854775807")}
}

// absExpire returns an absolute expiry option pair: far future or past.
func (g *generator) absExpire() []string {
	if g.chance(0.5) {
		return []string{"EXAT", g.pick(append(slices.Clone(g.futureS), "1", "0")...)}
	}
	return []string{"PXAT", g.pick(append(slices.Clone(g.futureM), "1", "-1")...)}
}

func (g *generator) generate(n int) []step {
	out := make([]step, 0, n)
	for len(out) < n {
		out = append(out, g.command())
	}
	return out
}

// command returns one random command with its comparison mode.
func (g *generator) command() step {
	k := g.key()
	switch g.r.IntN(41) {
	case 0, 1, 2:
		args := []string{"SET", k, g.value()}
		if g.chance(0.3) {
			args = append(args, g.pick("NX", "XX", "nx"))
		}
		if g.chance(0.2) {
			args = append(args, "GET")
		}
		switch g.r.IntN(6) {
		case 0:
			args = append(args, g.relExpire()...)
		case 1:
			args = append(args, g.absExpire()...)
		case 2:
			args = append(args, "KEEPTTL")
		}
		if g.chance(0.03) {
			args = append(args, g.pick("FOO", "EX", "PERSIST"))
		}
		st := do(args...)
		if slices.Contains(args, "EXAT") || slices.Contains(args, "PXAT") {
			// Redis 7.0 stores a SET whose EXAT/PXAT is past as a key that
			// is already expired but not yet reclaimed: DBSIZE counts it
			// until active expiry (timing) or an access removes it, and
			// RANDOMKEY may or may not pick it. Reading it at once
			// reclaims it on both sides, keeping the run deterministic.
			st.follow = &step{args: []string{"EXISTS", k}}
		}
		return st
	case 3:
		return do("GET", k)
	case 4:
		return do("MGET", k, g.key(), g.key())
	case 5:
		if g.chance(0.5) {
			return do("MSET", k, g.value(), g.key(), g.value())
		}
		return do("MSETNX", k, g.value(), g.key(), g.value())
	case 6:
		switch g.r.IntN(4) {
		case 0:
			return do("SETNX", k, g.value())
		case 1:
			return do("SETEX", k, g.pick("100", "1000", "0", "-1", "x"), g.value())
		case 2:
			return do("PSETEX", k, g.pick("100000", "0", "x"), g.value())
		}
		return do("GETSET", k, g.value())
	case 7:
		return do("GETDEL", k)
	case 8:
		args := []string{"GETEX", k}
		switch g.r.IntN(5) {
		case 0:
			args = append(args, g.relExpire()...)
		case 1:
			args = append(args, g.absExpire()...)
		case 2:
			args = append(args, "PERSIST")
		case 3:
			if g.chance(0.2) {
				args = append(args, g.pick("KEEPTTL", "PERSIST", "EX"))
			}
		}
		return do(args...)
	case 9, 10:
		return do(g.pick("INCR", "DECR"), k)
	case 11:
		return do(g.pick("INCRBY", "DECRBY"), k, g.pick("1", "-1", "0", "5", "100", "-100", "9223372036854775807", "-9223372036854775808", "abc", "1.5"))
	case 12, 13:
		return do("INCRBYFLOAT", k, g.pick("1", "0.1", "-0.5", "1.5e3", "1e300", "abc", "inf", "0x10", "-3", "2.5"))
	case 14:
		return do("APPEND", k, g.pick("", "x", "12", "hello", strings.Repeat("z", 30)))
	case 15:
		return do("STRLEN", k)
	case 16:
		r := []string{"-100", "-5", "-1", "0", "1", "3", "10", "100"}
		return do(g.pick("GETRANGE", "SUBSTR"), k, g.pick(r...), g.pick(r...))
	case 17:
		return do("SETRANGE", k, g.pick("0", "1", "3", "10", "50", "-1", "abc"), g.pick("", "x", "yy", "123"))
	case 18:
		return do(g.pick("DEL", "UNLINK", "EXISTS", "TOUCH"), k, g.key())
	case 19:
		return do("TYPE", k)
	case 20, 21:
		args := []string{g.pick("EXPIRE", "PEXPIRE"), k}
		if args[0] == "EXPIRE" {
			args = append(args, g.pick("100", "500", "1000", "5000", "0", "-1", "abc"))
		} else {
			args = append(args, g.pick("100000", "500000", "2500000", "0", "-5"))
		}
		if g.chance(0.3) {
			args = append(args, g.pick("NX", "XX"))
		}
		if g.chance(0.03) {
			// Errors only: GT/LT against a relative TTL could tie.
			args = append(args, g.pick("FOO", "GT", "LT")+" ", "NX")
		}
		return do(args...)
	case 22:
		args := []string{"EXPIREAT", k, g.pick(append(slices.Clone(g.futureS), "1", "-5")...)}
		if g.chance(0.5) {
			args = []string{"PEXPIREAT", k, g.pick(append(slices.Clone(g.futureM), "1")...)}
		}
		if g.chance(0.6) {
			args = append(args, g.pick("NX", "XX", "GT", "LT", "gt", "lt"))
		}
		if g.chance(0.05) {
			args = append(args, g.pick("NX", "LT"))
		}
		return do(args...)
	case 23:
		return ttl("TTL", k)
	case 24:
		return pttl("PTTL", k)
	case 25:
		if g.chance(0.5) {
			return ttl("EXPIRETIME", k)
		}
		return pttl("PEXPIRETIME", k)
	case 26:
		return do("PERSIST", k)
	case 27:
		return unordered("KEYS", g.pick("*", "a*", "?", "[a-c]", "[^a]*", "k:*", "*1", "k:[12]"))
	case 28:
		args := []string{"SCAN", "0"}
		if g.chance(0.5) {
			args = append(args, "MATCH", g.pick("*", "k:*", "?", "[ab]"))
		}
		if g.chance(0.5) {
			args = append(args, "COUNT", g.pick("1", "2", "10", "100"))
		}
		if g.chance(0.3) {
			args = append(args, "TYPE", g.pick("string", "list"))
		}
		return scanAll(args...)
	case 29:
		// Which key RANDOMKEY returns is random on both servers.
		return shape("RANDOMKEY")
	case 30, 31:
		return do(g.pick("RENAME", "RENAMENX"), k, g.key())
	case 32:
		args := []string{"COPY", k, g.key()}
		if g.chance(0.4) {
			args = append(args, "DB", g.db())
		}
		if g.chance(0.4) {
			args = append(args, "REPLACE")
		}
		return do(args...)
	case 33:
		return do("MOVE", k, g.db())
	case 34:
		if g.chance(0.5) {
			return do("SWAPDB", g.db(), g.db())
		}
		return do("SELECT", g.pick("0", "1", "2"))
	case 35:
		return do("DBSIZE")
	case 36:
		if g.chance(0.1) {
			return do("FLUSHALL", g.pick("SYNC", "ASYNC"))
		}
		if g.chance(0.2) {
			return do("FLUSHDB")
		}
		return do("SELECT", g.pick("0", "1", "2"))
	case 37:
		return do("OBJECT", "ENCODING", k)
	case 38:
		return do("OBJECT", "REFCOUNT", k)
	case 39:
		// A few lists, so every string command also meets WRONGTYPE and
		// the generic ones move, copy and expire a non-string value.
		if g.chance(0.5) {
			return do("RPUSH", k, g.value())
		}
		return do("LPOP", k)
	default:
		if g.chance(0.5) {
			// Idle time is wall-clock seconds: shape only.
			return shape("OBJECT", "IDLETIME", k)
		}
		return do("OBJECT", "FREQ", k)
	}
}

// runRandomSeeds replays, for each seed and protocol, the sequence generate
// makes on both servers, comparing every reply and the final dataset, and
// shrinks a failing sequence for the report. The per-type randomized tests
// (lists, hashes and sets) share it.
func runRandomSeeds(t *testing.T, seeds []uint64, generate func(seed uint64) []step) {
	t.Helper()
	needOracle(t)
	srv := resptest.NewServer(t)
	for _, seed := range seeds {
		cmds := generate(seed)
		for _, proto := range protocols {
			t.Run(fmt.Sprintf("seed=%d/RESP%d", seed, proto), func(t *testing.T) {
				r := replay(t, srv.Addr(), proto, cmds)
				suiteStats.random.Add(int64(r.compared))
				if r.failed() {
					t.Errorf("seed %d, RESP%d: %s", seed, proto, shrinkReport(t, srv.Addr(), proto, cmds, r))
				}
			})
		}
	}
}
