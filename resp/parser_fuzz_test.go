package resp

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/resp/conffile"
)

// Fuzz tests of the request parser (ARCHITECTURE.md §8.3). The seed corpora
// live in testdata/fuzz/<FuzzName>/ and run as plain tests; large seeds are
// built in code with f.Add.
//
// The harness drives the parser exactly as serveConn does: prepareRead makes
// room, one "read" copies as much of the pending input as fits into
// rbuf[rend:], then next runs until it needs more data or fails. Invariants
// checked on every read and every parsed command are documented on
// runParser and checkParsedCommand.

// parseOpts is the connection state the parser depends on.
type parseOpts struct {
	auth    bool  // authRequired: the client has not authenticated yet
	maxBulk int64 // proto-max-bulk-len
}

// parseConfigs are the parser configurations every fuzz input runs under:
// an authenticated client with Redis's default bulk limit, an
// unauthenticated one (10 arguments, 16 KB bulks), and a tiny
// proto-max-bulk-len so the "invalid bulk length" path is cheap to reach.
var parseConfigs = []parseOpts{
	{auth: false, maxBulk: 512 << 20},
	{auth: true, maxBulk: 512 << 20},
	{auth: false, maxBulk: 7},
}

// parseRun is what one feeding of an input produced.
type parseRun struct {
	cmds [][][]byte // the commands, copied out of the read buffer
	err  string     // the error that stopped parsing, "" if none
	rest int        // bytes fed but not part of a complete command (no error)
}

// runParser feeds data to a fresh parser in reads no longer than the
// chunk lengths given (a chunk that does not fit the buffer takes several
// reads, as on a socket) and returns what it parsed. It checks, at every
// read:
//   - prepareRead always leaves room for at least one byte;
//   - the buffer never grows beyond one doubling of the bytes fed so far:
//     nothing is allocated from a length the client merely claims
//     ($2000000000, *3000000000);
//   - the buffer from the start of the pending command to rend mirrors the
//     input stream at the same offsets (compaction and rewinding lose
//     nothing);
//
// and every parsed command with checkParsedCommand.
func runParser(t *testing.T, data []byte, chunks []int, o parseOpts) parseRun {
	t.Helper()
	var p parser
	p.bulk = -1 // as newClient sets it
	var run parseRun
	// base is the stream offset of rbuf[0]; fed the number of bytes read.
	// The checks on this path avoid testify: they run for every byte of
	// the byte-by-byte feeding.
	base, fed := 0, 0
	for _, n := range chunks {
		chunk := data[fed : fed+n]
		for len(chunk) > 0 {
			before := p.ppos
			if err := p.prepareRead(1 << 30); err != nil {
				run.err = err.Error()
				return run
			}
			// prepareRead only ever shifts the window: rewinding an
			// empty buffer or moving the pending command to the front.
			base += before - p.ppos
			if c := cap(p.rbuf); c > max(ioBufLen, 2*fed) {
				t.Fatalf("read buffer of %d bytes after only %d bytes were fed", c, fed)
			}
			m := copy(p.rbuf[p.rend:], chunk)
			if m == 0 {
				t.Fatalf("prepareRead left no room to read into (rend %d, len %d)", p.rend, len(p.rbuf))
			}
			p.rend += m
			fed += m
			chunk = chunk[m:]
			if base < 0 || base+p.rend != fed || p.pcmd > p.ppos || p.ppos > p.rend {
				t.Fatalf("inconsistent window: base %d, pcmd %d, ppos %d, rend %d, %d bytes fed", base, p.pcmd, p.ppos, p.rend, fed)
			}
			if !bytes.Equal(data[base+p.pcmd:fed], p.rbuf[p.pcmd:p.rend]) {
				t.Fatalf("read buffer %s does not mirror the input %s from the pending command on",
					short(p.rbuf[p.pcmd:p.rend]), short(data[base+p.pcmd:fed]))
			}
			for {
				ok, err := p.next(o.auth, o.maxBulk)
				if err != nil {
					if _, isProto := err.(*protocolError); !isProto {
						t.Fatalf("next returned a non-protocol error %v", err)
					}
					run.err = err.Error()
					return run
				}
				if !ok {
					break
				}
				checkParsedCommand(t, data, base, &p, o)
				argv := make([][]byte, len(p.argv))
				for i, a := range p.argv {
					argv[i] = bytes.Clone(a)
				}
				run.cmds = append(run.cmds, argv)
			}
		}
	}
	run.rest = fed - (base + p.pcmd)
	return run
}

