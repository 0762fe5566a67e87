package integration

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// reply is one RESP2/RESP3 reply parsed into a tree that keeps the exact
// bytes of every node, so comparisons can be byte-exact while still looking
// inside aggregates (to sort a set, or to pick subcommands out of COMMAND).
type reply struct {
	Kind  byte     // the type byte: + - : $ * % ~ > _ , # ( = !
	Head  string   // the header line after the type byte, without CRLF
	Str   string   // bulk / verbatim / blob error payload
	Null  bool     // $-1, *-1 or _
	Raw   []byte   // the whole reply, exactly as received
	Elems []*reply // aggregate children; a map alternates key and value
}

func parseReply(b []byte) (*reply, error) {
	r, n, err := parseReplyAt(b, 0, 0)
	if err != nil {
		return nil, err
	}
	if n != len(b) {
		return nil, fmt.Errorf("%d trailing bytes after reply", len(b)-n)
	}
	return r, nil
}

func parseReplyAt(b []byte, off, depth int) (*reply, int, error) {
	if depth > 100 {
		return nil, 0, fmt.Errorf("reply nested too deeply")
	}
	end := bytes.Index(b[off:], []byte("\r\n"))
	if end < 1 {
		return nil, 0, fmt.Errorf("no header line at offset %d", off)
	}
	r := &reply{Kind: b[off], Head: string(b[off+1 : off+end])}
	next := off + end + 2
	switch r.Kind {
	case '+', '-', ':', ',', '#', '(':
	case '_':
		r.Null = true
	case '$', '=', '!':
		n, err := strconv.Atoi(r.Head)
		if err != nil {
			return nil, 0, fmt.Errorf("bad length %q", r.Head)
		}
		if n < 0 {
			r.Null = true
			break
		}
		if next+n+2 > len(b) {
			return nil, 0, fmt.Errorf("short bulk")
		}
		r.Str = string(b[next : next+n])
		next += n + 2
	case '*', '~', '>', '%', '|':
		n, err := strconv.Atoi(r.Head)
		if err != nil {
			return nil, 0, fmt.Errorf("bad count %q", r.Head)
		}
		if n < 0 {
			r.Null = true
			break
		}
		if r.Kind == '%' || r.Kind == '|' {
			n *= 2
		}
		for i := 0; i < n; i++ {
			e, after, err := parseReplyAt(b, next, depth+1)
			if err != nil {
				return nil, 0, err
			}
			r.Elems = append(r.Elems, e)
			next = after
		}
	default:
		return nil, 0, fmt.Errorf("unknown type byte %q", r.Kind)
	}
	r.Raw = b[off:next]
	return r, next, nil
}

// isAggregate reports whether r holds elements (array, set, map, push).
func (r *reply) isAggregate() bool {
	return !r.Null && strings.IndexByte("*~%>", r.Kind) >= 0
}

// mapPairs returns a map reply's key/value pairs; in RESP2 a map arrives
// as a flat array, which is read the same way.
func (r *reply) mapPairs() [][2]*reply {
	var out [][2]*reply
	for i := 0; i+1 < len(r.Elems); i += 2 {
		out = append(out, [2]*reply{r.Elems[i], r.Elems[i+1]})
	}
	return out
}

// mode says how a step's reply is compared with the oracle's.
type mode int

const (
	// modeExact compares the reply bytes. The default, and the rule.
	modeExact mode = iota
	// modeUnordered compares an array/set reply as a multiset of its
	// elements (each compared byte for byte): KEYS and SMEMBERS return
	// hash-table order, which differs between implementations.
	modeUnordered
	// modeTTL accepts an integer within ±1 of the oracle's (TTL,
	// EXPIRETIME): the two servers run a step a few milliseconds apart and
	// round to seconds. Negative replies (-1 no TTL, -2 no key) are exact.
	modeTTL
	// modePTTL is modeTTL for milliseconds: ±50 ms.
	modePTTL
	// modeShape compares only the RESP types, nullness and aggregate sizes
	// (RANDOMKEY over several keys, TIME, OBJECT IDLETIME).
	modeShape
	// modeScan runs a whole SCAN iteration on each server (the step's argv
	// is the first call; argv[1] is replaced by each returned cursor) and
	// compares the sets of keys returned. Cursor values are an
	// implementation detail of the hash table and legitimately differ.
	modeScan
	// modeUnorderedPairs is modeUnordered over consecutive pairs kept
	// together: HGETALL in RESP2 (a flat field, value, ... array) and any
	// reply that is a map in RESP3 (a RESP3 map is always compared this
	// way, in modeUnordered too). Pairing matters: {a:1, b:2} is not
	// {a:2, b:1}.
	modeUnorderedPairs
)

