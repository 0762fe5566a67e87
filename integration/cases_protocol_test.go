package integration

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/celerity/celerity/resp/resptest"
)

// Protocol cases write raw bytes to a fresh connection to each server and
// compare everything the server sends back until it closes the connection
// or goes quiet, and whether it closed it. Then a fresh connection must
// still be served (PING).

// protoCase is raw input for one fresh connection.
type protoCase struct {
	name  string
	input string
}

// quietPeriod is how long a server may stay silent before we conclude it
// has nothing more to send and is waiting for input. Silence cannot be
// awaited as an event; replies on loopback arrive in microseconds, so
// this leaves a wide margin on a loaded machine.
const quietPeriod = 500 * time.Millisecond

// drain reads replies until the server closes the connection or stays
// quiet for quietPeriod. It returns the bytes and whether it closed.
func drain(c *resptest.Conn) ([]byte, bool, error) {
	var out bytes.Buffer
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		b, err := c.TryReadRaw(quietPeriod)
		out.Write(b)
		switch {
		case err == nil:
			continue
		case isClosed(err):
			return out.Bytes(), true, nil
		case errors.Is(err, os.ErrDeadlineExceeded):
			return out.Bytes(), false, nil
		default:
			return out.Bytes(), false, err
		}
	}
	return out.Bytes(), false, fmt.Errorf("still sending after 10s")
}

// protoResult is what one server did with one case's input.
type protoResult struct {
	hello  []byte // reply to HELLO 3 (RESP3 runs)
	out    []byte // everything sent after the input
	closed bool
	err    error
}

// runProtocol runs raw cases against tg in both protocols. In RESP3 the
// connection first sends HELLO 3 (with AUTH when tg has a password, so a
// password target's RESP3 run is authenticated and its RESP2 run is not).
// A case that leaves the connection open costs a quiet period, so the
// cases of one protocol run concurrently (their keys are distinct); the
// results are then checked one subtest per case.
func runProtocol(t *testing.T, tg target, cases []protoCase) {
	t.Helper()
	if tg.password == "" {
		// Earlier tests may have left keys on the shared oracle.
		for _, addr := range []string{tg.cel, tg.ora} {
			require.Equal(t, "+OK\r\n", string(resptest.Dial(t, addr).DoRaw("FLUSHALL")))
		}
	}
	for _, proto := range protocols {
		conns := make([][2]*resptest.Conn, len(cases))
		for i := range cases {
			for side, addr := range [2]string{tg.cel, tg.ora} {
				conns[i][side] = resptest.Dial(t, addr)
			}
		}
		results := make([][2]protoResult, len(cases))
		var wg sync.WaitGroup
		sem := make(chan struct{}, 128)
		for i, pc := range cases {
			for side, c := range conns[i] {
				wg.Add(1)
				go func() {
					defer wg.Done()
					sem <- struct{}{}
					defer func() { <-sem }()
					results[i][side] = exchange(c, tg, proto, pc.input)
				}()
			}
		}
		wg.Wait()
		for i, pc := range cases {
			t.Run(fmt.Sprintf("%s/RESP%d", pc.name, proto), func(t *testing.T) {
				cel, ora := results[i][0], results[i][1]
				require.NoError(t, cel.err, "celerity")
				require.NoError(t, ora.err, "oracle")
				if proto == 3 {
					require.Empty(t, compareWith(cmpHello, cel.hello, ora.hello), "HELLO 3: %q vs %q", cel.hello, ora.hello)
				}
				input := showReply([]byte(pc.input))
				if !bytes.Equal(cel.out, ora.out) || cel.closed != ora.closed {
					t.Errorf("input %s [RESP%d]:\n  celerity: %s closed=%v\n  oracle:   %s closed=%v",
						input, proto, showReply(cel.out), cel.closed, showReply(ora.out), ora.closed)
				}
				suiteStats.steps[proto].Add(1)
				// The server as a whole must be unharmed.
				var pings [2][]byte
				for side, addr := range [2]string{tg.cel, tg.ora} {
					pings[side] = resptest.Dial(t, addr).DoRaw("PING")
				}
				if !bytes.Equal(pings[0], pings[1]) {
					t.Errorf("after input %s [RESP%d]: PING on a new connection: celerity %q, oracle %q", input, proto, pings[0], pings[1])
				}
				suiteStats.steps[proto].Add(1)
				suiteStats.cases[proto].Add(1)
			})
		}
	}
}

