package rdb

import "errors"

// lzfMaxExpansion bounds how much LZF output one input byte can account
// for: the longest back reference is 3 input bytes producing 264 output
// bytes, and literal runs never expand. A claimed uncompressed length above
// clen*88 cannot be right, so it is refused before anything is allocated.
const lzfMaxExpansion = 264 / 3

var (
	errLZFInput  = errors.New("truncated LZF input")
	errLZFOutput = errors.New("LZF output does not match the stated length")
	errLZFRef    = errors.New("LZF back reference before the start of the output")
)

// lzfDecompress expands in (LZF, as Redis's C3 string encoding stores it)
// into exactly ulen bytes. The input is a sequence of control bytes:
// below 32 a literal run of ctrl+1 bytes follows; otherwise the top three
// bits are a length (7 = an extra length byte follows) and the low five
// plus the next byte an offset back into the output. Every run and
// reference is checked against the input and the output written so far;
// the output must end exactly at ulen. ulen must already be bounded by the
// caller (see lzfMaxExpansion).
func lzfDecompress(in []byte, ulen int) ([]byte, error) {
	out := make([]byte, ulen)
	ip, op := 0, 0
	for ip < len(in) {
		ctrl := int(in[ip])
		ip++
		if ctrl < 32 {
			n := ctrl + 1
			if ip+n > len(in) {
				return nil, errLZFInput
			}
			if op+n > ulen {
				return nil, errLZFOutput
			}
			copy(out[op:], in[ip:ip+n])
			ip += n
			op += n
			continue
		}
		n := ctrl >> 5
		if n == 7 {
			if ip >= len(in) {
				return nil, errLZFInput
			}
			n += int(in[ip])
			ip++
		}
		n += 2
		if ip >= len(in) {
			return nil, errLZFInput
		}
		ref := op - (ctrl&0x1f)<<8 - int(in[ip]) - 1
		ip++
		if ref < 0 {
			return nil, errLZFRef
		}
		if op+n > ulen {
			return nil, errLZFOutput
		}
		// Byte by byte: the source may overlap what is being written
		// (a run repeating the last few bytes).
		for i := 0; i < n; i++ {
			out[op+i] = out[ref+i]
		}
		op += n
	}
	if op != ulen {
		return nil, errLZFOutput
	}
	return out, nil
}
