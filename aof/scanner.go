package aof

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/celerity/celerity/aof/rdb"
)

// The scanner is deliberately stricter than Redis's loader (which skips the
// CRLF after a bulk without looking at it and reads lengths with strtol):
// anything Redis writes is accepted, anything else is reported with the
// offset where it stopped making sense. It never allocates more than the
// bytes actually present plus one chunk, whatever length a header claims.

const (
	// maxArgs bounds a command's argument count, as Redis's protocol does
	// for authenticated clients (a count above it is corruption).
	maxArgs = 1<<31 - 1
	// maxBulk bounds one argument: Redis's proto-max-bulk-len can be raised
	// up to LLONG_MAX, but no AOF Redis writes holds a 2^40-byte argument.
	maxBulk = 1 << 40
	// bulkChunk is how much a bulk grows per read, so a forged length near
	// the end of a file costs at most this much memory.
	bulkChunk = 1 << 20
	// maxAnnotation bounds a '#' annotation line. Redis writes "#TS:<unix>"
	// (and reads annotations through a 128-byte buffer).
	maxAnnotation = 4096
)

// DamageKind classifies why a file's valid prefix ends before its end.
type DamageKind int

// The kinds of damage. All but DamageCorrupt are a torn tail: the file is a
// valid prefix followed by an incomplete write, which is what a crash in the
// middle of write(2) leaves. Only a torn tail may be truncated away on load
// (aof-load-truncated).
const (
	// DamageTorn: the file ends in the middle of a command.
	DamageTorn DamageKind = iota + 1
	// DamageMulti: the file ends inside a MULTI block without its EXEC
	// (complete or not, the transaction is reverted).
	DamageMulti
	// DamageZeroFill: from some offset to the end the file holds only NUL
	// bytes, the signature of a file extended by the file system whose data
	// never reached the disk (power loss with delayed allocation). Redis
	// calls this a bad format; here it is a torn tail.
	DamageZeroFill
	// DamageAnnotation: the file ends in a '#' annotation line without its
	// newline. No command is lost, but appending after it would glue the
	// next command to the annotation.
	DamageAnnotation
	// DamageCorrupt: bytes that no prefix of a valid AOF contains, before
	// the end of the file. Never repaired automatically.
	DamageCorrupt
)

func (k DamageKind) String() string {
	switch k {
	case DamageTorn:
		return "torn command"
	case DamageMulti:
		return "unterminated MULTI"
	case DamageZeroFill:
		return "zero-filled tail"
	case DamageAnnotation:
		return "unterminated annotation"
	case DamageCorrupt:
		return "corruption"
	}
	return "DamageKind(" + strconv.Itoa(int(k)) + ")"
}

// Tail reports whether the damage is a torn tail (repairable by truncation).
func (k DamageKind) Tail() bool { return k != DamageCorrupt && k != 0 }

// Damage describes where and why a file stops being valid.
type Damage struct {
	Kind DamageKind
	// At is where the problem was detected: the start of the line or bulk
	// that could not be read (redis-check-aof prints this position).
	At int64
	// Msg says what was expected, in redis-check-aof's words where it has
	// them ("Expected \r\n, got: 580a").
	Msg string
}

// FileReport is the result of reading one AOF file to its end.
type FileReport struct {
	Name string
	// Size is the number of bytes in the file.
	Size int64
	// ValidEnd is the end of the longest valid prefix: complete commands,
	// closed MULTI blocks and complete annotations (redis-check-aof's
	// ok_up_to). Truncating the file there repairs a torn tail.
	ValidEnd int64
	// Lines counts the protocol lines read before stopping, as
	// redis-check-aof's ok_up_to_line does (minus its initial 1).
	Lines int64
	// Commands counts the commands in the valid prefix, MULTI and EXEC
	// included.
	Commands int64
	// Dropped counts the complete commands after the valid prefix that
	// belong to an unterminated MULTI block (MULTI included).
	Dropped int64
	// RDBPreamble is set when the file starts with "REDIS": a base written
	// with aof-use-rdb-preamble; its keys were yielded as commands.
	RDBPreamble bool
	// Damage is nil when the whole file is valid.
	Damage *Damage
	// Err is an I/O error that stopped the read (not a format problem).
	Err error
}

// Command is one command read from an AOF.
type Command struct {
	// Argv is the command and its arguments. The slices are not reused:
	// the caller may keep them.
	Argv [][]byte
	// File is the name of the file (inside the AOF directory) it came from.
	File string
	// Offset is the position of the command's first byte in File.
	Offset int64
	// End is the position just after its last byte.
	End int64
}

