package rdb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
)

// Record is one key read from an RDB file.
//
// Keys whose expiry has already passed are returned as they are: deciding
// what "already" means is the caller's business (it drops them and counts
// them, as Redis counts rdb_last_load_keys_expired), not the decoder's.
type Record struct {
	DB       int    // database selected by the last SELECTDB (0 before any)
	Key      []byte // fresh, owned by the caller
	ExpireAt int64  // unix ms, 0 = no expiry (the seconds form is converted)
	Idle     int64  // OpIdle seconds, -1 when absent
	Freq     int    // OpFreq, -1 when absent
	Value    Value
}

// ErrDumpPayload is DecodeDump's answer for a payload whose footer is
// wrong (too short, a newer RDB version, a CRC mismatch): the text is the
// error RESTORE replies with in that case.
var ErrDumpPayload = errors.New("DUMP payload version or checksum are wrong")

// ErrBadData is DecodeDump's answer for a payload whose footer is right but
// whose body does not decode: the text is RESTORE's reply for that case.
var ErrBadData = errors.New("Bad data format") //lint:ignore ST1005 the text is Redis's RESTORE reply, capital included

// FormatError is a malformed RDB file. Offset is where the reader stood
// (bytes from the start of the stream) when it found the problem, so a
// human can look at the file with a hex dump.
type FormatError struct {
	Offset int64
	Msg    string
}

func (e *FormatError) Error() string {
	return e.Msg + " at offset " + strconv.FormatInt(e.Offset, 10)
}

// errShort marks input that ended in the middle of something; the Reader
// turns it into a FormatError with the offset, DecodeDump into ErrBadData.
var errShort = errors.New("unexpected end of RDB data")

// badData is a decoding problem found in the middle of a value; like
// errShort it gets its offset (or becomes ErrBadData) at the top.
type badData string

func (b badData) Error() string { return string(b) }

func bad(format string, args ...any) error { return badData(fmt.Sprintf(format, args...)) }

// bufSize is the read-ahead of the Reader's own buffer; small fixed-size
// reads (opcodes, lengths, 8-byte numbers) always fit in it.
const bufSize = 64 << 10

// chunkCap bounds the first allocation for a string whose length comes
// from the input: the slice grows only as bytes actually arrive, so a
// 4 GB claim in a short file costs at most this much.
const chunkCap = 64 << 10

// source is a small buffered reader that knows the exact logical offset
// and, when asked, keeps the running CRC-64 of the consumed bytes only
// (read-ahead bytes are folded in when they are consumed, never before).
// With r == nil buf is the whole input (DecodeDump): nothing is copied.
type source struct {
	r      io.Reader
	buf    []byte
	pos    int   // buf[pos:end] is read but not consumed
	end    int   //
	base   int64 // logical offset of buf[0]
	sum    bool  // keep crc
	crc    uint64
	crcPos int   // buf[:crcPos] is already folded into crc
	err    error // sticky error of r, io.EOF included
}

func (s *source) offset() int64 { return s.base + int64(s.pos) }

// foldCRC brings crc up to the consumed position.
func (s *source) foldCRC() {
	if s.sum && s.crcPos < s.pos {
		s.crc = Checksum(s.crc, s.buf[s.crcPos:s.pos])
	}
	s.crcPos = s.pos
}

// fill makes at least want (≤ bufSize) unconsumed bytes available.
func (s *source) fill(want int) error {
	empties := 0
	for s.end-s.pos < want {
		if s.err != nil || s.r == nil {
			if s.err == nil || s.err == io.EOF || s.err == io.ErrUnexpectedEOF {
				return errShort
			}
			return s.err
		}
		if s.pos > 0 {
			s.foldCRC()
			n := copy(s.buf, s.buf[s.pos:s.end])
			s.base += int64(s.pos)
			s.pos, s.end, s.crcPos = 0, n, 0
		}
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		if err != nil {
			s.err = err
		} else if n == 0 {
			if empties++; empties > 100 {
				s.err = io.ErrNoProgress
			}
		}
	}
	return nil
}

// take consumes n (≤ bufSize) bytes; the slice is valid until the next
// call on s.
func (s *source) take(n int) ([]byte, error) {
	if s.end-s.pos < n {
		if err := s.fill(n); err != nil {
			return nil, err
		}
	}
	b := s.buf[s.pos : s.pos+n]
	s.pos += n
	return b, nil
}