func (m mode) String() string {
	return [...]string{"exact", "unordered", "ttl±1", "pttl±50", "shape", "scan", "unordered pairs"}[m]
}

// compareReplies reports "" when got matches want under m, otherwise why
// not. modeScan is not handled here (it needs the connections).
func compareReplies(m mode, got, want []byte) string {
	if bytes.Equal(got, want) {
		return ""
	}
	if m == modeExact || m == modeScan {
		return "bytes differ"
	}
	g, err := parseReply(got)
	if err != nil {
		return "celerity reply does not parse: " + err.Error()
	}
	w, err := parseReply(want)
	if err != nil {
		return "oracle reply does not parse: " + err.Error()
	}
	switch m {
	case modeUnordered, modeUnorderedPairs:
		if !g.isAggregate() || !w.isAggregate() || g.Kind != w.Kind {
			return "bytes differ"
		}
		if g.Head != w.Head {
			return "element counts differ"
		}
		group := 1
		if m == modeUnorderedPairs || w.Kind == '%' {
			group = 2
		}
		if !slices.Equal(sortedRaw(g.Elems, group), sortedRaw(w.Elems, group)) {
			return "element multisets differ"
		}
		return ""
	case modeTTL, modePTTL:
		tol := int64(1)
		if m == modePTTL {
			tol = 50
		}
		if g.Kind != ':' || w.Kind != ':' {
			return "bytes differ"
		}
		gv, _ := strconv.ParseInt(g.Head, 10, 64)
		wv, _ := strconv.ParseInt(w.Head, 10, 64)
		if gv < 0 || wv < 0 {
			return "bytes differ (negative TTL replies are exact)"
		}
		if d := gv - wv; d < -tol || d > tol {
			return fmt.Sprintf("differ by %d, more than ±%d", d, tol)
		}
		return ""
	case modeShape:
		return compareShape(g, w, "reply")
	}
	return "bytes differ"
}

// sortedRaw returns the raw bytes of elems, taken group elements at a
// time (2 for pairs), sorted.
func sortedRaw(elems []*reply, group int) []string {
	out := make([]string, 0, len(elems)/group+1)
	for i := 0; i < len(elems); i += group {
		var b []byte
		for _, e := range elems[i:min(i+group, len(elems))] {
			b = append(b, e.Raw...)
		}
		out = append(out, string(b))
	}
	slices.Sort(out)
	return out
}

func compareShape(g, w *reply, path string) string {
	switch {
	case g.Kind != w.Kind:
		return fmt.Sprintf("%s: type %q, oracle %q", path, g.Kind, w.Kind)
	case g.Null != w.Null:
		return fmt.Sprintf("%s: null %v, oracle null %v", path, g.Null, w.Null)
	case g.Kind == '-' || g.Kind == '!':
		if g.Str != w.Str || g.Head != w.Head {
			return path + ": errors differ"
		}
	case len(g.Elems) != len(w.Elems):
		return fmt.Sprintf("%s: %d elements, oracle %d", path, len(g.Elems), len(w.Elems))
	}
	for i := range g.Elems {
		if why := compareShape(g.Elems[i], w.Elems[i], fmt.Sprintf("%s[%d]", path, i)); why != "" {
			return why
		}
	}
	return ""
}

// showArgs renders argv for a failure message, shortening huge arguments.
func showArgs(args []string) string {
	parts := make([]string, len(args))
	for i, a := range args {
		if len(a) > 80 {
			parts[i] = fmt.Sprintf("%q...(%d bytes)", a[:40], len(a))
		} else {
			parts[i] = strconv.Quote(a)
		}
	}
	return strings.Join(parts, " ")
}

// showReply quotes a reply for a failure message, shortening huge ones.
func showReply(b []byte) string {
	const max = 3000
	if len(b) > max {
		return fmt.Sprintf("%q...(%d bytes)", b[:max], len(b))
	}
	return fmt.Sprintf("%q", b)
}
