package conffile

// ParseBool parses a boolean config value: "yes" or "no" in any ASCII case,
// nothing else (not even with surrounding blanks), as Redis's yesnotoi.
func ParseBool(s string) (bool, error) {
	switch {
	case asciiEqualFold(s, "yes"):
		return true, nil
	case asciiEqualFold(s, "no"):
		return false, nil
	}
	return false, ErrNotYesNo
}

// maxMemoryDigits mirrors the 128-byte buffer Redis copies the digits into:
// 128 or more digits are rejected outright.
const maxMemoryDigits = 128

// ParseMemory parses a memory value the way Redis 7.0.15's memtoull does
// and returns the 64-bit result as the long long Redis's numeric config
// code stores it in.
//
// The value is a run of ASCII decimal digits followed by an optional unit,
// matched ignoring ASCII case: b (1), k (1000), kb (1024), m (10^6),
// mb (2^20), g (10^9) or gb (2^30). Anything else is ErrNotMemory: a sign,
// blanks, a decimal point, other units. Some results are surprising but
// are what redis-server 7.0.15 does (each was checked with CONFIG SET
// maxmemory):
//
//   - an empty digit run counts as zero, so "", "b" and "kb" give 0;
//   - 128 or more digits are rejected;
//   - a digit run above 2^64-1 saturates to 2^64-1 (strtoull's ERANGE is
//     not checked), and the multiplication by the unit wraps modulo 2^64
//     (there is no overflow check in 7.0.15; 17179869184gb gives 0).
//
// Results of 2^63 and above come back negative; unsigned configs such as
// maxmemory reinterpret them with uint64(v), exactly as Redis's boundary
// check for unsigned configs does, so CONFIG SET maxmemory
// 18446744073709551615 is accepted.
func ParseMemory(s string) (int64, error) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	digits, unit := s[:i], s[i:]
	var mul uint64
	switch {
	case unit == "" || asciiEqualFold(unit, "b"):
		mul = 1
	case asciiEqualFold(unit, "k"):
		mul = 1000
	case asciiEqualFold(unit, "kb"):
		mul = 1024
	case asciiEqualFold(unit, "m"):
		mul = 1000 * 1000
	case asciiEqualFold(unit, "mb"):
		mul = 1024 * 1024
	case asciiEqualFold(unit, "g"):
		mul = 1000 * 1000 * 1000
	case asciiEqualFold(unit, "gb"):
		mul = 1024 * 1024 * 1024
	default:
		return 0, ErrNotMemory
	}
	if len(digits) >= maxMemoryDigits {
		return 0, ErrNotMemory
	}
	var val uint64
	for j := 0; j < len(digits); j++ {
		d := uint64(digits[j] - '0')
		if val > (^uint64(0)-d)/10 {
			val = ^uint64(0) // strtoull saturates on overflow
			break
		}
		val = val*10 + d
	}
	return int64(val * mul), nil
}
