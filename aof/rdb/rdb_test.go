package rdb

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestChecksumJones: Redis's crc64 self-test value (src/crc64.c).
func TestChecksumJones(t *testing.T) {
	assert.Equal(t, uint64(0xe9c6d914c4b8d9ca), Checksum(0, []byte("123456789")))
	assert.Equal(t, Checksum(0, []byte("123456789")), Checksum(Checksum(0, []byte("1234")), []byte("56789")))
}
