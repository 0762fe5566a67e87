package resp

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"
)

// cjson, as Redis 7.0 bundles it (lua-cjson 2.1.0): cjson.encode and
// cjson.decode with that library's rules and messages, cjson.null, and
// its configuration functions. Written from the library's observable
// behaviour (checked against redis-server in integration/script_test.go):
//
//   - encode: numbers with %.14g (encode_number_precision), NaN and
//     infinities refused unless encode_invalid_numbers; strings escaped
//     with \" \\ \/ \b \f \n \r \t and \u00XX for other control bytes and
//     DEL, other bytes as they are; a table whose keys are all positive
//     integers is an array (holes become null) unless it is "excessively
//     sparse" (highest index > 2 x count and > 10), which is an error
//     unless encode_sparse_array(true); any other table is an object, with
//     number or string keys only, in the table's iteration order; the
//     empty table is {}; nesting is limited to encode_max_depth (1000).
//   - decode: JSON text (the input ends at its first NUL byte, as a C
//     string), numbers read as C's strtod reads them (hex, inf and nan
//     too, while decode_invalid_numbers is on), null as cjson.null,
//     errors "Expected <what> but found <token> at character <n>", nesting
//     limited to decode_max_depth (1000).
//
// Unlike Redis, the configuration returns to its defaults before every
// script: in Redis one script's cjson.encode_number_precision(1) would
// change what every later script encodes.

// cjsonConfig is one cjson instance's configuration.
type cjsonConfig struct {
	sparseConvert  bool
	sparseRatio    int
	sparseSafe     int
	encodeMaxDepth int
	decodeMaxDepth int
	precision      int
	invalidEncode  int // 0 off (error), 1 on (inf, nan), 2 "null"
	invalidDecode  bool
	keepBuffer     bool
}

func defaultCjsonConfig() cjsonConfig {
	return cjsonConfig{sparseRatio: 2, sparseSafe: 10, encodeMaxDepth: 1000, decodeMaxDepth: 1000,
		precision: 14, invalidDecode: true, keepBuffer: true}
}

// cjsonModule is one cjson table: the global one, or one cjson.new made.
type cjsonModule struct {
	e   *scriptEngine
	cfg cjsonConfig
}

// newCjsonLibrary builds the global cjson table; its configuration is
// reset by resetCjson before each script.
func (e *scriptEngine) newCjsonLibrary(L *lua.LState) *lua.LTable {
	e.cjsonNull = L.NewUserData()
	m := &cjsonModule{e: e, cfg: defaultCjsonConfig()}
	e.cjson = m
	return m.table(L)
}

func (e *scriptEngine) resetCjson() { e.cjson.cfg = defaultCjsonConfig() }

