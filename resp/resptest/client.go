package resptest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/celerity/celerity/resp"
)

// Conn is a raw RESP connection.
type Conn struct {
	tb   testing.TB
	conn net.Conn
	r    *bufio.Reader
}

// Dial connects to addr; the connection closes when the test ends.
func Dial(tb testing.TB, addr string) *Conn {
	tb.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		tb.Fatalf("resptest: dial %s: %v", addr, err)
	}
	tb.Cleanup(func() { c.Close() })
	return &Conn{tb: tb, conn: c, r: bufio.NewReader(c)}
}

// NetConn exposes the socket (to close it abruptly, set deadlines...).
func (c *Conn) NetConn() net.Conn { return c.conn }

// Encode renders argv as a RESP multibulk request.
func Encode(args ...string) []byte {
	var b bytes.Buffer
	b.WriteString("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		b.WriteString("$" + strconv.Itoa(len(a)) + "\r\n" + a + "\r\n")
	}
	return b.Bytes()
}

// Send writes one command without reading its reply.
func (c *Conn) Send(args ...string) {
	c.tb.Helper()
	c.WriteRaw(Encode(args...))
}

// WriteRaw writes bytes as they are.
func (c *Conn) WriteRaw(b []byte) {
	c.tb.Helper()
	c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.conn.Write(b); err != nil {
		c.tb.Fatalf("resptest: write: %v", err)
	}
}

// Do sends a command and returns its decoded reply.
func (c *Conn) Do(args ...string) resp.Value {
	c.tb.Helper()
	c.Send(args...)
	return c.Read()
}

// DoRaw sends a command and returns the exact bytes of its reply.
func (c *Conn) DoRaw(args ...string) []byte {
	c.tb.Helper()
	c.Send(args...)
	return c.ReadRaw()
}

// Read reads one decoded reply.
func (c *Conn) Read() resp.Value {
	c.tb.Helper()
	raw := c.ReadRaw()
	v, err := resp.ReadValue(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		c.tb.Fatalf("resptest: decode %q: %v", raw, err)
	}
	return v
}

// ReadRaw reads the exact bytes of one reply (waiting at most 10 s).
func (c *Conn) ReadRaw() []byte {
	c.tb.Helper()
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var out bytes.Buffer
	if err := copyReply(&out, c.r, 0); err != nil {
		c.tb.Fatalf("resptest: read: %v (got %q)", err, out.Bytes())
	}
	return out.Bytes()
}

// TryReadRaw is ReadRaw with an explicit deadline that reports errors
// (EOF when the server closed the connection) instead of failing the test.
func (c *Conn) TryReadRaw(d time.Duration) ([]byte, error) {
	c.conn.SetReadDeadline(time.Now().Add(d))
	var out bytes.Buffer
	err := copyReply(&out, c.r, 0)
	return out.Bytes(), err
}

// copyReply copies one complete RESP2/RESP3 reply from r to w.
func copyReply(w *bytes.Buffer, r *bufio.Reader, depth int) error {
	if depth > 1000 {
		return fmt.Errorf("reply nested too deeply")
	}
	line, err := r.ReadString('\n')
	w.WriteString(line)
	if err != nil {
		return err
	}
	if len(line) < 3 {
		return fmt.Errorf("short line %q", line)
	}
	body := line[1 : len(line)-2]
	switch line[0] {
	case '$', '=', '!':
		n, err := strconv.Atoi(body)
		if err != nil {
			return err
		}
		if n < 0 {
			return nil
		}
		_, err = io.CopyN(w, r, int64(n)+2)
		return err
	case '*', '~', '>', '%', '|':
		n, err := strconv.Atoi(body)
		if err != nil {
			return err
		}
		if line[0] == '%' || line[0] == '|' {
			n *= 2
		}
		for i := 0; i < n; i++ {
			if err := copyReply(w, r, depth+1); err != nil {
				return err
			}
		}
		if line[0] == '|' {
			return copyReply(w, r, depth+1)
		}
	}
	return nil
}