func (s *source) readByte() (byte, error) {
	b, err := s.take(1)
	if err != nil {
		return 0, err
	}
	return b[0], nil
}

// bytes consumes n bytes into a fresh slice that grows only with the data
// actually present (see chunkCap).
func (s *source) readN(n uint64) ([]byte, error) {
	out := make([]byte, 0, min(n, chunkCap))
	for uint64(len(out)) < n {
		if s.pos == s.end {
			if err := s.fill(1); err != nil {
				return nil, err
			}
		}
		k := min(uint64(s.end-s.pos), n-uint64(len(out)))
		out = append(out, s.buf[s.pos:s.pos+int(k)]...)
		s.pos += int(k)
	}
	return out, nil
}

// Reader reads the keys of an RDB file one at a time.
//
// It reads through its own buffer, so it may read up to 64 KB past the end
// of the RDB data (an old single-file AOF has RESP commands after its RDB
// preamble). Offset is the exact logical position where the RDB data
// ended, and Buffered returns the bytes read ahead but not consumed: the
// caller continues with Buffered() followed by the rest of the underlying
// reader.
type Reader struct {
	src     source
	version int
	db      int
	aux     []Aux
	empty   int64
	err     error // sticky: io.EOF after the end, or the first failure
}

// NewReader reads the header ("REDIS" and four ASCII digits) and accepts
// versions 1..MaxReadVersion. The errors for a bad header carry Redis's own log
// line as their text: "Wrong signature trying to load DB from file" and
// "Can't handle RDB format version N".
func NewReader(r io.Reader) (*Reader, error) {
	rd := &Reader{src: source{r: r, buf: make([]byte, bufSize), sum: true}}
	head, err := rd.src.take(9)
	if err != nil {
		return nil, rd.fail(err)
	}
	if string(head[:5]) != Magic {
		return nil, errors.New("Wrong signature trying to load DB from file") //lint:ignore ST1005 Redis's log line
	}
	v := atoi(head[5:9])
	if v < 1 || v > MaxReadVersion {
		return nil, fmt.Errorf("Can't handle RDB format version %d", v) //lint:ignore ST1005 Redis's log line
	}
	rd.version = v
	return rd, nil
}

// atoi reads the version digits as C's atoi does (leading blanks, a sign,
// digits up to the first non-digit), so "0009" is 9 and "9xyz" is 9 as in
// Redis, and garbage is 0, which is then refused.
func atoi(b []byte) int {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] >= '\t' && b[i] <= '\r') {
		i++
	}
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	n := 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		n = n*10 + int(b[i]-'0')
	}
	if neg {
		n = -n
	}
	return n
}

// Version is the file's RDB version from its header.
func (r *Reader) Version() int { return r.version }

// Aux returns the aux fields seen so far, in file order. They precede the
// first key in files Redis writes, so after the first Next they are all
// there.
func (r *Reader) Aux() []Aux { return r.aux }

// Offset is the number of bytes of the stream the reader has consumed;
// after Next returned io.EOF it is the end of the RDB data, checksum
// included.
func (r *Reader) Offset() int64 { return r.src.offset() }

// Buffered returns the bytes read from the underlying reader but not
// consumed (they follow Offset). The slice is valid until the next call.
func (r *Reader) Buffered() []byte { return r.src.buf[r.src.pos:r.src.end] }

// EmptyKeysSkipped counts keys whose collection decoded empty: Redis 7.0
// skips those when loading (older versions could write them), and so does
// Next.
func (r *Reader) EmptyKeysSkipped() int64 { return r.empty }

// fail turns an internal error into what the API promises: a FormatError
// with the offset, or the underlying reader's own error with context.
func (r *Reader) fail(err error) error {
	off := r.src.offset()
	var b badData
	switch {
	case err == errShort:
		return &FormatError{Offset: off, Msg: "Unexpected EOF reading RDB file"}
	case errors.As(err, &b):
		return &FormatError{Offset: off, Msg: string(b)}
	default:
		var fe *FormatError
		if errors.As(err, &fe) {
			return err
		}
		return fmt.Errorf("rdb: reading at offset %d: %w", off, err)
	}
}

// Next returns the next key. It returns io.EOF once the EOF opcode and
// (version ≥ 5) the 8-byte checksum were read and verified; a stored
// checksum of 0 means the file was written with rdbchecksum no and is not
// checked, as Redis does. After an error every call returns the same
// error.
func (r *Reader) Next() (*Record, error) {
	if r.err != nil {
		return nil, r.err
	}
	rec, err := r.next()
	if err != nil {
		if err != io.EOF {
			err = r.fail(err)
		}
		r.err = err
		return nil, err
	}
	return rec, nil
}