// exchange sends a case's input on c and collects the server's answer.
// It runs outside the test goroutine, so it reports errors instead of
// failing. A write error is not one: a server may close the connection
// before it has read all of an oversized request.
func exchange(c *resptest.Conn, tg target, proto int, input string) protoResult {
	var r protoResult
	nc := c.NetConn()
	if proto == 3 {
		hello := []string{"HELLO", "3"}
		if tg.password != "" {
			hello = append(hello, "AUTH", "default", tg.password)
		}
		if _, r.err = nc.Write(resptest.Encode(hello...)); r.err != nil {
			return r
		}
		if r.hello, r.err = c.TryReadRaw(10 * time.Second); r.err != nil {
			return r
		}
	}
	_ = nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, _ = nc.Write([]byte(input))
	r.out, r.closed, r.err = drain(c)
	return r
}

// encode renders argv as a multibulk request.
func encode(args ...string) string { return string(resptest.Encode(args...)) }

func TestDiffProtocol(t *testing.T) {
	big := strings.Repeat("x", 70000)
	runProtocol(t, defaultTarget(t), []protoCase{
		// Inline commands.
		{"inline/ping-crlf", "PING\r\n"},
		{"inline/ping-lf", "PING\n"},
		{"inline/spaces", "   PING   \r\n  ECHO   a   \r\n"},
		{"inline/double-quotes", "ECHO \"a b\"\r\n"},
		{"inline/single-quotes", "ECHO 'a b'\r\n"},
		{"inline/escapes", "ECHO \"\\x41\\n\\r\\t\\b\\a\\\\\\\"z\"\r\nECHO \"\\xZZ\\q\"\r\n"},
		{"inline/single-quote-escape", "ECHO 'it\\'s'\r\nECHO 'a\\nb'\r\n"},
		{"inline/empty-quotes", "ECHO \"\"\r\nECHO ''\r\n"},
		{"inline/adjacent-quotes", "ECHO \"a\"\"b\"\r\nPING\r\n"},
		{"inline/quote-then-text", "ECHO \"a\"b\r\nPING\r\n"},
		{"inline/unbalanced-double", "ECHO \"abc\r\nPING\r\n"},
		{"inline/unbalanced-single", "ECHO 'abc\r\nPING\r\n"},
		{"inline/unbalanced-after-valid", "PING\r\nSET k \"v\r\nPING\r\n"},
		{"inline/mixed-case", "pInG\r\nEcHo x\r\nSeLeCt 1\r\ndbsize\r\n"},
		{"inline/unknown-long-args", "FOO " + strings.Repeat("a", 200) + " b\r\n"},
		{"inline/tab-separated", "ECHO\ta\r\n"},
		{"inline/cr-in-middle", "ECHO a\rb\r\n"},
		// Empty requests are skipped.
		{"empty/blank-lines", "\r\n\r\nPING\r\n"},
		{"empty/bare-lf", "\n\nPING\r\n"},
		{"empty/spaces-line", "   \r\nPING\r\n"},
		{"empty/multibulk-zero", "*0\r\nPING\r\n"},
		{"empty/multibulk-minus-one", "*-1\r\nPING\r\n"},
		{"empty/multibulk-minus-ten", "*-10\r\nPING\r\n"},
		// Multibulk headers.
		{"mbulk/count-3e9", "*3000000000\r\n"},
		{"mbulk/count-int-max-plus-one", "*2147483648\r\n"},
		{"mbulk/count-int-max", "*2147483647\r\n"},
		{"mbulk/count-not-a-number", "*x\r\n"},
		{"mbulk/count-trailing-garbage", "*1x\r\n"},
		{"mbulk/count-leading-space", "* 1\r\n"},
		{"mbulk/count-empty", "*\r\nPING\r\n"},
		{"mbulk/count-plus-sign", "*+1\r\n$4\r\nPING\r\n"},
		{"mbulk/count-leading-zero", "*01\r\n$4\r\nPING\r\n"},
		{"mbulk/count-lf-only", "*1\n$4\nPING\n"},
		{"mbulk/count-no-lf", "*1\r"},
		{"mbulk/count-too-long", "*" + strings.Repeat("1", 70000)},
		// Bulk headers.
		{"bulk/expected-dollar", "*1\r\n+foo\r\n"},
		{"bulk/expected-dollar-second", "*2\r\n$4\r\nECHO\r\n:1\r\n"},
		{"bulk/length-2e9", "*1\r\n$2000000000\r\n"},
		{"bulk/length-max", "*1\r\n$536870912\r\n"},
		{"bulk/length-max-plus-one", "*1\r\n$536870913\r\n"},
		{"bulk/length-minus-one", "*1\r\n$-1\r\n"},
		{"bulk/length-negative", "*1\r\n$-5\r\n"},
		{"bulk/length-not-a-number", "*1\r\n$x\r\n"},
		{"bulk/length-empty", "*1\r\n$\r\n"},
		{"bulk/length-leading-space", "*1\r\n$ 4\r\nPING\r\n"},
		{"bulk/length-plus-sign", "*1\r\n$+4\r\nPING\r\n"},
		{"bulk/length-too-long", "*1\r\n$" + strings.Repeat("1", 70000)},
		{"bulk/short-payload", "*1\r\n$2\r\nPING\r\n"},
		{"bulk/long-payload", "*1\r\n$4\r\nPINGxx\r\n"},
		{"bulk/incomplete", "*1\r\n$4\r\nPING"},
		{"bulk/incomplete-header", "*1\r\n$4\r"},
		{"bulk/count-short", "*2\r\n$4\r\nPING\r\n"},
		{"bulk/large-valid", encode("ECHO", strings.Repeat("y", 100000))},
		// NUL bytes in headers and commands.
		{"nul/in-count", "*1\x00\r\n"},
		{"nul/in-bulk-length", "*1\r\n$4\x00\r\nPING\r\n"},
		{"nul/as-header", "*1\r\n\x00\r\n"},
		{"nul/inline", "PI\x00NG\r\n"},
		{"nul/line", "\x00\r\n"},
		{"nul/after-command", "*1\r\n$4\r\nPING\r\n\x00"},
		{"nul/in-args", encode("FOO", "a\x00b", strings.Repeat("c", 150), "\x00")},
		// Oversized lines without a newline.
		{"big/inline-70k", big},
		{"big/inline-70k-then-crlf", big + "\r\n"},
		// Pipelines: replies to the commands before an error arrive first.
		{"pipeline/valid-then-bad-bulk", encode("PING") + "*1\r\n+foo\r\n"},
		{"pipeline/valid-then-bad-count", "PING\r\nPING\r\n*x\r\nPING\r\n"},
		{"pipeline/set-get-unbalanced", "SET p1 v\r\nGET p1\r\nECHO \"x\r\nGET p1\r\n"},
		{"pipeline/mixed-inline-multibulk", "SET p2 1\r\n" + encode("INCR", "p2") + "GET p2\r\n" + encode("DEL", "p2")},
		{"pipeline/quit", "PING\r\nQUIT\r\nPING\r\n"},
		{"pipeline/quit-multibulk", encode("SET", "p3", "v") + encode("QUIT") + encode("GET", "p3")},
		// Cross-protocol scripting: dropped without a reply.
		{"http/post", "POST / HTTP/1.1\r\nHost: x\r\n\r\n"},
		{"http/get", "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"},
		{"http/host", "Host: x\r\n"},
		{"http/after-ping", "PING\r\nPOST / HTTP/1.1\r\n"},
		{"http/multibulk-post", encode("POST")},
		{"http/multibulk-host", encode("host:", "x")},
		{"http/lower-case", "post /x\r\n"},
		{"http/host-no-colon", "HOST\r\n"},
		// Unknown commands, arity, case.
		{"unknown/long-and-nul-args", encode("NOSUCH", strings.Repeat("a", 130), "b\x00c")},
		{"unknown/name-only", encode("nosuch")},
		{"case/multibulk-mixed-case", encode("eChO", "x") + encode("gEt", "nokey") + encode("Ping")},
		// Nothing after a protocol error runs, even in the same write.
		{"order/error-then-valid", "*1\r\n$x\r\nPING\r\n"},
		{"order/two-errors", "*x\r\n*y\r\n"},
	})
}

