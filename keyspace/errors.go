package keyspace

import "errors"

// Sentinel errors. The engine maps each to Redis's exact reply text.
var (
	// ErrWrongType is returned when a key holds a value of another type.
	ErrWrongType = errors.New("wrong type")
	// ErrNotInteger is returned when a value or argument is not a 64-bit integer.
	ErrNotInteger = errors.New("not an integer")
	// ErrNotFloat is returned when a value or argument is not a valid float.
	ErrNotFloat = errors.New("not a float")
	// ErrOverflow is returned when an increment would overflow 64 bits.
	ErrOverflow = errors.New("increment or decrement would overflow")
	// ErrNaNOrInf is returned when a float increment would produce NaN or ±Inf.
	ErrNaNOrInf = errors.New("increment would produce NaN or Infinity")
	// ErrNoSuchKey is returned when an operation requires an existing key.
	ErrNoSuchKey = errors.New("no such key")
	// ErrTooLarge is returned when a string would exceed proto-max-bulk-len.
	ErrTooLarge = errors.New("string exceeds maximum allowed size")
)