func (r *Reader) next() (*Record, error) {
	s := &r.src
	expireAt, idle, freq := int64(0), int64(-1), -1
	for {
		op, err := s.readByte()
		if err != nil {
			return nil, err
		}
		switch op {
		case OpExpireTimeMs:
			b, err := s.take(8)
			if err != nil {
				return nil, err
			}
			expireAt = int64(binary.LittleEndian.Uint64(b))
		case OpExpireTime:
			b, err := s.take(4)
			if err != nil {
				return nil, err
			}
			expireAt = int64(int32(binary.LittleEndian.Uint32(b))) * 1000
		case OpIdle:
			n, err := readCount(s)
			if err != nil {
				return nil, err
			}
			if n > math.MaxInt64 {
				return nil, bad("Idle time out of range")
			}
			idle = int64(n)
		case OpFreq:
			b, err := s.readByte()
			if err != nil {
				return nil, err
			}
			freq = int(b)
		case OpSelectDB:
			n, err := readCount(s)
			if err != nil {
				return nil, err
			}
			// The caller compares with its own number of databases, as
			// Redis compares with its databases setting.
			if n > math.MaxInt32 {
				return nil, bad("SELECTDB %d out of range", n)
			}
			r.db = int(n)
		case OpResizeDB:
			// Size hints only: nothing is allocated from them.
			if _, err := readCount(s); err != nil {
				return nil, err
			}
			if _, err := readCount(s); err != nil {
				return nil, err
			}
		case OpAux:
			k, err := readString(s)
			if err != nil {
				return nil, err
			}
			v, err := readString(s)
			if err != nil {
				return nil, err
			}
			r.aux = append(r.aux, Aux{Key: string(k), Value: string(v)})
		case OpSlotInfo:
			// Slot id, keys and keys with a TTL in it: hints, as RESIZEDB.
			for range 3 {
				if _, err := readCount(s); err != nil {
					return nil, err
				}
			}
		case OpModuleAux:
			return nil, bad("The RDB file holds module data (module aux), which Celerity does not support")
		case OpFunction, OpFunction2:
			return nil, bad("The RDB file holds Redis functions, which Celerity does not support")
		case OpEOF:
			if r.version >= 5 {
				s.foldCRC()
				want := s.crc
				b, err := s.take(8)
				if err != nil {
					return nil, err
				}
				got := binary.LittleEndian.Uint64(b)
				if got != 0 && got != want {
					return nil, bad("Wrong RDB checksum: computed %016x, file says %016x", want, got)
				}
			}
			return nil, io.EOF
		default:
			if err := checkType(op); err != nil {
				return nil, err
			}
			key, err := readString(s)
			if err != nil {
				return nil, err
			}
			v, empty, err := readValue(s, op)
			if err != nil {
				return nil, err
			}
			if empty {
				r.empty++
				expireAt, idle, freq = 0, -1, -1
				continue
			}
			return &Record{DB: r.db, Key: key, ExpireAt: expireAt, Idle: idle, Freq: freq, Value: v}, nil
		}
	}
}

// checkType refuses the value types Celerity cannot hold and bytes that
// are no type at all.
func checkType(t byte) error {
	switch t {
	case TypeString, TypeList, TypeSet, TypeZSet, TypeHash, TypeZSet2,
		TypeHashZipmap, TypeListZiplist, TypeSetIntset, TypeZSetZiplist,
		TypeHashZiplist, TypeListQuicklist, TypeHashListpack,
		TypeZSetListpack, TypeListQuicklist2, TypeSetListpack:
		return nil
	case TypeModule, TypeModule2:
		return bad("Module value (type %d): modules are not supported", t)
	case TypeStreamListpacks, TypeStreamListpacks2, TypeStreamListpacks3:
		return bad("Stream value (type %d): streams are not supported", t)
	case TypeHashMetadataPreGA, TypeHashListpackExPreGA, TypeHashMetadata, TypeHashListpackEx:
		return bad("Hash with field TTLs (type %d, Redis 7.4): hash field expiration is not supported", t)
	}
	return bad("Unknown RDB encoding type %d", t)
}