// checkParsedCommand verifies the command next just returned against the
// raw bytes it consumed, data[base+pcmd : base+ppos]:
//   - a multibulk request is exactly "*<n>\r?" followed, for each argument,
//     by "$<len>\r?<arg>??" (? is the byte after a CR, which Redis skips
//     without checking it), with canonical decimal counts; each argument
//     aliases the read buffer at precisely that position (it is a
//     sub-slice of the input, not a copy or a neighbour) and has no spare
//     capacity, so a handler's append cannot clobber the next argument;
//   - an unauthenticated client never gets a multibulk command with more
//     than 10 arguments or an argument longer than 16384 bytes, and no
//     argument exceeds proto-max-bulk-len;
//   - an inline request is one line without NUL, ended by LF and an
//     optional CR, and its arguments are conffile.SplitArgs of that line.
func checkParsedCommand(t *testing.T, data []byte, base int, p *parser, o parseOpts) {
	t.Helper()
	raw := data[base+p.pcmd : base+p.ppos]
	if len(p.argv) == 0 || len(raw) == 0 {
		t.Fatalf("parser returned the empty command %s from %s", shortArgv(p.argv), short(raw))
	}
	if raw[0] != '*' {
		if raw[len(raw)-1] != '\n' || bytes.IndexByte(raw, '\n') != len(raw)-1 || bytes.IndexByte(raw, 0) >= 0 {
			t.Fatalf("inline command %s is not one line ended by LF, without NUL", short(raw))
		}
		line := bytes.TrimSuffix(raw[:len(raw)-1], []byte("\r"))
		words, err := conffile.SplitArgs(string(line))
		if err != nil {
			t.Fatalf("inline command %s: %v", short(raw), err)
		}
		requireSameCmds(t, [][][]byte{argvBytes(words)}, [][][]byte{p.argv}, "inline command")
		return
	}
	if o.auth && len(p.argv) > unauthMaxArgs {
		t.Fatalf("unauthenticated command with %d arguments", len(p.argv))
	}
	pos := headerEnd(t, raw, 0, '*', len(p.argv))
	rbufStart := uintptr(unsafe.Pointer(unsafe.SliceData(p.rbuf)))
	for i, a := range p.argv {
		switch {
		case len(a) != cap(a):
			t.Fatalf("argument %d has spare capacity (len %d, cap %d)", i, len(a), cap(a))
		case int64(len(a)) > o.maxBulk:
			t.Fatalf("argument %d of %d bytes beyond proto-max-bulk-len %d", i, len(a), o.maxBulk)
		case o.auth && len(a) > unauthMaxBulk:
			t.Fatalf("unauthenticated argument %d of %d bytes", i, len(a))
		}
		pos = headerEnd(t, raw, pos, '$', len(a))
		if len(a) > 0 {
			if off := int(uintptr(unsafe.Pointer(unsafe.SliceData(a))) - rbufStart); off != p.pcmd+pos {
				t.Fatalf("argument %d is at offset %d of the read buffer, its bytes at %d", i, off, p.pcmd+pos)
			}
		}
		if pos+len(a)+2 > len(raw) || !bytes.Equal(raw[pos:pos+len(a)], a) {
			t.Fatalf("argument %d is %s, not the input at %d of %s", i, short(a), pos, short(raw))
		}
		pos += len(a) + 2
	}
	if pos != len(raw) {
		t.Fatalf("command %s consumed %d bytes, its arguments end at %d", short(raw), len(raw), pos)
	}
}

// headerEnd checks that raw[pos:] starts with the header line "<c><n>\r"
// plus the byte after the CR, and returns the offset after them.
func headerEnd(t *testing.T, raw []byte, pos int, c byte, n int) int {
	t.Helper()
	var h []byte
	h = append(h, c)
	h = strconv.AppendInt(h, int64(n), 10)
	h = append(h, '\r')
	if !bytes.HasPrefix(raw[pos:], h) || len(raw) <= pos+len(h) {
		t.Fatalf("expected header %q at %d of %s", h, pos, short(raw))
	}
	return pos + len(h) + 1
}