// TestDiffProtocolAuth covers the limits that apply before AUTH (ten
// arguments, 16 KB bulk strings): the RESP2 run is unauthenticated, the
// RESP3 run authenticated by HELLO 3 AUTH, where the normal limits apply.
func TestDiffProtocolAuth(t *testing.T) {
	runProtocol(t, authTarget(t), []protoCase{
		{"auth-limits/count-11", "*11\r\n"},
		{"auth-limits/count-10", "*10\r\n"},
		{"auth-limits/count-3e9", "*3000000000\r\n"},
		{"auth-limits/bulk-16385", "*1\r\n$16385\r\n"},
		{"auth-limits/bulk-16384", "*1\r\n$16384\r\n"},
		{"auth-limits/bulk-2e9", "*1\r\n$2000000000\r\n"},
		{"auth-limits/large-echo", encode("ECHO", strings.Repeat("y", 20000))},
		{"auth-limits/many-args", encode("ECHO", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k")},
		{"auth-limits/after-auth", "AUTH " + testPassword + "\r\n*11\r\n$4\r\nECHO\r\n"},
		{"auth-limits/after-auth-bulk", "AUTH " + testPassword + "\r\n*1\r\n$16385\r\n"},
		{"auth-limits/after-wrong-auth", "AUTH nope\r\n*11\r\n"},
		{"auth-noauth/pipeline", "PING\r\nGET k\r\nAUTH " + testPassword + "\r\nPING\r\n"},
		{"auth-noauth/inline-bad-quotes", "PING\r\nECHO \"x\r\n"},
		{"auth-noauth/http", "POST / HTTP/1.1\r\n"},
		{"auth-noauth/quit", "PING\r\nQUIT\r\nPING\r\n"},
		{"auth-noauth/reset", "AUTH " + testPassword + "\r\nPING\r\nRESET\r\nPING\r\n*11\r\n"},
		{"auth-noauth/hello", "HELLO 3 FOO\r\nHELLO 3 AUTH default nope\r\nPING\r\n"},
		{"auth-limits/inline-70k", strings.Repeat("a", 70000)},
		{"auth-limits/mbulk-count-70k", "*" + strings.Repeat("1", 70000)},
		{"auth-limits/nul-count", "*1\x00\r\n"},
		{"auth-limits/nul-inline", "PI\x00NG\r\n"},
		{"auth-limits/bulk-negative", "*1\r\n$-5\r\n"},
		{"auth-limits/mbulk-negative", "*-5\r\nPING\r\n"},
		{"auth-limits/int-max-after-auth", "AUTH " + testPassword + "\r\n*2147483647\r\n$1\r\na\r\n"},
		{"auth-limits/max-bulk-after-auth", "AUTH " + testPassword + "\r\n*1\r\n$536870912\r\nxyz"},
	})
}