// DecodeDump decodes a DUMP payload: <type><value><u16 LE RDB version><u64
// LE CRC-64 of everything before it>. A bad footer (shorter than 10 bytes,
// a version above Version, a CRC mismatch) is ErrDumpPayload; anything
// wrong with the body (malformed, trailing bytes, an unsupported type, an
// empty collection) is ErrBadData. Those two are returned as they are,
// never wrapped, so their text is RESTORE's reply.
//
// The body is always validated deeply (duplicates, counts, sortedness),
// as Redis does with sanitize-dump-payload yes.
func DecodeDump(p []byte) (Value, error) {
	if len(p) < 10 {
		return Value{}, ErrDumpPayload
	}
	n := len(p)
	if binary.LittleEndian.Uint16(p[n-10:]) > Version {
		return Value{}, ErrDumpPayload
	}
	if Checksum(0, p[:n-8]) != binary.LittleEndian.Uint64(p[n-8:]) {
		return Value{}, ErrDumpPayload
	}
	body := p[:n-10]
	s := &source{buf: body, end: len(body)}
	t, err := s.readByte()
	if err != nil || checkType(t) != nil {
		return Value{}, ErrBadData
	}
	v, empty, err := readValue(s, t)
	if err != nil || empty || s.pos != len(body) {
		return Value{}, ErrBadData
	}
	return v, nil
}

// readLen reads a length. special is -1 for a plain length, else the
// low six bits of a 11xxxxxx byte (a string encoding, only meaningful
// where a string is expected).
func readLen(s *source) (n uint64, special int, err error) {
	b, err := s.readByte()
	if err != nil {
		return 0, -1, err
	}
	switch b >> 6 {
	case 0:
		return uint64(b & 0x3f), -1, nil
	case 1:
		c, err := s.readByte()
		if err != nil {
			return 0, -1, err
		}
		return uint64(b&0x3f)<<8 | uint64(c), -1, nil
	case 3:
		return 0, int(b & 0x3f), nil
	}
	switch b {
	case 0x80:
		x, err := s.take(4)
		if err != nil {
			return 0, -1, err
		}
		return uint64(binary.BigEndian.Uint32(x)), -1, nil
	case 0x81:
		x, err := s.take(8)
		if err != nil {
			return 0, -1, err
		}
		return binary.BigEndian.Uint64(x), -1, nil
	}
	return 0, -1, bad("Unknown length encoding %d", b)
}

// readCount reads a length where a string encoding makes no sense (a
// count, a db number). Redis would read the encoding's low bits as the
// length; a writer never produces that, so it is refused.
func readCount(s *source) (uint64, error) {
	n, special, err := readLen(s)
	if err != nil {
		return 0, err
	}
	if special >= 0 {
		return 0, bad("String encoding %d where a length was expected", special)
	}
	return n, nil
}

// readString reads a string in any of its encodings; integers come back
// as their decimal text.
func readString(s *source) ([]byte, error) {
	n, special, err := readLen(s)
	if err != nil {
		return nil, err
	}
	switch special {
	case -1:
		return s.readN(n)
	case 0:
		b, err := s.readByte()
		if err != nil {
			return nil, err
		}
		return strconv.AppendInt(nil, int64(int8(b)), 10), nil
	case 1:
		b, err := s.take(2)
		if err != nil {
			return nil, err
		}
		return strconv.AppendInt(nil, int64(int16(binary.LittleEndian.Uint16(b))), 10), nil
	case 2:
		b, err := s.take(4)
		if err != nil {
			return nil, err
		}
		return strconv.AppendInt(nil, int64(int32(binary.LittleEndian.Uint32(b))), 10), nil
	case 3:
		clen, err := readCount(s)
		if err != nil {
			return nil, err
		}
		ulen, err := readCount(s)
		if err != nil {
			return nil, err
		}
		// Refuse before reading: no clen bytes can expand to more.
		if clen > math.MaxUint64/lzfMaxExpansion || ulen > clen*lzfMaxExpansion {
			return nil, bad("Invalid LZF compressed string (%d bytes claim %d)", clen, ulen)
		}
		c, err := s.readN(clen)
		if err != nil {
			return nil, err
		}
		out, err := lzfDecompress(c, int(ulen))
		if err != nil {
			return nil, bad("Invalid LZF compressed string: %v", err)
		}
		return out, nil
	}
	return nil, bad("Unknown RDB string encoding type %d", special)
}

