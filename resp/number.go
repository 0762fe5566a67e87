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
// infinity; NaN, surrounding spaces, trailing garbage, overflow and
// underflow to zero are rejected. inf reports the literal inf/infinity
// (which INCRBYFLOAT then refuses as an increment producing infinity).
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
		// big.Float refuses exponents past its range where strtold
		// saturates: with a zero mantissa the number is still 0
		// ("0e9999999999999999999"); with any other it is out of range.
		if zeroWithHugeExponent(s, base) {
			return new(big.Float).SetPrec(ldPrec), false, true
		}
		return nil, false, false
	}
	// Out of range either way, strtold sets ERANGE (returning ±HUGE_VALL
	// or 0) and string2ld rejects the number: "1e5000" is not a valid
	// float, unlike the literal "inf".
	if f.IsInf() {
		return nil, false, false
	}
	if e := f.MantExp(nil); f.Sign() != 0 && (e > ldMaxExp || e < ldMinExp) {
		return nil, false, false
	}
	return f, false, true
}

// zeroWithHugeExponent reports whether s is a well-formed number whose
// mantissa is zero, whatever its (possibly huge) exponent.
func zeroWithHugeExponent(s string, base int) bool {
	marks := "eE"
	if base == 0 {
		marks = "pP"
	}
	i := strings.LastIndexAny(s, marks)
	if i < 0 {
		return false
	}
	exp := strings.TrimPrefix(strings.TrimPrefix(s[i+1:], "+"), "-")
	if len(exp) == 0 || len(exp) < len(s[i+1:])-1 || strings.Trim(exp, "0123456789") != "" {
		return false
	}
	f, _, err := new(big.Float).Parse(s[:i]+marks[:1]+"0", base)
	return err == nil && f.Sign() == 0
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
