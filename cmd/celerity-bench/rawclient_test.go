package main

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func readOne(t *testing.T, in string) (Reply, error) {
	t.Helper()
	return readReply(bufio.NewReader(strings.NewReader(in)))
}

func TestReadReplyScalars(t *testing.T) {
	cases := []struct {
		in   string
		want Reply
	}{
		{"+OK\r\n", Reply{Type: '+', Str: "OK"}},
		{"-ERR unknown command 'FOO'\r\n", Reply{Type: '-', Str: "ERR unknown command 'FOO'"}},
		{":42\r\n", Reply{Type: ':', Int: 42}},
		{":-7\r\n", Reply{Type: ':', Int: -7}},
		{"$5\r\nhello\r\n", Reply{Type: '$', Str: "hello"}},
		{"$0\r\n\r\n", Reply{Type: '$', Str: ""}},
		{"$-1\r\n", Reply{Type: '$', Nil: true}},
		{"*-1\r\n", Reply{Type: '*', Nil: true}},
		// Binary-safe: CRLF inside a bulk string is data.
		{"$4\r\na\r\nb\r\n", Reply{Type: '$', Str: "a\r\nb"}},
	}
	for _, c := range cases {
		got, err := readOne(t, c.in)
		require.NoError(t, err, c.in)
		assert.Equal(t, c.want, got, c.in)
	}
}

func TestReadReplyArrays(t *testing.T) {
	// BRPOP reply shape, a nested array and an empty array.
	got, err := readOne(t, "*2\r\n$6\r\ncelery\r\n$3\r\nmsg\r\n")
	require.NoError(t, err)
	assert.Equal(t, Reply{Type: '*', Array: []Reply{{Type: '$', Str: "celery"}, {Type: '$', Str: "msg"}}}, got)

	got, err = readOne(t, "*3\r\n:1\r\n*2\r\n+QUEUED\r\n$-1\r\n-ERR x\r\n")
	require.NoError(t, err)
	require.Len(t, got.Array, 3)
	assert.Equal(t, int64(1), got.Array[0].Int)
	assert.Equal(t, []Reply{{Type: '+', Str: "QUEUED"}, {Type: '$', Nil: true}}, got.Array[1].Array)
	assert.EqualError(t, got.Array[2].Err(), "ERR x")

	got, err = readOne(t, "*0\r\n")
	require.NoError(t, err)
	assert.Equal(t, Reply{Type: '*', Array: []Reply{}}, got)
}

func TestReadReplyPipelined(t *testing.T) {
	r := bufio.NewReader(strings.NewReader("+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n:1\r\n:0\r\n"))
	var types []byte
	for i := 0; i < 4; i++ {
		rep, err := readReply(r)
		require.NoError(t, err)
		types = append(types, rep.Type)
	}
	assert.Equal(t, []byte("++"+"+*"), types)
	_, err := readReply(r)
	assert.ErrorIs(t, err, io.EOF)
}

func TestReadReplyLongLine(t *testing.T) {
	// Longer than bufio's 16-byte minimum buffer: exercises the slow path.
	long := strings.Repeat("x", 100)
	rep, err := readReply(bufio.NewReaderSize(strings.NewReader("+"+long+"\r\n"), 16))
	require.NoError(t, err)
	assert.Equal(t, long, rep.Str)
}

func TestReadReplyMalformed(t *testing.T) {
	for _, in := range []string{
		"OK\r\n",            // no type byte
		"+OK\n",             // LF only
		":12a\r\n",          // bad integer
		"$3\r\nabcd\r\n",    // bulk longer than announced
		"$-2\r\n",           // negative length
		"*-5\r\n",           // negative length
		"%1\r\n",            // RESP3 map: we never ask for RESP3
		"\r\n",              // empty line
		"$999999999999\r\n", // absurd length must not allocate
	} {
		_, err := readOne(t, in)
		assert.ErrorIs(t, err, errProtocol, "%q", in)
	}
	for _, in := range []string{"+OK", "$5\r\nhel", "*2\r\n:1\r\n"} {
		_, err := readOne(t, in)
		assert.ErrorIs(t, err, io.ErrUnexpectedEOF, "%q", in)
	}
}

func TestSendEncodesMultibulk(t *testing.T) {
	var buf bytes.Buffer
	c := &Client{w: bufio.NewWriter(&buf)}
	c.Send("LPUSH", "celery\x06\x163", "")
	c.Send("PING")
	require.NoError(t, c.Flush())
	assert.Equal(t, "*3\r\n$5\r\nLPUSH\r\n$9\r\ncelery\x06\x163\r\n$0\r\n\r\n*1\r\n$4\r\nPING\r\n", buf.String())

	// What we write, we can read back as the same strings (bulk framing).
	r := bufio.NewReader(&buf)
	rep, err := readReply(r)
	require.NoError(t, err)
	require.Len(t, rep.Array, 3)
	assert.Equal(t, "celery\x06\x163", rep.Array[1].Str)
}
