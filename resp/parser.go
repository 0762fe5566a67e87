package resp

import (
	"errors"
	"fmt"
	"math"

	"github.com/celerity/celerity/keyspace"
	"github.com/celerity/celerity/resp/conffile"
)

// Protocol limits from Redis's networking.c.
const (
	inlineMaxSize      = 64 * 1024 // longest inline request or header line without CR
	unauthMaxArgs      = 10        // multibulk count allowed before AUTH
	unauthMaxBulk      = 16384     // bulk length allowed before AUTH
	ioBufLen           = 16 * 1024 // initial read buffer
	shrinkReadBufAbove = 64 * 1024
)

// protocolError is a malformed request: Redis replies "-ERR Protocol error:
// ..." and closes the connection after the reply.
type protocolError struct{ msg string }

func (e *protocolError) Error() string { return "Protocol error: " + e.msg }

var errQueryBufLimit = errors.New("client reached max query buffer length")

// parser is the resumable request parser of one connection. The read buffer
// holds [pcmd, rend): the start of the command being parsed up to the last
// byte read. Partial progress (header counts, bulk offsets) is kept so a
// large request arriving in many reads is scanned once, and nothing is
// allocated from a length the client claims: the buffer grows only as data
// actually arrives.
type parser struct {
	rbuf  []byte
	rend  int   // end of valid data
	pcmd  int   // start of the command being parsed
	ppos  int   // parse position
	nargs int   // arguments expected by the multibulk in progress, 0 if none
	bulk  int   // length of the bulk being read, -1 if its header is not read
	offs  []int // (offset from pcmd, length) pairs of the arguments read so far
	argv  [][]byte
}

// next parses the next complete command into p.argv. It returns false when
// more data is needed. Empty commands (*0, *-1, blank lines) are skipped as
// Redis skips them.
func (p *parser) next(authRequired bool, maxBulk int64) (bool, error) {
	for {
		if p.nargs == 0 {
			p.pcmd = p.ppos
			if p.ppos >= p.rend {
				return false, nil
			}
			if p.rbuf[p.ppos] != '*' {
				ok, skip, err := p.inline()
				if err != nil || ok {
					return ok, err
				}
				if skip {
					continue
				}
				return false, nil
			}
			buf := p.rbuf[p.ppos:p.rend]
			nl := indexCR(buf)
			if nl < 0 {
				if len(buf) > inlineMaxSize {
					return false, &protocolError{"too big mbulk count string"}
				}
				return false, nil
			}
			if nl > len(buf)-2 {
				return false, nil
			}
			n, ok := keyspace.ParseInt(buf[1:nl])
			if !ok || n > math.MaxInt32 {
				return false, &protocolError{"invalid multibulk length"}
			}
			if n > unauthMaxArgs && authRequired {
				return false, &protocolError{"unauthenticated multibulk length"}
			}
			p.ppos += nl + 2
			if n <= 0 {
				continue
			}
			p.nargs = int(n)
			p.bulk = -1
			p.offs = p.offs[:0]
		}
		for len(p.offs)/2 < p.nargs {
			if p.bulk < 0 {
				buf := p.rbuf[p.ppos:p.rend]
				nl := indexCR(buf)
				if nl < 0 {
					if len(buf) > inlineMaxSize {
						return false, &protocolError{"too big bulk count string"}
					}
					return false, nil
				}
				if nl > len(buf)-2 {
					return false, nil
				}
				if buf[0] != '$' {
					return false, &protocolError{fmt.Sprintf("expected '$', got '%c'", buf[0])}
				}
				n, ok := keyspace.ParseInt(buf[1:nl])
				if !ok || n < 0 || n > maxBulk {
					return false, &protocolError{"invalid bulk length"}
				}
				if n > unauthMaxBulk && authRequired {
					return false, &protocolError{"unauthenticated bulk length"}
				}
				p.ppos += nl + 2
				p.bulk = int(n)
			}
			if p.rend-p.ppos < p.bulk+2 {
				return false, nil
			}
			p.offs = append(p.offs, p.ppos-p.pcmd, p.bulk)
			p.ppos += p.bulk + 2
			p.bulk = -1
		}
		p.argv = p.argv[:0]
		for i := 0; i < len(p.offs); i += 2 {
			o := p.pcmd + p.offs[i]
			p.argv = append(p.argv, p.rbuf[o:o+p.offs[i+1]:o+p.offs[i+1]])
		}
		p.nargs = 0
		return true, nil
	}
}

// inline parses an inline command (a line of space-separated, optionally
// quoted words). skip reports an empty line.
func (p *parser) inline() (ok, skip bool, err error) {
	buf := p.rbuf[p.ppos:p.rend]
	nl := indexNL(buf)
	if nl < 0 {
		if len(buf) > inlineMaxSize {
			return false, false, &protocolError{"too big inline request"}
		}
		return false, false, nil
	}
	line := buf[:nl]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	words, serr := conffile.SplitArgs(string(line))
	if serr != nil {
		return false, false, &protocolError{"unbalanced quotes in request"}
	}
	p.ppos += nl + 1
	if len(words) == 0 {
		return false, true, nil
	}
	p.argv = p.argv[:0]
	for _, w := range words {
		p.argv = append(p.argv, []byte(w))
	}
	return true, false, nil
}

// indexCR finds the first '\r' the way Redis's strchr on its NUL-terminated
// query buffer does: a NUL byte ends the search.
func indexCR(b []byte) int {
	for i, c := range b {
		if c == '\r' {
			return i
		}
		if c == 0 {
			return -1
		}
	}
	return -1
}

func indexNL(b []byte) int {
	for i, c := range b {
		if c == '\n' {
			return i
		}
		if c == 0 {
			return -1
		}
	}
	return -1
}

// prepareRead makes room at the end of the read buffer: it rewinds an empty
// buffer, moves a partial command to the front, or grows the buffer, and
// fails once the pending command exceeds limit.
func (p *parser) prepareRead(limit int64) error {
	if p.nargs == 0 && p.ppos >= p.rend {
		p.ppos, p.pcmd, p.rend = 0, 0, 0
		if cap(p.rbuf) > shrinkReadBufAbove {
			p.rbuf = make([]byte, ioBufLen)
			// The argument slices of the last command point into the old
			// buffer: drop them too, or they keep it alive.
			if cap(p.argv) > 1024 {
				p.argv, p.offs = nil, nil
			} else {
				clear(p.argv[:cap(p.argv)])
			}
		}
	}
	if p.rbuf == nil {
		p.rbuf = make([]byte, ioBufLen)
	}
	if p.rend < len(p.rbuf) {
		return nil
	}
	if p.pcmd > 0 {
		n := copy(p.rbuf, p.rbuf[p.pcmd:p.rend])
		p.ppos -= p.pcmd
		p.rend = n
		p.pcmd = 0
		if p.rend < len(p.rbuf) {
			return nil
		}
	}
	if int64(p.rend) >= limit {
		return errQueryBufLimit
	}
	nb := make([]byte, 2*len(p.rbuf))
	copy(nb, p.rbuf[:p.rend])
	p.rbuf = nb
	return nil
}