// FileReader reads the commands of one AOF file in order and, at the end,
// reports how the file ends (FileReport). Commands of a MULTI block are
// held back until its EXEC is read, so a reader never yields part of a
// transaction that the file does not complete; MULTI and EXEC themselves are
// yielded. A nested MULTI or an EXEC without MULTI is corruption (as in
// redis-check-aof). Annotation lines are skipped.
type FileReader struct {
	r        *bufio.Reader
	name     string
	size     int64 // -1 when unknown
	off      int64
	lineOff  int64 // start of the line being read, for Damage.At
	lastBulk int64 // start of the last bulk read (redis-check-aof's position at EOF)
	lines    int64
	ready    []Command
	multi    []Command
	inMulti  bool
	done     bool
	started  bool
	report   FileReport
	validEnd int64
	commands int64
	cur      Command
	preamble bool        // the file starts with an RDB
	rdb      *rdb.Reader // reading the RDB preamble
	rdbDB    int         // database of the last SELECT yielded from it
}

// NewFileReader returns a FileReader over r, which holds a file of size
// bytes (-1 if unknown) named name (used in Commands and reports).
func NewFileReader(r io.Reader, name string, size int64) *FileReader {
	return &FileReader{r: bufio.NewReaderSize(r, 64<<10), name: name, size: size}
}

// Next advances to the next command; it returns false at the end of the
// valid prefix (then Report says why).
func (fr *FileReader) Next() bool {
	for len(fr.ready) == 0 {
		if fr.done {
			return false
		}
		fr.step()
	}
	fr.cur = fr.ready[0]
	fr.ready[0] = Command{}
	fr.ready = fr.ready[1:]
	return true
}

// Command returns the current command.
func (fr *FileReader) Command() Command { return fr.cur }

// Report drains the remaining commands and returns how the file ends.
func (fr *FileReader) Report() FileReport {
	for fr.Next() {
	}
	return fr.report
}

// step reads one protocol element and updates the state; it sets fr.done
// and fr.report at the end.
func (fr *FileReader) step() {
	if !fr.started {
		fr.started = true
		if head, err := fr.r.Peek(5); err == nil && string(head) == rdb.Magic {
			fr.preamble = true
			rd, err := rdb.NewReader(fr.r)
			if err != nil {
				fr.rdbFail(nil, err)
				return
			}
			fr.rdb, fr.rdbDB = rd, -1
			return
		}
	}
	if fr.rdb != nil {
		fr.rdbStep()
		return
	}
	fr.lineOff = fr.off
	c, err := fr.r.ReadByte()
	if err == io.EOF {
		if fr.inMulti {
			fr.finish(&Damage{Kind: DamageMulti, At: fr.lastBulk, Msg: "Reached EOF before reading EXEC for MULTI"}, nil)
		} else {
			fr.finish(nil, nil)
		}
		return
	}
	if err != nil {
		fr.finish(nil, err)
		return
	}
	fr.off++
	switch c {
	case '#':
		fr.annotation()
	case '*':
		fr.command()
	default:
		fr.corrupt(c, fmt.Sprintf("Expected '*' or '#', got: %s", quoteByte(c)))
	}
}

func (fr *FileReader) annotation() {
	start := fr.off - 1
	for n := 1; ; n++ {
		c, err := fr.r.ReadByte()
		if err == io.EOF {
			fr.finish(&Damage{Kind: DamageAnnotation, At: start, Msg: "Unterminated annotation at EOF"}, nil)
			return
		}
		if err != nil {
			fr.finish(nil, err)
			return
		}
		fr.off++
		if c == '\n' {
			break
		}
		if n > maxAnnotation {
			fr.finish(&Damage{Kind: DamageCorrupt, At: start, Msg: "Annotation line too long"}, nil)
			return
		}
	}
	if !fr.inMulti {
		fr.validEnd = fr.off
	}
}

// parseFail carries a failure out of the element readers: a torn tail, an
// unexpected byte, or an I/O error.
type parseFail struct {
	torn bool
	bad  byte // the offending byte, when neither torn nor err
	msg  string
	err  error
}

