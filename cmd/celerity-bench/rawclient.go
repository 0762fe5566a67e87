package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// This is a deliberately minimal RESP2 client. The benchmark must not depend
// on a third-party Redis client whose own buffering, retries or connection
// pooling would blur the comparison, and it needs explicit control over
// pipelining (Send N times, Flush once, Read N replies) to reproduce exactly
// the writes kombu issues.

const (
	// maxBulkLen mirrors Redis' default proto-max-bulk-len (512 MB): a larger
	// length means the stream is out of sync, and must not drive an allocation.
	maxBulkLen = 512 << 20
	// maxArrayLen bounds multi-bulk replies for the same reason.
	maxArrayLen = 1 << 24
	// maxLineLen bounds simple-string, error and integer lines.
	maxLineLen = 64 << 10
)

// Reply is one decoded RESP2 reply.
type Reply struct {
	Type  byte    // '+', '-', ':', '$' or '*'
	Str   string  // payload of '+', '-' and non-nil '$'
	Int   int64   // payload of ':'
	Nil   bool    // null bulk ("$-1") or null array ("*-1")
	Array []Reply // elements of a non-nil '*'
}

// ServerError is an error reply ("-ERR ...") sent by the server.
type ServerError string

func (e ServerError) Error() string { return string(e) }

// Err returns the reply as an error if it is an error reply, else nil.
func (r Reply) Err() error {
	if r.Type == '-' {
		return ServerError(r.Str)
	}
	return nil
}

// Client is a single RESP2 connection. It is not safe for concurrent use.
type Client struct {
	conn    net.Conn
	r       *bufio.Reader
	w       *bufio.Writer
	scratch []byte
}

// Dial connects to addr (host:port).
func Dial(ctx context.Context, addr string) (*Client, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return newClient(c), nil
}

func newClient(c net.Conn) *Client {
	// 64 KiB buffers: a pipelined batch of 1000 1 KB RPUSHes is then written
	// in ~16 syscalls rather than 1000.
	return &Client{
		conn:    c,
		r:       bufio.NewReaderSize(c, 64<<10),
		w:       bufio.NewWriterSize(c, 64<<10),
		scratch: make([]byte, 0, 24),
	}
}

// Close closes the connection; blocked reads return an error.
func (c *Client) Close() error { return c.conn.Close() }

// SetDeadline sets the read and write deadline of the connection.
func (c *Client) SetDeadline(t time.Time) error { return c.conn.SetDeadline(t) }

// Send buffers one command without flushing. Write errors are sticky in
// bufio.Writer, so they surface from the next Flush.
func (c *Client) Send(args ...string) {
	c.writeHeader('*', len(args))
	for _, a := range args {
		c.writeHeader('$', len(a))
		c.w.WriteString(a)
		c.w.WriteString("\r\n")
	}
}

func (c *Client) writeHeader(prefix byte, n int) {
	c.scratch = append(c.scratch[:0], prefix)
	c.scratch = strconv.AppendInt(c.scratch, int64(n), 10)
	c.scratch = append(c.scratch, '\r', '\n')
	c.w.Write(c.scratch)
}

// Flush writes all buffered commands to the connection.
func (c *Client) Flush() error { return c.w.Flush() }

// Read reads one reply. An error reply is returned as a Reply with Type '-'
// and a nil error: only I/O and protocol failures are errors here.
func (c *Client) Read() (Reply, error) { return readReply(c.r) }

// Do sends one command and reads its reply.
func (c *Client) Do(args ...string) (Reply, error) {
	c.Send(args...)
	if err := c.Flush(); err != nil {
		return Reply{}, err
	}
	return c.Read()
}

// DoOK is Do that also turns an error reply into an error.
func (c *Client) DoOK(args ...string) (Reply, error) {
	r, err := c.Do(args...)
	if err != nil {
		return r, err
	}
	return r, r.Err()
}

// Drain discards everything the server sends until the connection fails or
// is closed. Pub/sub subscribers use it: they must keep their socket empty
// so the server never has to buffer (or disconnect) them.
func (c *Client) Drain() error {
	_, err := io.Copy(io.Discard, c.r)
	return err
}

// errProtocol marks malformed input, as opposed to I/O errors.
var errProtocol = errors.New("resp: protocol error")

func protoErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errProtocol, fmt.Sprintf(format, args...))
}

// readLine returns the next CRLF-terminated line without the CRLF. The slice
// may alias the reader's buffer and is only valid until the next read.
func readLine(r *bufio.Reader) ([]byte, error) {
	line, err := r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		// Rare: a line longer than the buffer. Accumulate a copy.
		buf := append([]byte(nil), line...)
		for err == bufio.ErrBufferFull {
			if len(buf) > maxLineLen {
				return nil, protoErr("line longer than %d bytes", maxLineLen)
			}
			line, err = r.ReadSlice('\n')
			buf = append(buf, line...)
		}
		line = buf
	}
	if err != nil {
		if err == io.EOF && len(line) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return nil, protoErr("line not terminated by CRLF: %q", line)
	}
	return line[:len(line)-2], nil
}

// parseInt parses a signed decimal without allocating.
func parseInt(b []byte) (int64, error) {
	if len(b) == 0 {
		return 0, protoErr("empty integer")
	}
	neg := false
	if b[0] == '-' {
		neg = true
		b = b[1:]
		if len(b) == 0 {
			return 0, protoErr("bare minus sign")
		}
	}
	var n int64
	for _, ch := range b {
		if ch < '0' || ch > '9' {
			return 0, protoErr("bad integer %q", b)
		}
		if n > (1<<63-1-int64(ch-'0'))/10 {
			return 0, protoErr("integer overflow %q", b)
		}
		n = n*10 + int64(ch-'0')
	}
	if neg {
		n = -n
	}
	return n, nil
}

func readReply(r *bufio.Reader) (Reply, error) {
	line, err := readLine(r)
	if err != nil {
		return Reply{}, err
	}
	if len(line) == 0 {
		return Reply{}, protoErr("empty reply line")
	}
	typ, rest := line[0], line[1:]
	switch typ {
	case '+', '-':
		return Reply{Type: typ, Str: string(rest)}, nil
	case ':':
		n, err := parseInt(rest)
		if err != nil {
			return Reply{}, err
		}
		return Reply{Type: typ, Int: n}, nil
	case '$':
		n, err := parseInt(rest)
		if err != nil {
			return Reply{}, err
		}
		if n == -1 {
			return Reply{Type: typ, Nil: true}, nil
		}
		if n < 0 || n > maxBulkLen {
			return Reply{}, protoErr("bad bulk length %d", n)
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return Reply{}, err
		}
		if buf[n] != '\r' || buf[n+1] != '\n' {
			return Reply{}, protoErr("bulk string not terminated by CRLF")
		}
		return Reply{Type: typ, Str: string(buf[:n])}, nil
	case '*':
		n, err := parseInt(rest)
		if err != nil {
			return Reply{}, err
		}
		if n == -1 {
			return Reply{Type: typ, Nil: true}, nil
		}
		if n < 0 || n > maxArrayLen {
			return Reply{}, protoErr("bad array length %d", n)
		}
		elems := make([]Reply, n)
		for i := range elems {
			if elems[i], err = readReply(r); err != nil {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF // EOF inside an array is truncation
				}
				return Reply{}, err
			}
		}
		return Reply{Type: typ, Array: elems}, nil
	default:
		// RESP3 types are not expected: we never send HELLO 3.
		return Reply{}, protoErr("unexpected reply type %q", typ)
	}
}
