package resp

import (
	"math"
	"strconv"
)

// ReplyWriter appends RESP replies to a buffer in the protocol the client
// negotiated: RESP2 until HELLO 3, RESP3 after. Handlers describe replies in
// RESP3 terms (maps, sets, doubles, nulls) and the writer downgrades them for
// RESP2 exactly as Redis does: a map of n pairs becomes an array of 2n
// elements, a set an array, a double a bulk string, a boolean an integer,
// and null a null bulk ($-1) or null array (*-1).
type ReplyWriter struct {
	buf   []byte
	proto int
}

// Proto returns 2 or 3.
func (w *ReplyWriter) Proto() int { return w.proto }

// Len returns the number of buffered reply bytes.
func (w *ReplyWriter) Len() int { return len(w.buf) }

// Raw appends already-encoded protocol bytes.
func (w *ReplyWriter) Raw(b []byte) { w.buf = append(w.buf, b...) }

func (w *ReplyWriter) header(c byte, n int64) {
	w.buf = append(w.buf, c)
	w.buf = strconv.AppendInt(w.buf, n, 10)
	w.buf = append(w.buf, '\r', '\n')
}

// OK appends +OK.
func (w *ReplyWriter) OK() { w.buf = append(w.buf, "+OK\r\n"...) }

// Status appends a simple string. s must not contain CR or LF.
func (w *ReplyWriter) Status(s string) {
	w.buf = append(w.buf, '+')
	w.buf = append(w.buf, s...)
	w.buf = append(w.buf, '\r', '\n')
}

// rawError appends an error line; s already carries its code ("ERR ...").
func (w *ReplyWriter) rawError(s string) {
	w.buf = append(w.buf, '-')
	for i := 0; i < len(s); i++ {
		// An error must stay on one line, whatever text a client sent us.
		if c := s[i]; c == '\r' || c == '\n' {
			w.buf = append(w.buf, ' ')
		} else {
			w.buf = append(w.buf, c)
		}
	}
	w.buf = append(w.buf, '\r', '\n')
}

// Int appends an integer reply.
func (w *ReplyWriter) Int(n int64) { w.header(':', n) }

// Bulk appends a bulk string.
func (w *ReplyWriter) Bulk(b []byte) {
	w.header('$', int64(len(b)))
	w.buf = append(w.buf, b...)
	w.buf = append(w.buf, '\r', '\n')
}

// BulkString appends a bulk string.
func (w *ReplyWriter) BulkString(s string) {
	w.header('$', int64(len(s)))
	w.buf = append(w.buf, s...)
	w.buf = append(w.buf, '\r', '\n')
}

// BulkInt appends the decimal form of n as a bulk string.
func (w *ReplyWriter) BulkInt(n int64) {
	var tmp [24]byte
	w.Bulk(strconv.AppendInt(tmp[:0], n, 10))
}

// Null appends a null: $-1 in RESP2 (a missing bulk), _ in RESP3.
func (w *ReplyWriter) Null() {
	if w.proto == 3 {
		w.buf = append(w.buf, "_\r\n"...)
	} else {
		w.buf = append(w.buf, "$-1\r\n"...)
	}
}

// NullArray appends a null aggregate: *-1 in RESP2, _ in RESP3.
func (w *ReplyWriter) NullArray() {
	if w.proto == 3 {
		w.buf = append(w.buf, "_\r\n"...)
	} else {
		w.buf = append(w.buf, "*-1\r\n"...)
	}
}

// Array appends the header of an array of n elements.
func (w *ReplyWriter) Array(n int) { w.header('*', int64(n)) }

// Map appends the header of a map of n key/value pairs.
func (w *ReplyWriter) Map(n int) {
	if w.proto == 3 {
		w.header('%', int64(n))
	} else {
		w.header('*', int64(2*n))
	}
}

// Set appends the header of a set of n elements.
func (w *ReplyWriter) Set(n int) {
	if w.proto == 3 {
		w.header('~', int64(n))
	} else {
		w.header('*', int64(n))
	}
}

// Push appends the header of an out-of-band push frame of n elements
// (pub/sub messages); an array in RESP2.
func (w *ReplyWriter) Push(n int) {
	if w.proto == 3 {
		w.header('>', int64(n))
	} else {
		w.header('*', int64(n))
	}
}