func (fr *FileReader) command() {
	start := fr.off - 1
	argc, pf := fr.number(maxArgs)
	if pf != nil {
		fr.fail(pf)
		return
	}
	if argc < 1 {
		fr.finish(&Damage{Kind: DamageCorrupt, At: fr.lineOff, Msg: "Invalid command: argument count is 0"}, nil)
		return
	}
	fr.lines++
	argv := make([][]byte, 0, min(argc, 64))
	for i := int64(0); i < argc; i++ {
		fr.lineOff = fr.off
		c, err := fr.r.ReadByte()
		if err != nil {
			fr.ioOrTorn(err, "Expected '$', got EOF")
			return
		}
		fr.off++
		if c != '$' {
			fr.corrupt(c, fmt.Sprintf("Expected prefix '$', got: '%c'", c))
			return
		}
		n, pf := fr.number(maxBulk)
		if pf != nil {
			fr.fail(pf)
			return
		}
		fr.lines++
		fr.lineOff = fr.off
		fr.lastBulk = fr.off
		arg, ok := fr.bulk(n)
		if !ok {
			return
		}
		fr.lines++
		argv = append(argv, arg)
	}
	cmd := Command{Argv: argv, File: fr.name, Offset: start, End: fr.off}
	switch {
	case isCmd(argv, "multi"):
		if fr.inMulti {
			fr.finish(&Damage{Kind: DamageCorrupt, At: fr.lastBulk, Msg: "Unexpected MULTI in AOF " + fr.name}, nil)
			return
		}
		fr.inMulti = true
		fr.multi = append(fr.multi[:0], cmd)
	case isCmd(argv, "exec"):
		if !fr.inMulti {
			fr.finish(&Damage{Kind: DamageCorrupt, At: fr.lastBulk, Msg: "Unexpected EXEC in AOF " + fr.name}, nil)
			return
		}
		fr.inMulti = false
		fr.ready = append(fr.ready, fr.multi...)
		fr.ready = append(fr.ready, cmd)
		fr.commands += int64(len(fr.multi)) + 1
		clear(fr.multi)
		fr.multi = fr.multi[:0]
		fr.validEnd = fr.off
	case fr.inMulti:
		fr.multi = append(fr.multi, cmd)
	default:
		fr.ready = append(fr.ready, cmd)
		fr.commands++
		fr.validEnd = fr.off
	}
}

// number reads the digits and CRLF after a '*' or '$'.
func (fr *FileReader) number(limit int64) (int64, *parseFail) {
	var n int64
	digits := 0
	for {
		c, err := fr.r.ReadByte()
		if err != nil {
			if err == io.EOF {
				return 0, &parseFail{torn: true, msg: "Expected \\r\\n, got: 0000"}
			}
			return 0, &parseFail{err: err}
		}
		fr.off++
		if c == '\r' {
			break
		}
		if c < '0' || c > '9' {
			return 0, &parseFail{bad: c, msg: fmt.Sprintf("Expected a length, got: %s", quoteByte(c))}
		}
		digits++
		n = n*10 + int64(c-'0')
		if n > limit {
			return 0, &parseFail{bad: c, msg: "Length out of range"}
		}
	}
	if digits == 0 {
		return 0, &parseFail{bad: '\r', msg: "Expected a length, got: '\\r'"}
	}
	c, err := fr.r.ReadByte()
	if err != nil {
		if err == io.EOF {
			return 0, &parseFail{torn: true, msg: "Expected \\r\\n, got: 0d00"}
		}
		return 0, &parseFail{err: err}
	}
	fr.off++
	if c != '\n' {
		return 0, &parseFail{bad: c, msg: fmt.Sprintf("Expected \\r\\n, got: 0d%02x", c)}
	}
	return n, nil
}

// bulk reads n bytes and the CRLF after them.
func (fr *FileReader) bulk(n int64) ([]byte, bool) {
	if fr.size >= 0 && n > fr.size-fr.off {
		// Claimed past the end of the file: a torn write (or a forged
		// length) either way; nothing to allocate.
		fr.finish(&Damage{Kind: DamageTorn, At: fr.off,
			Msg: fmt.Sprintf("Expected to read %d bytes, got %d bytes", n+2, min(max(fr.size-fr.off, 0), n+2))}, nil)
		return nil, false
	}
	buf := make([]byte, 0, min(n, bulkChunk))
	for int64(len(buf)) < n {
		want := min(n-int64(len(buf)), bulkChunk)
		if int64(cap(buf)-len(buf)) < want {
			buf = append(buf, make([]byte, want)...)[:len(buf)]
		}
		got, err := io.ReadFull(fr.r, buf[len(buf):len(buf)+int(want)])
		buf = buf[:len(buf)+got]
		fr.off += int64(got)
		if err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				fr.finish(&Damage{Kind: DamageTorn, At: fr.lineOff,
					Msg: fmt.Sprintf("Expected to read %d bytes, got %d bytes", n+2, len(buf))}, nil)
			} else {
				fr.finish(nil, err)
			}
			return nil, false
		}
	}
	var crlf [2]byte
	for i := range crlf {
		c, err := fr.r.ReadByte()
		if err != nil {
			fr.ioOrTorn(err, fmt.Sprintf("Expected to read %d bytes, got %d bytes", n+2, n+int64(i)))
			return nil, false
		}
		fr.off++
		crlf[i] = c
		if c != "\r\n"[i] {
			fr.corrupt(c, fmt.Sprintf("Expected \\r\\n, got: %02x%02x", crlf[0], crlf[1]))
			return nil, false
		}
	}
	return buf, true
}