// readScoreASCII reads a score of the old ZSET type: a length byte and that
// many ASCII characters, or 253/254/255 for nan/+inf/-inf.
func readScoreASCII(s *source) (float64, error) {
	n, err := s.readByte()
	if err != nil {
		return 0, err
	}
	switch n {
	case 253:
		return math.NaN(), nil
	case 254:
		return math.Inf(1), nil
	case 255:
		return math.Inf(-1), nil
	}
	b, err := s.take(int(n))
	if err != nil {
		return 0, err
	}
	f, ok := parseScore(b)
	if !ok {
		return 0, bad("Invalid zset score %q", b)
	}
	return f, nil
}

// parseScore reads a score stored as text (ziplist/listpack zsets and the
// ASCII ZSET type) as strtod would: decimal, exponent and inf forms. NaN
// passes here and is refused by the caller like any NaN score.
func parseScore(b []byte) (float64, bool) {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		var ne *strconv.NumError
		// Out of range is ±Inf or 0, as strtod's HUGE_VAL/underflow.
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
			return f, true
		}
		return 0, false
	}
	return f, true
}

// initialCap bounds a slice's first allocation for a count read from the
// input; appends grow it only as elements actually decode.
func initialCap(n uint64) int { return int(min(n, 1024)) }

// readValue reads a value of type t (already checked by checkType).
// empty reports a collection that decoded with no elements: the file
// reader skips such keys and DecodeDump refuses them.
func readValue(s *source, t byte) (v Value, empty bool, err error) {
	switch t {
	case TypeString:
		b, err := readString(s)
		if err != nil {
			return Value{}, false, err
		}
		return Value{Kind: KindString, Str: b}, false, nil

	case TypeList, TypeSet:
		n, err := readCount(s)
		if err != nil {
			return Value{}, false, err
		}
		elems := make([][]byte, 0, initialCap(n))
		for i := uint64(0); i < n; i++ {
			e, err := readString(s)
			if err != nil {
				return Value{}, false, err
			}
			elems = append(elems, e)
		}
		if t == TypeList {
			return Value{Kind: KindList, Elems: elems}, len(elems) == 0, nil
		}
		if dupes(elems, 1) {
			return Value{}, false, bad("Duplicate set members detected")
		}
		return Value{Kind: KindSet, Elems: elems}, len(elems) == 0, nil

	case TypeZSet, TypeZSet2:
		n, err := readCount(s)
		if err != nil {
			return Value{}, false, err
		}
		zs := make([]ScoreMember, 0, initialCap(n))
		for i := uint64(0); i < n; i++ {
			m, err := readString(s)
			if err != nil {
				return Value{}, false, err
			}
			var f float64
			if t == TypeZSet {
				if f, err = readScoreASCII(s); err != nil {
					return Value{}, false, err
				}
			} else {
				b, err := s.take(8)
				if err != nil {
					return Value{}, false, err
				}
				f = math.Float64frombits(binary.LittleEndian.Uint64(b))
			}
			if math.IsNaN(f) {
				return Value{}, false, bad("Zset with NAN score detected")
			}
			zs = append(zs, ScoreMember{Member: m, Score: f})
		}
		if zsetDupes(zs) {
			return Value{}, false, bad("Duplicate zset fields detected")
		}
		return Value{Kind: KindZSet, Zset: zs}, len(zs) == 0, nil

	case TypeHash:
		n, err := readCount(s)
		if err != nil {
			return Value{}, false, err
		}
		pairs := make([]FieldValue, 0, initialCap(n))
		seen := make(map[string]struct{}, initialCap(n))
		for i := uint64(0); i < n; i++ {
			f, err := readString(s)
			if err != nil {
				return Value{}, false, err
			}
			val, err := readString(s)
			if err != nil {
				return Value{}, false, err
			}
			if _, dup := seen[string(f)]; dup {
				return Value{}, false, bad("Duplicate hash fields detected")
			}
			seen[string(f)] = struct{}{}
			pairs = append(pairs, FieldValue{Field: f, Value: val})
		}
		return Value{Kind: KindHash, Pairs: pairs}, len(pairs) == 0, nil

	case TypeListQuicklist, TypeListQuicklist2:
		return readQuicklist(s, t)
	}

	// The rest are one string holding a blob.
	blob, err := readString(s)
	if err != nil {
		return Value{}, false, err
	}
	switch t {
	case TypeHashZipmap:
		pairs, err := decodeZipmap(blob)
		if err != nil {
			return Value{}, false, err
		}
		return Value{Kind: KindHash, Pairs: pairs}, false, nil
	case TypeSetIntset:
		elems, err := decodeIntset(blob)
		if err != nil {
			return Value{}, false, err
		}
		return Value{Kind: KindSet, Elems: elems}, false, nil
	}
	var entries [][]byte
	if t == TypeListZiplist || t == TypeZSetZiplist || t == TypeHashZiplist {
		entries, err = decodeZiplist(blob)
	} else {
		entries, err = decodeListpack(blob)
	}
	if err != nil {
		return Value{}, false, err
	}
	switch t {
	case TypeListZiplist:
		return Value{Kind: KindList, Elems: entries}, len(entries) == 0, nil
	case TypeSetListpack:
		if dupes(entries, 1) {
			return Value{}, false, bad("Set listpack with duplicate members")
		}
		return Value{Kind: KindSet, Elems: entries}, len(entries) == 0, nil
	case TypeHashZiplist, TypeHashListpack:
		if len(entries)%2 != 0 || dupes(entries, 2) {
			return Value{}, false, bad("Hash %s with odd entries or duplicate fields", blobName(t))
		}
		pairs := make([]FieldValue, 0, len(entries)/2)
		for i := 0; i < len(entries); i += 2 {
			pairs = append(pairs, FieldValue{Field: entries[i], Value: entries[i+1]})
		}
		return Value{Kind: KindHash, Pairs: pairs}, len(pairs) == 0, nil
	default: // TypeZSetZiplist, TypeZSetListpack
		if len(entries)%2 != 0 || dupes(entries, 2) {
			return Value{}, false, bad("Zset %s with odd entries or duplicate members", blobName(t))
		}
		zs := make([]ScoreMember, 0, len(entries)/2)
		for i := 0; i < len(entries); i += 2 {
			f, ok := parseScore(entries[i+1])
			if !ok || math.IsNaN(f) {
				return Value{}, false, bad("Zset %s with an invalid score %q", blobName(t), entries[i+1])
			}
			zs = append(zs, ScoreMember{Member: entries[i], Score: f})
		}
		return Value{Kind: KindZSet, Zset: zs}, len(zs) == 0, nil
	}
}