// Bool appends a boolean: #t/#f in RESP3, :1/:0 in RESP2.
func (w *ReplyWriter) Bool(b bool) {
	switch {
	case w.proto == 3 && b:
		w.buf = append(w.buf, "#t\r\n"...)
	case w.proto == 3:
		w.buf = append(w.buf, "#f\r\n"...)
	case b:
		w.buf = append(w.buf, ":1\r\n"...)
	default:
		w.buf = append(w.buf, ":0\r\n"...)
	}
}

// Double appends a double: a RESP3 double, or a bulk string in RESP2, using
// Redis 7.0's "%.17g" form and inf/-inf.
func (w *ReplyWriter) Double(f float64) {
	var tmp [32]byte
	b := AppendDouble(tmp[:0], f)
	if w.proto == 3 {
		w.buf = append(w.buf, ',')
		w.buf = append(w.buf, b...)
		w.buf = append(w.buf, '\r', '\n')
		return
	}
	w.Bulk(b)
}

// AppendDouble formats f as Redis 7.0 does in replies (%.17g, inf, -inf).
func AppendDouble(dst []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	}
	return appendG17(dst, f)
}

// appendG17 reproduces C's printf("%.17g").
func appendG17(dst []byte, f float64) []byte {
	if f == 0 {
		if math.Signbit(f) {
			return append(dst, "-0"...)
		}
		return append(dst, '0')
	}
	// %g picks %e when the exponent is < -4 or >= precision.
	e := strconv.AppendFloat(nil, f, 'e', 16, 64)
	exp := 0
	for i := len(e) - 1; i >= 0; i-- {
		if e[i] == 'e' {
			exp, _ = strconv.Atoi(string(e[i+1:]))
			break
		}
	}
	if exp < -4 || exp >= 17 {
		// Trim zeros of the mantissa, then C's two-digit-minimum exponent.
		i := 0
		for e[i] != 'e' {
			i++
		}
		mant := trimFracZeros(e[:i])
		dst = append(dst, mant...)
		dst = append(dst, 'e')
		if exp < 0 {
			dst = append(dst, '-')
			exp = -exp
		} else {
			dst = append(dst, '+')
		}
		if exp < 10 {
			dst = append(dst, '0')
		}
		return strconv.AppendInt(dst, int64(exp), 10)
	}
	return append(dst, trimFracZeros(strconv.AppendFloat(nil, f, 'f', 16-exp, 64))...)
}

func trimFracZeros(b []byte) []byte {
	hasDot := false
	for _, c := range b {
		if c == '.' {
			hasDot = true
		}
	}
	if !hasDot {
		return b
	}
	for b[len(b)-1] == '0' {
		b = b[:len(b)-1]
	}
	if b[len(b)-1] == '.' {
		b = b[:len(b)-1]
	}
	return b
}

// Verbatim appends a verbatim string (RESP3 "=", format "txt"); a bulk
// string in RESP2.
func (w *ReplyWriter) Verbatim(s string) {
	if w.proto != 3 {
		w.BulkString(s)
		return
	}
	w.header('=', int64(len(s)+4))
	w.buf = append(w.buf, "txt:"...)
	w.buf = append(w.buf, s...)
	w.buf = append(w.buf, '\r', '\n')
}

// Deferred is a placeholder for an aggregate header whose length is not
// known until its elements have been written.
type Deferred struct{ pos int }

// DeferLen reserves the place of an aggregate header.
func (w *ReplyWriter) DeferLen() Deferred { return Deferred{pos: len(w.buf)} }

// SetArrayLen fills a deferred header as an array of n elements.
func (w *ReplyWriter) SetArrayLen(d Deferred, n int) { w.insertHeader(d, '*', n) }

// SetMapLen fills a deferred header as a map of n pairs.
func (w *ReplyWriter) SetMapLen(d Deferred, n int) {
	if w.proto == 3 {
		w.insertHeader(d, '%', n)
	} else {
		w.insertHeader(d, '*', 2*n)
	}
}

// SetSetLen fills a deferred header as a set of n elements.
func (w *ReplyWriter) SetSetLen(d Deferred, n int) {
	if w.proto == 3 {
		w.insertHeader(d, '~', n)
	} else {
		w.insertHeader(d, '*', n)
	}
}

func (w *ReplyWriter) insertHeader(d Deferred, c byte, n int) {
	var tmp [24]byte
	h := append(tmp[:0], c)
	h = strconv.AppendInt(h, int64(n), 10)
	h = append(h, '\r', '\n')
	w.buf = append(w.buf, h...)
	copy(w.buf[d.pos+len(h):], w.buf[d.pos:len(w.buf)-len(h)])
	copy(w.buf[d.pos:], h)
}
