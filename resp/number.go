package resp

import (
	"math/big"
	"strings"

	"github.com/celerity/celerity/keyspace"
)

// parseStrictInt parses a 64-bit integer with Redis's string2ll rules.
func parseStrictInt(b []byte) (int64, bool) { return keyspace.ParseInt(b) }

// intArg parses argument i as an integer, replying with Redis's error when
// it is not one.
func (c *Client) intArg(i int) (int64, bool) {
	v, ok := parseStrictInt(c.argv[i])
	if !ok {
		c.Error(errNotInteger)
	}
	return v, ok
}

// Long double emulation. INCRBYFLOAT computes in C's long double, which on
// x86-64 is the x87 80-bit format: a 64-bit significand and a 15-bit
// exponent. big.Float with 64 bits of precision and nearest-even rounding
// performs the same correctly rounded operations, so results and their
// "%.17Lf" renderings agree digit for digit with Redis.
const (
	ldPrec   = 64
	ldMaxExp = 16384  // values >= 2^16384 overflow to infinity
	ldMinExp = -16444 // below the smallest subnormal, strtold reports ERANGE
)

// parseLongDouble parses a number as Redis's string2ld (strtold) accepts
// it: optional sign, decimal or hexadecimal mantissa, exponent, inf and
// infinity; NaN, surrounding spaces, trailing garbage and underflow to zero
// are rejected. inf reports an infinite value (which INCRBYFLOAT rejects).
func parseLongDouble(b []byte) (v *big.Float, inf bool, ok bool) {
	if len(b) == 0 || len(b) >= 5*1024 {
		return nil, false, false
	}
	s := string(b)
	body := strings.TrimLeft(s, "+-")
	if len(s)-len(body) > 1 {
		return nil, false, false
	}
	switch strings.ToLower(body) {
	case "inf", "infinity":
		return nil, true, true
	}
	if body == "" || strings.ContainsAny(body, "_ \t\n\r\v\f") {
		return nil, false, false
	}
	base := 10
	if len(body) > 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X') {
		base = 0
	}
	f, _, err := new(big.Float).SetPrec(ldPrec).SetMode(big.ToNearestEven).Parse(s, base)
	if err != nil {
		return nil, false, false
	}
	if f.IsInf() {
		return nil, true, true
	}
	if f.Sign() != 0 {
		e := f.MantExp(nil)
		if e > ldMaxExp {
			return nil, true, true
		}
		if e < ldMinExp {
			return nil, false, false
		}
	}
	return f, false, true
}

// formatLongDoubleHuman renders v as Redis's ld2string in human mode:
// "%.17Lf" with trailing zeros (and a trailing dot) removed, "-0" as "0".
func formatLongDoubleHuman(v *big.Float) string {
	s := v.Text('f', 17)
	if strings.IndexByte(s, '.') >= 0 {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

// ldOverflows reports whether v is outside the long double range.
func ldOverflows(v *big.Float) bool {
	return v.IsInf() || (v.Sign() != 0 && v.MantExp(nil) > ldMaxExp)
}