func (m *cjsonModule) table(L *lua.LState) *lua.LTable {
	fns := map[string]lua.LGFunction{
		"encode": m.encode,
		"decode": m.decode,
		"new": func(L *lua.LState) int {
			n := &cjsonModule{e: m.e, cfg: defaultCjsonConfig()}
			L.Push(n.table(L))
			return 1
		},
		"encode_sparse_array": func(L *lua.LState) int {
			cjsonArgCount(L, 3)
			cjsonBoolOption(L, 1, &m.cfg.sparseConvert)
			cjsonIntOption(L, 2, &m.cfg.sparseRatio, 0, math.MaxInt32)
			cjsonIntOption(L, 3, &m.cfg.sparseSafe, 0, math.MaxInt32)
			L.Push(lua.LBool(m.cfg.sparseConvert))
			L.Push(lua.LNumber(m.cfg.sparseRatio))
			L.Push(lua.LNumber(m.cfg.sparseSafe))
			return 3
		},
		"encode_max_depth": func(L *lua.LState) int {
			cjsonArgCount(L, 1)
			cjsonIntOption(L, 1, &m.cfg.encodeMaxDepth, 1, math.MaxInt32)
			L.Push(lua.LNumber(m.cfg.encodeMaxDepth))
			return 1
		},
		"decode_max_depth": func(L *lua.LState) int {
			cjsonArgCount(L, 1)
			cjsonIntOption(L, 1, &m.cfg.decodeMaxDepth, 1, math.MaxInt32)
			L.Push(lua.LNumber(m.cfg.decodeMaxDepth))
			return 1
		},
		"encode_number_precision": func(L *lua.LState) int {
			cjsonArgCount(L, 1)
			cjsonIntOption(L, 1, &m.cfg.precision, 1, 14)
			L.Push(lua.LNumber(m.cfg.precision))
			return 1
		},
		"encode_keep_buffer": func(L *lua.LState) int {
			cjsonArgCount(L, 1)
			cjsonBoolOption(L, 1, &m.cfg.keepBuffer)
			L.Push(lua.LBool(m.cfg.keepBuffer))
			return 1
		},
		"decode_invalid_numbers": func(L *lua.LState) int {
			cjsonArgCount(L, 1)
			cjsonBoolOption(L, 1, &m.cfg.invalidDecode)
			L.Push(lua.LBool(m.cfg.invalidDecode))
			return 1
		},
		"encode_invalid_numbers": func(L *lua.LState) int {
			cjsonArgCount(L, 1)
			switch v := L.Get(1).(type) {
			case *lua.LNilType:
			case lua.LBool:
				m.cfg.invalidEncode = 0
				if v {
					m.cfg.invalidEncode = 1
				}
			default:
				m.cfg.invalidEncode = cjsonCheckOption(L, 1, "off", "on", "null")
			}
			if m.cfg.invalidEncode == 2 {
				L.Push(lua.LString("null"))
			} else {
				L.Push(lua.LBool(m.cfg.invalidEncode == 1))
			}
			return 1
		},
	}
	t := L.CreateTable(0, len(fns)+3)
	for name, fn := range fns {
		t.RawSetString(name, L.NewFunction(fn))
	}
	t.RawSetString("null", m.e.cjsonNull)
	t.RawSetString("_NAME", lua.LString("cjson"))
	t.RawSetString("_VERSION", lua.LString("2.1.0"))
	return t
}

// cjsonArgCount refuses more arguments than an option function takes.
func cjsonArgCount(L *lua.LState, n int) {
	if L.GetTop() > n {
		L.ArgError(n+1, "found too many arguments")
	}
}

// cjsonBoolOption reads an on/off option: a boolean, "on" or "off".
func cjsonBoolOption(L *lua.LState, n int, setting *bool) {
	switch v := L.Get(n).(type) {
	case *lua.LNilType:
	case lua.LBool:
		*setting = bool(v)
	default:
		*setting = cjsonCheckOption(L, n, "off", "on") == 1
	}
}

// cjsonCheckOption is luaL_checkoption: the index of the argument among
// options.
func cjsonCheckOption(L *lua.LState, n int, options ...string) int {
	s, ok := luaText(L.Get(n))
	if !ok {
		L.ArgError(n, "string expected, got "+L.Get(n).Type().String())
	}
	for i, o := range options {
		if s == o {
			return i
		}
	}
	L.ArgError(n, "invalid option '"+s+"'")
	return 0
}

// cjsonIntOption reads an integer option within [lo, hi].
func cjsonIntOption(L *lua.LState, n int, setting *int, lo, hi int) {
	v := L.Get(n)
	if v == lua.LNil {
		return
	}
	f, ok := luaToNumber(v)
	if !ok {
		got := v.Type().String()
		L.ArgError(n, "number expected, got "+got)
	}
	i := int(f)
	if i < lo || i > hi {
		L.ArgError(1, "expected integer between "+strconv.Itoa(lo)+" and "+strconv.Itoa(hi))
	}
	*setting = i
}

// encode implements cjson.encode.
func (m *cjsonModule) encode(L *lua.LState) int {
	if L.GetTop() != 1 {
		L.ArgError(1, "expected 1 argument")
	}
	enc := cjsonEncoder{m: m, L: L}
	enc.value(L.Get(1), 0)
	L.Push(lua.LString(enc.buf))
	return 1
}