func blobName(t byte) string {
	if t == TypeHashZiplist || t == TypeZSetZiplist {
		return "ziplist"
	}
	return "listpack"
}

// readQuicklist reads a list stored as nodes: ziplists (type 14), or for
// type 18 a container per node, PLAIN (one raw element) or PACKED (a
// listpack). Empty nodes are skipped as Redis skips them; the list is empty
// only when all are.
func readQuicklist(s *source, t byte) (Value, bool, error) {
	n, err := readCount(s)
	if err != nil {
		return Value{}, false, err
	}
	var elems [][]byte
	for i := uint64(0); i < n; i++ {
		container := uint64(2)
		if t == TypeListQuicklist2 {
			if container, err = readCount(s); err != nil {
				return Value{}, false, err
			}
			if container != 1 && container != 2 {
				return Value{}, false, bad("Quicklist integrity check failed (container %d)", container)
			}
		}
		blob, err := readString(s)
		if err != nil {
			return Value{}, false, err
		}
		if len(blob) == 0 {
			return Value{}, false, bad("Quicklist node of zero length")
		}
		if container == 1 {
			elems = append(elems, blob)
			continue
		}
		var entries [][]byte
		if t == TypeListQuicklist {
			entries, err = decodeZiplist(blob)
		} else {
			entries, err = decodeListpack(blob)
		}
		if err != nil {
			return Value{}, false, err
		}
		elems = append(elems, entries...)
	}
	return Value{Kind: KindList, Elems: elems}, len(elems) == 0, nil
}

// dupes reports whether two of elems[0], elems[stride], elems[2*stride]...
// are equal: set members, hash fields (stride 2), zset members (stride 2).
// Redis treats duplicates as corruption.
func dupes(elems [][]byte, stride int) bool {
	seen := make(map[string]struct{}, min(len(elems)/stride+1, 1024))
	for i := 0; i < len(elems); i += stride {
		if _, ok := seen[string(elems[i])]; ok {
			return true
		}
		seen[string(elems[i])] = struct{}{}
	}
	return false
}

func zsetDupes(zs []ScoreMember) bool {
	seen := make(map[string]struct{}, min(len(zs), 1024))
	for _, z := range zs {
		if _, ok := seen[string(z.Member)]; ok {
			return true
		}
		seen[string(z.Member)] = struct{}{}
	}
	return false
}
