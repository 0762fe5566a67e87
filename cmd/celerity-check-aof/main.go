package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/celerity/celerity/aof"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout))
}

const usage = "Usage: celerity-check-aof [--fix [--yes]] <file.manifest|file.aof>"

// checker carries one run's options and output.
type checker struct {
	out   io.Writer
	in    *bufio.Reader
	fix   bool
	yes   bool
	lines int64 // protocol lines read so far, across files (redis-check-aof counts them globally)
}

// run is main without the process: arguments, standard input and output
// in, exit status out.
func run(args []string, stdin io.Reader, stdout io.Writer) int {
	c := &checker{out: stdout, in: bufio.NewReader(stdin)}
	var path string
	for _, a := range args {
		switch {
		case a == "--fix":
			c.fix = true
		case a == "--yes":
			c.yes = true
		case strings.HasPrefix(a, "--") || path != "":
			fmt.Fprintln(stdout, usage)
			return 1
		default:
			path = a
		}
	}
	if path == "" || (c.yes && !c.fix) {
		fmt.Fprintln(stdout, usage)
		return 1
	}
	isManifest, err := looksLikeManifest(path)
	if err != nil {
		fmt.Fprintf(stdout, "Cannot open file %s: %s\n", path, errText(err))
		return 1
	}
	if isManifest {
		return c.checkManifest(path)
	}
	fmt.Fprintln(c.out, "Start checking Old-Style AOF")
	st := c.checkFile(path, path, "", true)
	if st == fileValid {
		return 0
	}
	if st == fileFixed {
		return 0
	}
	return 1
}

// looksLikeManifest applies redis-check-aof's test: the first line that is
// not a comment starts with "file ".
func looksLikeManifest(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	r := bufio.NewReader(io.LimitReader(f, 64<<10))
	for {
		line, err := r.ReadString('\n')
		if strings.HasPrefix(line, "#") && err == nil {
			continue
		}
		return strings.HasPrefix(line, "file "), nil
	}
}

func (c *checker) checkManifest(path string) int {
	fmt.Fprintln(c.out, "Start checking Multi Part AOF")
	data, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(c.out, "Cannot open file %s: %s\n", path, errText(err))
		return 1
	}
	man, err := aof.ParseManifest(data)
	if err != nil {
		var me *aof.ManifestError
		if errors.As(err, &me) && me.Line > 0 {
			fmt.Fprintf(c.out, "Reading the manifest file, at line %d\n>>> '%s'\n", me.Line, me.Text)
		}
		fmt.Fprintf(c.out, "Invalid AOF manifest: %v\n", err)
		return 1
	}
	dir := filepath.Dir(path)
	files := []aof.ManifestEntry{}
	if man.Base != nil {
		files = append(files, *man.Base)
	}
	files = append(files, man.Incr...)
	for i, e := range files {
		last := i == len(files)-1
		kind := "INCR"
		if e.Type == aof.TypeBase {
			kind = "BASE"
			format := "RESP"
			if rdb, _ := hasRDBPreamble(filepath.Join(dir, e.Name)); rdb {
				format = "RDB"
			}
			fmt.Fprintf(c.out, "Start to check BASE AOF (%s format).\n", format)
		} else if i == 0 || files[i-1].Type == aof.TypeBase {
			fmt.Fprintln(c.out, "Start to check INCR files.")
		}
		switch c.checkFile(filepath.Join(dir, e.Name), e.Name, kind, last) {
		case fileFixed:
			fmt.Fprintln(c.out, "All AOF files and manifest are valid")
			return 0
		case fileBad:
			return 1
		}
	}
	fmt.Fprintln(c.out, "All AOF files and manifest are valid")
	return 0
}

func hasRDBPreamble(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	var head [5]byte
	n, _ := io.ReadFull(f, head[:])
	return n == 5 && string(head[:]) == "REDIS", nil
}

type fileStatus int

const (
	fileValid fileStatus = iota
	fileFixed
	fileBad
)

