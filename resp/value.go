package resp

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Value is a decoded RESP2/RESP3 reply. It is how static reply data (the
// command docs) is stored, how scripts read the replies of the commands
// they call, and what test clients compare.
type Value struct {
	// Kind is the RESP3 type byte: + - : $ * % ~ > _ , # = (and ( for big
	// numbers). A RESP2 null bulk or null array decodes as '_'.
	Kind  byte
	Str   string  // + - $ , = ( payloads; = includes its "txt:" prefix
	Int   int64   // : payload; # as 0/1
	Elems []Value // * ~ > elements; % as alternating key, value
}

// WriteValue writes v in the client's protocol, downgrading RESP3 types for
// RESP2 clients the way Redis does.
func (w *ReplyWriter) WriteValue(v Value) {
	switch v.Kind {
	case '+':
		w.Status(v.Str)
	case '-':
		w.rawError(v.Str)
	case ':':
		w.Int(v.Int)
	case '$':
		w.BulkString(v.Str)
	case '_':
		w.Null()
	case '#':
		w.Bool(v.Int != 0)
	case ',':
		if w.proto == 3 {
			w.buf = append(w.buf, ',')
			w.buf = append(w.buf, v.Str...)
			w.buf = append(w.buf, '\r', '\n')
		} else {
			w.BulkString(v.Str)
		}
	case '=':
		if len(v.Str) >= 4 {
			w.Verbatim(v.Str[4:])
		} else {
			w.Verbatim(v.Str)
		}
	case '*', '~', '>', '%':
		switch v.Kind {
		case '*':
			w.Array(len(v.Elems))
		case '~':
			w.Set(len(v.Elems))
		case '>':
			w.Push(len(v.Elems))
		case '%':
			w.Map(len(v.Elems) / 2)
		}
		for _, e := range v.Elems {
			w.WriteValue(e)
		}
	default:
		w.BulkString(v.Str)
	}
}

// ErrProtocol is returned by ReadValue for malformed input.
var ErrProtocol = errors.New("resp: protocol error")

// ReadValue decodes one RESP2 or RESP3 value. maxLen bounds any length the
// peer claims (0 = 512 MB).
func ReadValue(r *bufio.Reader) (Value, error) {
	return readValue(r, 0)
}

func readValue(r *bufio.Reader, depth int) (Value, error) {
	if depth > 1000 {
		return Value{}, ErrProtocol
	}
	line, err := r.ReadString('\n')
	if err != nil {
		return Value{}, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return Value{}, fmt.Errorf("%w: bad line %q", ErrProtocol, line)
	}
	kind, body := line[0], line[1:len(line)-2]
	switch kind {
	case '+', '-', ',', '(':
		return Value{Kind: kind, Str: body}, nil
	case ':':
		n, err := strconv.ParseInt(body, 10, 64)
		if err != nil {
			return Value{}, fmt.Errorf("%w: bad integer", ErrProtocol)
		}
		return Value{Kind: ':', Int: n}, nil
	case '_':
		return Value{Kind: '_'}, nil
	case '#':
		return Value{Kind: '#', Int: map[bool]int64{true: 1}[body == "t"]}, nil
	case '$', '=', '!':
		n, err := strconv.Atoi(body)
		if err != nil || n < -1 || n > 512<<20 {
			return Value{}, fmt.Errorf("%w: bad length", ErrProtocol)
		}
		if n == -1 {
			return Value{Kind: '_'}, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return Value{}, err
		}
		k := kind
		if k == '!' {
			k = '-'
		}
		return Value{Kind: k, Str: string(buf[:n])}, nil
	case '*', '~', '>', '%', '|':
		n, err := strconv.Atoi(body)
		if err != nil || n < -1 || n > 1<<24 {
			return Value{}, fmt.Errorf("%w: bad count", ErrProtocol)
		}
		if n == -1 {
			return Value{Kind: '_'}, nil
		}
		count := n
		if kind == '%' || kind == '|' {
			count = 2 * n
		}
		v := Value{Kind: kind, Elems: make([]Value, 0, min(count, 1024))}
		for i := 0; i < count; i++ {
			e, err := readValue(r, depth+1)
			if err != nil {
				return Value{}, err
			}
			v.Elems = append(v.Elems, e)
		}
		if kind == '|' {
			// An attribute precedes the real value; skip it.
			return readValue(r, depth)
		}
		return v, nil
	}
	return Value{}, fmt.Errorf("%w: unknown type %q", ErrProtocol, kind)
}

// MarshalJSON encodes a Value compactly as [kind, payload].
func (v Value) MarshalJSON() ([]byte, error) {
	k := string(v.Kind)
	switch v.Kind {
	case ':', '#':
		return json.Marshal([]any{k, v.Int})
	case '_':
		return json.Marshal([]any{k})
	case '*', '~', '>', '%':
		elems := v.Elems
		if elems == nil {
			elems = []Value{}
		}
		return json.Marshal([]any{k, elems})
	}
	return json.Marshal([]any{k, v.Str})
}

// UnmarshalJSON decodes the form MarshalJSON writes.
func (v *Value) UnmarshalJSON(b []byte) error {
	var parts []json.RawMessage
	if err := json.Unmarshal(b, &parts); err != nil {
		return err
	}
	if len(parts) == 0 {
		return errors.New("resp: empty value")
	}
	var k string
	if err := json.Unmarshal(parts[0], &k); err != nil || len(k) != 1 {
		return errors.New("resp: bad value kind")
	}
	v.Kind = k[0]
	if len(parts) == 1 {
		return nil
	}
	switch v.Kind {
	case ':', '#':
		return json.Unmarshal(parts[1], &v.Int)
	case '*', '~', '>', '%':
		return json.Unmarshal(parts[1], &v.Elems)
	}
	return json.Unmarshal(parts[1], &v.Str)
}

// MapGet returns the value of key in a map Value.
func (v Value) MapGet(key string) (Value, bool) {
	for i := 0; i+1 < len(v.Elems); i += 2 {
		if v.Elems[i].Str == key {
			return v.Elems[i+1], true
		}
	}
	return Value{}, false
}