type cjsonEncoder struct {
	m   *cjsonModule
	L   *lua.LState
	buf []byte
}

// fail raises cjson's "Cannot serialise <type>: <reason>".
func (enc *cjsonEncoder) fail(v lua.LValue, reason string) {
	enc.m.e.raise(enc.L, lua.LString(luaWhere(enc.L, 1)+"Cannot serialise "+v.Type().String()+": "+reason))
}

func (enc *cjsonEncoder) value(v lua.LValue, depth int) {
	switch x := v.(type) {
	case lua.LString:
		enc.buf = cjsonAppendString(enc.buf, string(x))
	case lua.LNumber:
		enc.number(x)
	case lua.LBool:
		enc.buf = strconv.AppendBool(enc.buf, bool(x))
	case *lua.LNilType:
		enc.buf = append(enc.buf, "null"...)
	case *lua.LTable:
		if r := enc.m.e.real(x); r != nil {
			x = r
		}
		depth++
		if depth > enc.m.cfg.encodeMaxDepth {
			enc.m.e.raise(enc.L, lua.LString(luaWhere(enc.L, 1)+"Cannot serialise, excessive nesting ("+strconv.Itoa(depth)+")"))
		}
		if n := enc.arrayLength(x); n > 0 {
			enc.buf = append(enc.buf, '[')
			for i := 1; i <= n; i++ {
				if i > 1 {
					enc.buf = append(enc.buf, ',')
				}
				enc.value(x.RawGetInt(i), depth)
			}
			enc.buf = append(enc.buf, ']')
			return
		}
		enc.buf = append(enc.buf, '{')
		first := true
		for k, val := x.Next(lua.LNil); k != lua.LNil; k, val = x.Next(k) {
			if !first {
				enc.buf = append(enc.buf, ',')
			}
			first = false
			switch key := k.(type) {
			case lua.LString:
				enc.buf = cjsonAppendString(enc.buf, string(key))
			case lua.LNumber:
				enc.buf = append(enc.buf, '"')
				enc.number(key)
				enc.buf = append(enc.buf, '"')
			default:
				enc.fail(k, "table key must be a number or string")
			}
			enc.buf = append(enc.buf, ':')
			enc.value(val, depth)
		}
		enc.buf = append(enc.buf, '}')
	case *lua.LUserData:
		if x == enc.m.e.cjsonNull {
			enc.buf = append(enc.buf, "null"...)
			return
		}
		enc.fail(v, "type not supported")
	default:
		enc.fail(v, "type not supported")
	}
}

func (enc *cjsonEncoder) number(n lua.LNumber) {
	f := float64(n)
	if math.IsInf(f, 0) || math.IsNaN(f) {
		switch enc.m.cfg.invalidEncode {
		case 0:
			enc.fail(n, "must not be NaN or Inf")
		case 2:
			enc.buf = append(enc.buf, "null"...)
			return
		}
		switch {
		case math.IsNaN(f):
			enc.buf = append(enc.buf, "nan"...)
		case f > 0:
			enc.buf = append(enc.buf, "inf"...)
		default:
			enc.buf = append(enc.buf, "-inf"...)
		}
		return
	}
	enc.buf = strconv.AppendFloat(enc.buf, f, 'g', enc.m.cfg.precision, 64)
}

// arrayLength returns the length to encode t as an array, or 0 for an
// object (cjson's lua_array_length).
func (enc *cjsonEncoder) arrayLength(t *lua.LTable) int {
	maxIndex, items := 0, 0
	isArray := true
	t.ForEach(func(k, _ lua.LValue) {
		n, ok := k.(lua.LNumber)
		if !ok || float64(n) < 1 || float64(n) != math.Floor(float64(n)) || float64(n) > math.MaxInt32 {
			isArray = false
			return
		}
		maxIndex = max(maxIndex, int(n))
		items++
	})
	if !isArray {
		return 0
	}
	cfg := enc.m.cfg
	if cfg.sparseRatio > 0 && maxIndex > items*cfg.sparseRatio && maxIndex > cfg.sparseSafe {
		if !cfg.sparseConvert {
			enc.fail(t, "excessively sparse array")
		}
		return 0
	}
	return maxIndex
}

