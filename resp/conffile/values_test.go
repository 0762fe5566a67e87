package conffile

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseMemory(t *testing.T) {
	// Every row was checked with CONFIG SET maxmemory / CONFIG GET maxmemory
	// on redis-server 7.0.15; want is what CONFIG GET printed, as uint64.
	tests := []struct {
		in   string
		want uint64
		err  bool
	}{
		{in: "0", want: 0},
		{in: "007", want: 7},
		{in: "1b", want: 1},
		{in: "1B", want: 1},
		{in: "10K", want: 10000},
		{in: "10kb", want: 10240},
		{in: "1M", want: 1000000},
		{in: "1mB", want: 1048576},
		{in: "1g", want: 1000000000},
		{in: "1GB", want: 1073741824},
		{in: "", want: 0},
		{in: "b", want: 0},
		{in: "kb", want: 0},
		{in: "9223372036854775808", want: 1 << 63},
		{in: "18446744073709551615", want: 18446744073709551615},
		{in: "18446744073709551616", want: 18446744073709551615},
		{in: "17179869183gb", want: 18446744072635809792},
		{in: "17179869184gb", want: 0},
		{in: "18014398509481984kb", want: 0},
		{in: strings.Repeat("1", 127) + "kb", want: 18446744073709550592},
		{in: strings.Repeat("1", 128), err: true},
		{in: "-1", err: true},
		{in: "+5", err: true},
		{in: " 5", err: true},
		{in: "5 ", err: true},
		{in: "0x10", err: true},
		{in: "1t", err: true},
		{in: "1.5mb", err: true},
		{in: "1kib", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseMemory(tt.in)
			if tt.err {
				require.Error(t, err)
				assert.ErrorIs(t, err, ErrNotMemory)
				assert.Equal(t, "argument must be a memory value", err.Error())
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, uint64(got))
		})
	}
}

func TestParseMemoryNegativeBitPattern(t *testing.T) {
	got, err := ParseMemory("18446744073709551615")
	require.NoError(t, err)
	assert.Equal(t, int64(-1), got, "stored as Redis's long long")
}

func TestParseBool(t *testing.T) {
	// Checked with CONFIG SET lazyfree-lazy-eviction on redis-server 7.0.15.
	tests := []struct {
		in   string
		want bool
		err  bool
	}{
		{in: "yes", want: true},
		{in: "YES", want: true},
		{in: "yEs", want: true},
		{in: "no", want: false},
		{in: "No", want: false},
		{in: "", err: true},
		{in: "1", err: true},
		{in: "true", err: true},
		{in: "yes ", err: true},
		{in: "ｙes", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseBool(tt.in)
			if tt.err {
				require.Error(t, err)
				assert.ErrorIs(t, err, ErrNotYesNo)
				assert.Equal(t, "argument must be 'yes' or 'no'", err.Error())
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