// sizeLimited reports the errors whose occurrence depends on read
// boundaries: Redis (and Celerity) give up on a header or inline line once
// more than 64 KB are buffered without its terminator, so a line that is
// complete in one read can be "too big" when it arrives in pieces.
func sizeLimited(r parseRun) bool { return strings.Contains(r.err, "too big") }

// requireSameParse checks that two feedings of the same input agree:
// same commands, same error, same unconsumed tail. The one exception is
// sizeLimited: a run stopped by it must have parsed a prefix of what the
// other run parsed (parsing is the same up to that point).
func requireSameParse(t *testing.T, want, got parseRun, how string) {
	t.Helper()
	switch {
	case !sizeLimited(want) && !sizeLimited(got):
		require.Equal(t, want.err, got.err, "error (%s)", how)
		requireSameCmds(t, want.cmds, got.cmds, how)
		require.Equal(t, want.rest, got.rest, "unconsumed bytes (%s)", how)
	case sizeLimited(got) && (!sizeLimited(want) || len(got.cmds) <= len(want.cmds)):
		requirePrefix(t, got.cmds, want.cmds, how)
	default:
		requirePrefix(t, want.cmds, got.cmds, how)
	}
}

func requirePrefix(t *testing.T, prefix, full [][][]byte, how string) {
	t.Helper()
	require.LessOrEqual(t, len(prefix), len(full), "commands (%s)", how)
	requireSameCmds(t, full[:len(prefix)], prefix, how)
}

// requireSameCmds compares command lists, reporting the first difference
// briefly: testify's diff of large values takes minutes.
func requireSameCmds(t *testing.T, want, got [][][]byte, how string) {
	t.Helper()
	for i := range min(len(want), len(got)) {
		same := len(want[i]) == len(got[i])
		for j := 0; same && j < len(want[i]); j++ {
			same = bytes.Equal(want[i][j], got[i][j])
		}
		if !same {
			t.Fatalf("%s: command %d is %s, want %s", how, i, shortArgv(got[i]), shortArgv(want[i]))
		}
	}
	if len(want) != len(got) {
		t.Fatalf("%s: %d commands, want %d", how, len(got), len(want))
	}
}

// short renders b for a failure message, truncated.
func short(b []byte) string {
	if len(b) > 120 {
		return fmt.Sprintf("%q... (%d bytes)", b[:120], len(b))
	}
	return fmt.Sprintf("%q", b)
}