// checkFile checks one file. name is how it is printed, kind is "BASE",
// "INCR" or "" (a lone file), last says whether --fix may truncate it.
func (c *checker) checkFile(path, name, kind string, last bool) fileStatus {
	prefix := "AOF"
	if kind != "" {
		prefix = kind + " AOF"
	}
	f, err := os.Open(path)
	if err != nil {
		if kind != "" {
			fmt.Fprintf(c.out, "Cannot open file %s: %s, aborting...\n", path, errText(err))
		} else {
			fmt.Fprintf(c.out, "Cannot open file %s: %s\n", path, errText(err))
		}
		return fileBad
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		fmt.Fprintf(c.out, "Cannot stat file %s: %s\n", path, errText(err))
		return fileBad
	}
	if fi.Size() == 0 {
		fmt.Fprintf(c.out, "%s %s is empty\n", prefix, name)
		return fileValid
	}
	fr := aof.NewFileReader(f, name, fi.Size())
	rep := fr.Report()
	if rep.Err != nil {
		fmt.Fprintf(c.out, "Error reading %s: %s\n", path, errText(rep.Err))
		return fileBad
	}
	if rep.RDBPreamble {
		fmt.Fprintf(c.out, "%s %s starts with an RDB preamble, which celerity-check-aof cannot check; use redis-check-aof\n", prefix, name)
		return fileBad
	}
	d := rep.Damage
	if d != nil && d.Kind != aof.DamageAnnotation {
		fmt.Fprintf(c.out, "0x%16x: %s\n", d.At, d.Msg)
	}
	c.lines += rep.Lines
	okUpTo := rep.ValidEnd
	if d == nil || d.Kind == aof.DamageAnnotation {
		okUpTo = rep.Size
	}
	fmt.Fprintf(c.out, "AOF analyzed: filename=%s, size=%d, ok_up_to=%d, ok_up_to_line=%d, diff=%d\n",
		name, rep.Size, okUpTo, c.lines+1, rep.Size-okUpTo)
	if d == nil || d.Kind == aof.DamageAnnotation {
		if d != nil {
			fmt.Fprintf(c.out, "Note: %s ends in an unterminated annotation line (no command lost; the server trims it)\n", name)
		}
		fmt.Fprintf(c.out, "%s %s is valid\n", prefix, name)
		return fileValid
	}
	if !c.fix {
		fmt.Fprintf(c.out, "%s %s is not valid. Use the --fix option to try fixing it.\n", prefix, name)
		return fileBad
	}
	if !last {
		fmt.Fprintf(c.out, "Failed to truncate AOF %s because it is not the last file\n", name)
		return fileBad
	}
	if d.Kind == aof.DamageCorrupt {
		fmt.Fprintf(c.out, "Warning: %s is damaged before its end (%s), not just torn: the %d bytes after offset %d, "+
			"which may hold valid commands, will be discarded\n", name, d.Kind, rep.Size-okUpTo, okUpTo)
	} else {
		fmt.Fprintf(c.out, "The file ends with a torn write (%s)\n", d.Kind)
	}
	fmt.Fprintf(c.out, "This will shrink the AOF %s from %d bytes, with %d bytes, to %d bytes\n",
		name, rep.Size, rep.Size-okUpTo, okUpTo)
	if !c.yes {
		fmt.Fprint(c.out, "Continue? [y/N]: ")
		answer, _ := c.in.ReadString('\n')
		if !strings.HasPrefix(answer, "y") && !strings.HasPrefix(answer, "Y") {
			fmt.Fprintln(c.out, "Aborting...")
			return fileBad
		}
	}
	if err := truncate(path, okUpTo); err != nil {
		fmt.Fprintf(c.out, "Failed to truncate AOF %s: %s\n", name, errText(err))
		return fileBad
	}
	fmt.Fprintf(c.out, "Successfully truncated AOF %s\n", name)
	return fileFixed
}

// truncate cuts the file and makes the new size durable.
func truncate(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	err = f.Truncate(size)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// errText is an error in strerror's words when it wraps an errno.
func errText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	s := err.Error()
	if s != "" {
		s = strings.ToUpper(s[:1]) + s[1:]
	}
	return s
}