// cjsonAppendString appends s as a JSON string with cjson's escapes.
func cjsonAppendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"', '\\', '/':
			dst = append(dst, '\\', c)
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			if c < 0x20 || c == 0x7f {
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
			} else {
				dst = append(dst, c)
			}
		}
	}
	return append(dst, '"')
}

// JSON token kinds, named as cjson names them in its messages.
const (
	tObjBegin = iota
	tObjEnd
	tArrBegin
	tArrEnd
	tString
	tNumber
	tBoolean
	tNull
	tColon
	tComma
	tEnd
	tError
)

var cjsonTokenNames = [...]string{"T_OBJ_BEGIN", "T_OBJ_END", "T_ARR_BEGIN", "T_ARR_END", "T_STRING",
	"T_NUMBER", "T_BOOLEAN", "T_NULL", "T_COLON", "T_COMMA", "T_END", "T_ERROR"}

type cjsonToken struct {
	kind  int
	index int    // 0-based position in the input
	str   string // tString value, or tError description
	num   float64
	b     bool
}

type cjsonDecoder struct {
	m     *cjsonModule
	L     *lua.LState
	data  string
	pos   int
	depth int
}

// decode implements cjson.decode.
func (m *cjsonModule) decode(L *lua.LState) int {
	if L.GetTop() != 1 {
		L.ArgError(1, "expected 1 argument")
	}
	text, ok := luaText(L.Get(1))
	if !ok {
		L.ArgError(1, "string expected, got "+L.Get(1).Type().String())
	}
	if len(text) >= 2 && (text[0] == 0 || text[1] == 0) {
		m.e.raise(L, lua.LString(luaWhere(L, 1)+"JSON parser does not support UTF-16 or UTF-32"))
	}
	// The C library reads a C string: the text ends at its first NUL.
	if i := strings.IndexByte(text, 0); i >= 0 {
		text = text[:i]
	}
	d := &cjsonDecoder{m: m, L: L, data: text}
	v := d.value(d.next())
	if tok := d.next(); tok.kind != tEnd {
		d.fail("the end", tok)
	}
	L.Push(v)
	return 1
}

func (d *cjsonDecoder) fail(expected string, tok cjsonToken) {
	found := tok.str
	if tok.kind != tError {
		found = cjsonTokenNames[tok.kind]
	}
	d.m.e.raise(d.L, lua.LString(luaWhere(d.L, 1)+"Expected "+expected+" but found "+found+" at character "+strconv.Itoa(tok.index+1)))
}

func (d *cjsonDecoder) descend() {
	d.depth++
	if d.depth > d.m.cfg.decodeMaxDepth {
		d.m.e.raise(d.L, lua.LString(luaWhere(d.L, 1)+"Found too many nested data structures ("+strconv.Itoa(d.depth)+") at character "+strconv.Itoa(d.pos)))
	}
}

func (d *cjsonDecoder) value(tok cjsonToken) lua.LValue {
	switch tok.kind {
	case tString:
		return lua.LString(tok.str)
	case tNumber:
		return lua.LNumber(tok.num)
	case tBoolean:
		return lua.LBool(tok.b)
	case tNull:
		return d.m.e.cjsonNull
	case tObjBegin:
		d.descend()
		t := d.L.NewTable()
		tok = d.next()
		if tok.kind == tObjEnd {
			d.depth--
			return t
		}
		for {
			if tok.kind != tString {
				d.fail("object key string", tok)
			}
			key := tok.str
			if tok = d.next(); tok.kind != tColon {
				d.fail("colon", tok)
			}
			t.RawSetString(key, d.value(d.next()))
			tok = d.next()
			if tok.kind == tObjEnd {
				d.depth--
				return t
			}
			if tok.kind != tComma {
				d.fail("comma or object end", tok)
			}
			tok = d.next()
		}
	case tArrBegin:
		d.descend()
		t := d.L.NewTable()
		tok = d.next()
		if tok.kind == tArrEnd {
			d.depth--
			return t
		}
		for i := 1; ; i++ {
			t.RawSetInt(i, d.value(tok))
			tok = d.next()
			if tok.kind == tArrEnd {
				d.depth--
				return t
			}
			if tok.kind != tComma {
				d.fail("comma or array end", tok)
			}
			tok = d.next()
		}
	}
	d.fail("value", tok)
	return lua.LNil
}

