package resp

import (
	"fmt"
)

// Redis 7.0.15's error texts, spelled once: no other file spells an error
// that two commands share.
const (
	errSyntax        = "ERR syntax error"
	errNotInteger    = "ERR value is not an integer or out of range"
	errNotFloat      = "ERR value is not a valid float"
	errWrongType     = "WRONGTYPE Operation against a key holding the wrong kind of value"
	errOverflow      = "ERR increment or decrement would overflow"
	errNaNOrInf      = "ERR increment would produce NaN or Infinity"
	errNoSuchKey     = "ERR no such key"
	errDBIndex       = "ERR DB index is out of range"
	errSameObject    = "ERR source and destination objects are the same"
	errNoAuth        = "NOAUTH Authentication required."
	errWrongPass     = "WRONGPASS invalid username-password pair or user is disabled."
	errTooLarge      = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
	errOffsetRange   = "ERR offset is out of range"
	errPositive      = "ERR value is out of range, must be positive"
	errNoPassDefault = "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"
	errNotInMulti    = "Command not allowed inside a transaction"
	errOOM           = "OOM command not allowed when used memory > 'maxmemory'." // shared.oomerr
	// errOOMBrokerSafe is Celerity's own: broker-safe's refusal once only
	// protected data is left (brokersafe.go).
	errOOMBrokerSafe = "OOM command not allowed when used memory > 'maxmemory': only protected broker data is left (maxmemory-policy broker-safe), retry later."
	errNoAuthHello   = "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"
)

// errWrongArgs is the arity error for a command, by its full name.
func errWrongArgs(fullName string) string {
	return "ERR wrong number of arguments for '" + fullName + "' command"
}

// errUnknownSubcommand is the reply to an unknown subcommand of a container.
func errUnknownSubcommand(sub []byte, container string) string {
	return fmt.Sprintf("ERR unknown subcommand '%s'. Try %s HELP.", cstr(sub, 128), upper(container))
}

// errSubcommandSyntax is Redis's reply to a known subcommand given a form
// it does not accept: the subcommand as typed, the container upper-cased.
func errSubcommandSyntax(argv [][]byte) string {
	return fmt.Sprintf("ERR unknown subcommand or wrong number of arguments for '%s'. Try %s HELP.", cstr(argv[1], 128), upper(cstr(argv[0], len(argv[0]))))
}

// cstr renders an argument the way C's "%.<max>s" would: cut at the first
// NUL byte and at max bytes.
func cstr(b []byte, max int) string {
	for i, c := range b {
		if c == 0 {
			b = b[:i]
			break
		}
	}
	if len(b) > max {
		b = b[:max]
	}
	return string(b)
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - ('a' - 'A')
		}
	}
	return string(b)
}

// errUnknownCommand is Redis 7.0's reply to an unknown command name: up to
// 128 bytes of arguments, each quoted and followed by a space.
func errUnknownCommand(argv [][]byte) string {
	args := make([]byte, 0, 64)
	for _, a := range argv[1:] {
		if len(args) >= 128 {
			break
		}
		p := 128 - len(args)
		args = append(args, '\'')
		args = append(args, cstr(a, p)...)
		args = append(args, '\'', ' ')
	}
	return fmt.Sprintf("ERR unknown command '%s', with args beginning with: %s", cstr(argv[0], 128), args)
}

// The texts extensions reply with for the same mistakes as Redis's own
// commands (one spelling each, the ones above).
const (
	ErrSyntax     = errSyntax
	ErrNotInteger = errNotInteger
	ErrDBIndex    = errDBIndex
	ErrPositive   = errPositive
)