func shortArgv(argv [][]byte) string {
	parts := make([]string, len(argv))
	for i, a := range argv {
		parts[i] = short(a)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func argvBytes(words []string) [][]byte {
	argv := make([][]byte, len(words))
	for i, w := range words {
		argv[i] = []byte(w)
	}
	return argv
}

// chunkLens splits n bytes into reads of size bytes (the last one shorter).
func chunkLens(n, size int) []int {
	var c []int
	for n > 0 {
		k := min(n, size)
		c = append(c, k)
		n -= k
	}
	return c
}

// FuzzParserSplit checks that the parser is a pure function of the byte
// stream: feeding data in one piece, in two pieces split at k, and (for
// short inputs) one byte at a time yields the same commands, error and
// unconsumed tail, under every configuration of parseConfigs. runParser and
// checkParsedCommand add the per-read and per-command invariants.
//
// Inputs derived from the large seeds are slow to minimize; when fuzzing,
// pass -fuzzminimizetime=5s or so.
func FuzzParserSplit(f *testing.F) {
	// Inputs too large to keep readable in testdata: a 70 KB inline line
	// without CR or LF (too big inline request), the same line terminated
	// (accepted only when enough of it arrives in one read: read-boundary
	// dependent, as in Redis), a 70 KB multibulk count line, and a 70 KB
	// bulk followed by a command.
	long := bytes.Repeat([]byte("a"), 70*1024)
	f.Add(long, uint(65*1024))
	f.Add(append(append([]byte{}, long...), "\r\nPING\r\n"...), uint(65*1024+1))
	f.Add(append([]byte("*1"), long...), uint(3))
	f.Add(append(append([]byte("*2\r\n$3\r\nSET\r\n$71680\r\n"), long...), "ab\r\n*1\r\n$4\r\nPING\r\n"...), uint(16*1024))
	f.Fuzz(func(t *testing.T, data []byte, k uint) {
		cut := int(k % uint(len(data)+1))
		for _, o := range parseConfigs {
			whole := runParser(t, data, []int{len(data)}, o)
			split := runParser(t, data, []int{cut, len(data) - cut}, o)
			requireSameParse(t, whole, split, "split at "+strconv.Itoa(cut))
			if len(data) <= 512 {
				bytewise := runParser(t, data, chunkLens(len(data), 1), o)
				requireSameParse(t, whole, bytewise, "byte by byte")
			}
		}
	})
}

// inlineModel is what FuzzInline expects the parser to produce.
type inlineModel struct {
	cmds [][][]byte
	err  string
	rest int
}

// modelInline predicts the parse of a stream of inline lines (none starting
// with '*'), following Redis's processInlineBuffer: a line ends at the first
// LF, an optional CR before it is dropped, the rest is tokenised by
// sdssplitargs (conffile.SplitArgs); unbalanced quotes are a protocol
// error, a line without tokens is skipped, and a NUL byte hides any later
// LF (strchr on a C string), so parsing waits there for more data.
func modelInline(stream []byte) inlineModel {
	var m inlineModel
	pos := 0
	for pos < len(stream) {
		rest := stream[pos:]
		nl := bytes.IndexByte(rest, '\n')
		if nul := bytes.IndexByte(rest, 0); nl < 0 || nul >= 0 && nul < nl {
			break
		}
		line := bytes.TrimSuffix(rest[:nl], []byte("\r"))
		words, err := conffile.SplitArgs(string(line))
		if err != nil {
			m.err = "Protocol error: unbalanced quotes in request"
			return m
		}
		pos += nl + 1
		if len(words) > 0 {
			m.cmds = append(m.cmds, argvBytes(words))
		}
	}
	m.rest = len(stream) - pos
	return m
}

// FuzzInline feeds inline requests (lines of words with quotes, escapes,
// \xHH, spaces) and checks that the parser agrees with modelInline, itself
// built on conffile.SplitArgs, fed whole and byte by byte. Lines starting
// with '*' would be multibulk requests (FuzzParserSplit covers those), so
// the harness indents them by one space, which SplitArgs ignores.
//
// It also checks the round trip the other way: the words of each command,
// rendered with conffile.Quote (Redis's sdscatrepr) and sent as an inline
// request, parse back to the same words.
func FuzzInline(f *testing.F) {
	f.Add(append(bytes.Repeat([]byte(`"\x41" `), 10*1024), '\n'))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 32*1024 {
			return // keep clear of the 64 KB limit, which FuzzParserSplit covers
		}
		var stream []byte
		for line := range bytes.Lines(data) {
			if line[0] == '*' {
				stream = append(stream, ' ')
			}
			stream = append(stream, line...)
		}
		want := modelInline(stream)
		o := parseConfigs[0]
		reads := [][]int{{len(stream)}}
		if len(stream) <= 1024 {
			reads = append(reads, chunkLens(len(stream), 1))
		}
		for _, r := range reads {
			got := runParser(t, stream, r, o)
			require.Equal(t, want.err, got.err, "error for %s", short(stream))
			requireSameCmds(t, want.cmds, got.cmds, "commands for "+short(stream))
			require.Equal(t, want.rest, got.rest, "unconsumed bytes for %s", short(stream))
		}
		for _, words := range want.cmds {
			if bytes.Contains(bytes.Join(words, nil), []byte{0}) {
				continue // SplitArgs reads a NUL as the end of the line
			}
			quoted := make([]string, len(words))
			for i, w := range words {
				quoted[i] = conffile.Quote(string(w))
			}
			req := []byte(strings.Join(quoted, " ") + "\r\n")
			got := runParser(t, req, []int{len(req)}, o)
			require.Empty(t, got.err, "quoted request %q", req)
			requireSameCmds(t, [][][]byte{words}, got.cmds, "quoted request "+short(req))
		}
	})
}