// next scans the next token as cjson does.
func (d *cjsonDecoder) next() cjsonToken {
	for d.pos < len(d.data) && strings.IndexByte(" \t\r\n", d.data[d.pos]) >= 0 {
		d.pos++
	}
	tok := cjsonToken{index: d.pos}
	if d.pos >= len(d.data) {
		tok.kind = tEnd
		return tok
	}
	rest := d.data[d.pos:]
	c := rest[0]
	if k := strings.IndexByte("{}[]:,", c); k >= 0 {
		tok.kind = [...]int{tObjBegin, tObjEnd, tArrBegin, tArrEnd, tColon, tComma}[k]
		d.pos++
		return tok
	}
	switch {
	case c == '"':
		return d.string(tok)
	case c == '-' || '0' <= c && c <= '9':
		if !d.m.cfg.invalidDecode && cjsonInvalidNumber(rest) {
			return d.errorToken(tok, "invalid number")
		}
		return d.number(tok)
	case strings.HasPrefix(rest, "true"):
		tok.kind, tok.b = tBoolean, true
		d.pos += 4
		return tok
	case strings.HasPrefix(rest, "false"):
		tok.kind = tBoolean
		d.pos += 5
		return tok
	case strings.HasPrefix(rest, "null"):
		tok.kind = tNull
		d.pos += 4
		return tok
	case strings.IndexByte("+iInN", c) >= 0 && d.m.cfg.invalidDecode && cjsonInvalidNumber(rest):
		return d.number(tok)
	}
	return d.errorToken(tok, "invalid token")
}

func (d *cjsonDecoder) errorToken(tok cjsonToken, what string) cjsonToken {
	tok.kind, tok.str, tok.index = tError, what, d.pos
	return tok
}

// cjsonInvalidNumber tells numbers JSON forbids but strtod reads: a
// leading +, hexadecimal, leading zeros, inf and nan.
func cjsonInvalidNumber(s string) bool {
	if s[0] == '+' {
		return true
	}
	s = strings.TrimPrefix(s, "-")
	if s == "" {
		return false
	}
	if s[0] == '0' {
		return len(s) > 1 && (s[1]|0x20 == 'x' || '0' <= s[1] && s[1] <= '9')
	}
	if s[0] <= '9' {
		return false
	}
	l := strings.ToLower(s[:min(3, len(s))])
	return l == "inf" || l == "nan"
}

func (d *cjsonDecoder) number(tok cjsonToken) cjsonToken {
	f, n := strtodPrefix(d.data[d.pos:])
	if n == 0 {
		return d.errorToken(tok, "invalid number")
	}
	d.pos += n
	tok.kind, tok.num = tNumber, f
	return tok
}

func (d *cjsonDecoder) string(tok cjsonToken) cjsonToken {
	d.pos++ // the opening quote
	var b []byte
	for {
		if d.pos >= len(d.data) {
			return d.errorToken(tok, "unexpected end of string")
		}
		c := d.data[d.pos]
		if c == '"' {
			d.pos++
			tok.kind, tok.str = tString, string(b)
			return tok
		}
		if c != '\\' {
			b = append(b, c)
			d.pos++
			continue
		}
		var esc byte
		if d.pos+1 < len(d.data) {
			esc = d.data[d.pos+1]
		}
		switch esc {
		case '"', '\\', '/':
			b = append(b, esc)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, n := cjsonUnicodeEscape(d.data[d.pos:])
			if n == 0 {
				return d.errorToken(tok, "invalid unicode escape code")
			}
			b = utf8.AppendRune(b, r)
			d.pos += n
			continue
		default:
			return d.errorToken(tok, "invalid escape code")
		}
		d.pos += 2
	}
}