func (fr *FileReader) fail(pf *parseFail) {
	switch {
	case pf.err != nil:
		fr.finish(nil, pf.err)
	case pf.torn:
		fr.finish(&Damage{Kind: DamageTorn, At: fr.lineOff, Msg: pf.msg}, nil)
	default:
		fr.corrupt(pf.bad, pf.msg)
	}
}

func (fr *FileReader) ioOrTorn(err error, msg string) {
	if err == io.EOF {
		fr.finish(&Damage{Kind: DamageTorn, At: fr.lineOff, Msg: msg}, nil)
		return
	}
	fr.finish(nil, err)
}

// corrupt ends the file at an unexpected byte (already consumed). If that
// byte and everything after it are NUL, the damage is a zero-filled tail.
func (fr *FileReader) corrupt(bad byte, msg string) {
	at := fr.lineOff
	if bad == 0 {
		zeroAt := fr.off - 1
		zero, err := fr.restIsZero()
		if err != nil {
			fr.finish(nil, err)
			return
		}
		if zero {
			fr.finish(&Damage{Kind: DamageZeroFill, At: zeroAt, Msg: "Zero-filled tail"}, nil)
			return
		}
	}
	fr.finish(&Damage{Kind: DamageCorrupt, At: at, Msg: msg}, nil)
}

func (fr *FileReader) restIsZero() (bool, error) {
	var buf [32 << 10]byte
	for {
		n, err := fr.r.Read(buf[:])
		fr.off += int64(n)
		if n > 0 && bytes.ContainsFunc(buf[:n], func(r rune) bool { return r != 0 }) {
			return false, nil
		}
		if err == io.EOF {
			return true, nil
		}
		if err != nil {
			return false, err
		}
	}
}

func (fr *FileReader) finish(d *Damage, err error) {
	fr.done = true
	if d != nil && d.Kind == DamageTorn && fr.inMulti {
		// A torn command inside a transaction: the whole transaction goes.
		// (Redis 7.0 cuts after the last complete command instead, leaving
		// a dangling MULTI that swallows the commands appended after it on
		// the next start.)
		d.Kind = DamageMulti
	}
	size := fr.size
	if size < 0 || fr.off > size {
		size = fr.off
	}
	fr.report = FileReport{
		Name:     fr.name,
		Size:     size,
		ValidEnd: fr.validEnd,
		Lines:    fr.lines,
		Commands: fr.commands,
		Dropped:  int64(len(fr.multi)),
		Damage:   d,
		Err:      err,
	}
	fr.multi = nil
	fr.report.RDBPreamble = fr.preamble
}

// rdbStep reads one key of an RDB preamble and queues the commands that
// recreate it (rdb.AppendCommands). At the RDB's end, what follows in the
// file is read as commands: Redis 7's base.rdb ends there, a single-file
// AOF of Redis 4 to 6 goes on with the commands appended after its
// rewrite. An unreadable preamble is corruption: Redis refuses to start.
func (fr *FileReader) rdbStep() {
	rd := fr.rdb
	rec, err := rd.Next()
	off := rd.Offset()
	if err == io.EOF {
		// The RDB reader reads ahead: what it holds past the checksum is
		// the start of the commands.
		rest := append([]byte(nil), rd.Buffered()...)
		fr.r = bufio.NewReaderSize(io.MultiReader(bytes.NewReader(rest), fr.r), 64<<10)
		fr.off, fr.validEnd = off, off
		fr.rdb = nil
		return
	}
	if err != nil {
		fr.rdbFail(rd, err)
		return
	}
	if rec.DB != fr.rdbDB {
		fr.rdbDB = rec.DB
		fr.ready = append(fr.ready, Command{Argv: [][]byte{[]byte("SELECT"), strconv.AppendInt(nil, int64(rec.DB), 10)},
			File: fr.name, Offset: fr.off, End: off})
		fr.commands++
	}
	for _, argv := range rdb.AppendCommands(nil, rec) {
		fr.ready = append(fr.ready, Command{Argv: argv, File: fr.name, Offset: fr.off, End: off})
		fr.commands++
	}
	fr.off, fr.validEnd = off, off
}

// rdbFail ends the file at an error of its RDB preamble.
func (fr *FileReader) rdbFail(rd *rdb.Reader, err error) {
	at := fr.off
	if rd != nil {
		at = rd.Offset()
	}
	var fe *rdb.FormatError
	if errors.As(err, &fe) {
		at = fe.Offset
	} else if !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		fr.finish(nil, err) // an I/O error, not the file's content
		return
	}
	fr.finish(&Damage{Kind: DamageCorrupt, At: at, Msg: "Bad RDB preamble: " + err.Error()}, nil)
}

func isCmd(argv [][]byte, name string) bool {
	return len(argv) == 1 && len(argv[0]) == len(name) && bytes.EqualFold(argv[0], []byte(name))
}

func quoteByte(c byte) string {
	return strconv.QuoteRune(rune(c))
}