// cjsonUnicodeEscape decodes \uXXXX (or a \uD8xx\uDCxx surrogate pair) at
// the start of s, returning the code point and the bytes consumed, 0 if
// invalid.
func cjsonUnicodeEscape(s string) (rune, int) {
	hex4 := func(at int) int {
		if at+4 > len(s) {
			return -1
		}
		v, err := strconv.ParseUint(s[at:at+4], 16, 32)
		if err != nil {
			return -1
		}
		return int(v)
	}
	cp := hex4(2)
	if cp < 0 {
		return 0, 0
	}
	if cp&0xF800 != 0xD800 {
		return rune(cp), 6
	}
	if cp&0x400 != 0 || len(s) < 8 || s[6] != '\\' || s[7] != 'u' {
		return 0, 0
	}
	low := hex4(8)
	if low < 0 || low&0xFC00 != 0xDC00 {
		return 0, 0
	}
	return rune((cp&0x3FF)<<10|low&0x3FF) + 0x10000, 12
}

// strtodPrefix reads the longest prefix of s that C's strtod reads (no
// leading white space: cjson skips it) and returns its value and length,
// 0 when there is none.
func strtodPrefix(s string) (float64, int) {
	i := 0
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	signed := func(f float64) float64 {
		if neg {
			return -f
		}
		return f
	}
	lower := strings.ToLower(s[i:])
	switch {
	case strings.HasPrefix(lower, "infinity"):
		return signed(math.Inf(1)), i + 8
	case strings.HasPrefix(lower, "inf"):
		return signed(math.Inf(1)), i + 3
	case strings.HasPrefix(lower, "nan"):
		n := i + 3
		if j := strings.IndexByte(s[n:], ')'); n < len(s) && s[n] == '(' && j > 0 {
			n += j + 1
		}
		return math.NaN(), n
	}
	digits := func(j int, hex bool) int {
		for j < len(s) && ('0' <= s[j] && s[j] <= '9' || hex && strings.IndexByte("abcdefABCDEF", s[j]) >= 0) {
			j++
		}
		return j
	}
	if strings.HasPrefix(lower, "0x") {
		j := digits(i+2, true)
		frac := j
		if frac < len(s) && s[frac] == '.' {
			frac = digits(frac+1, true)
		}
		if frac > i+2 && !(frac == i+3 && s[i+2] == '.') {
			end := frac
			if end < len(s) && s[end]|0x20 == 'p' {
				k := end + 1
				if k < len(s) && (s[k] == '+' || s[k] == '-') {
					k++
				}
				if e := digits(k, false); e > k {
					end = e
				}
			}
			text := s[i:end]
			if !strings.ContainsAny(text, "pP") {
				text += "p0"
			}
			f, _ := strconv.ParseFloat(text, 64)
			return signed(f), end
		}
		// "0x" with no hex digits: strtod reads the "0".
		return signed(0), i + 1
	}
	j := digits(i, false)
	mant := j - i
	if j < len(s) && s[j] == '.' {
		k := digits(j+1, false)
		mant += k - j - 1
		j = k
	}
	if mant == 0 {
		return 0, 0
	}
	end := j
	if j < len(s) && s[j]|0x20 == 'e' {
		k := j + 1
		if k < len(s) && (s[k] == '+' || s[k] == '-') {
			k++
		}
		if e := digits(k, false); e > k {
			end = e
		}
	}
	f, _ := strconv.ParseFloat(s[i:end], 64) // ErrRange: ±Inf or 0, as strtod
	return signed(f), end
}
