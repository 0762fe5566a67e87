package conffile

import (
	"io"
	"strings"
)

// Mode says what redis-server is asked to do by its first argument.
type Mode int

const (
	// ModeServer starts the server (the default).
	ModeServer Mode = iota
	// ModeVersion prints the version and exits 0 (-v or --version).
	ModeVersion
	// ModeHelp prints usage and exits 1 (-h or --help).
	ModeHelp
	// ModeTestMemory runs the memory test (--test-memory <megabytes>).
	ModeTestMemory
	// ModeCheckSystem runs the system checks (--check-system).
	ModeCheckSystem
)

// CommandLineResult is what redis-server takes from its arguments.
type CommandLineResult struct {
	// Mode is set when the first argument asks for something other than
	// running the server; the other fields are then left empty except
	// ModeArgs.
	Mode Mode
	// ModeArgs are the arguments after the mode flag (for --test-memory,
	// the size in megabytes is ModeArgs[0]).
	ModeArgs []string
	// HasConfigFile is true when the first argument names a config file,
	// which is the case whenever it does not start with "-", even when it
	// is empty (Redis then reads its working directory, i.e. nothing).
	HasConfigFile bool
	// ConfigFile is that first argument as given. Redis replaces it with
	// AbsolutePath of it before opening it and reports that form.
	ConfigFile string
	// ReadStdin is true when "-" is the first option or the last argument:
	// config text is then read from stdin after the file.
	ReadStdin bool
	// Options is the config text rendered from the remaining arguments,
	// one line per --name option, with each value quoted by Quote.
	Options string
	// Sentinel is true when any argument is exactly "--sentinel", which
	// Redis checks (along with the executable name) to enter sentinel mode.
	Sentinel bool
}

// CommandLine interprets redis-server's arguments (without the program
// name) as Redis 7.0.15's main does. Redis never rejects an argument list
// at this stage, hence no error: every mistake surfaces as a config error
// when Options is parsed.
//
// Rendering rules, all verified against redis-server: "--name" starts a new
// line "name " (the name copied raw, so "--port 6380" as one argument
// yields "port 6380"); every other argument is appended as Quote(arg)
// plus a space to the current line, so "--port 1 2" gives `port "1" "2"`
// and bare arguments before any option form a line of their own. An
// argument starting with "--" right after an option that has no value yet
// is taken as that value, except after --save (which then gets `""`, as
// does a trailing --save) and after --sentinel (which stays valueless).
func CommandLine(args []string) CommandLineResult {
	var r CommandLineResult
	for _, a := range args {
		if a == "--sentinel" {
			r.Sentinel = true
		}
	}
	if len(args) == 0 {
		return r
	}
	switch args[0] {
	case "-v", "--version":
		r.Mode = ModeVersion
	case "-h", "--help":
		r.Mode = ModeHelp
	case "--test-memory":
		r.Mode = ModeTestMemory
	case "--check-system":
		r.Mode = ModeCheckSystem
	}
	if r.Mode != ModeServer {
		r.ModeArgs = args[1:]
		return r
	}

	j := 0
	if args[0] == "" || args[0][0] != '-' {
		r.HasConfigFile = true
		r.ConfigFile = args[0]
		j = 1
	}
	var opts strings.Builder
	last := len(args) - 1
	// haveValue records whether the latest option already has a value;
	// while it has none, an argument starting with "--" is taken as its
	// value rather than as a new option.
	haveValue := true
	for ; j < len(args); j++ {
		a := args[j]
		switch {
		case a == "-" && (j == 0 || j == last):
			r.ReadStdin = true
		case haveValue && strings.HasPrefix(a, "--"):
			if opts.Len() > 0 {
				opts.WriteByte('\n')
			}
			opts.WriteString(a[2:])
			opts.WriteByte(' ')
			// Redis tokenises the whole argument to tell "--port" from
			// "--port 6380"; unbalanced quotes count as "has a value".
			toks, _ := SplitArgs(a)
			haveValue = len(toks) != 1
			if haveValue {
				continue
			}
			nextIsOption := j != last && strings.HasPrefix(args[j+1], "--")
			switch {
			case asciiEqualFold(a, "--save") && nextIsOption:
				// Compatibility with pre-7.0.1 command lines built from an
				// empty list: "--save --port 1" means save "".
				opts.WriteString(`""`)
				haveValue = true
			case asciiEqualFold(a, "--save") && j == last:
				opts.WriteString(`""`)
			case asciiEqualFold(a, "--sentinel") && nextIsOption:
				haveValue = true
			}
		default:
			opts.WriteString(Quote(a))
			opts.WriteByte(' ')
			haveValue = true
		}
	}
	r.Options = opts.String()
	return r
}

// AbsolutePath turns a config file name into the absolute form Redis uses
// (getAbsolutePath): the name is trimmed of " \r\n\t"; an absolute name is
// returned as is; otherwise it is joined to cwd after removing each leading
// "../" from the name together with the last element of cwd. Nothing else
// is cleaned, so "./a/../b" stays as written, as it does in Redis's
// messages.
func AbsolutePath(cwd, name string) string {
	rel := strings.Trim(name, " \r\n\t")
	if strings.HasPrefix(rel, "/") {
		return rel
	}
	abs := cwd
	if abs != "" && !strings.HasSuffix(abs, "/") {
		abs += "/"
	}
	for strings.HasPrefix(rel, "../") {
		rel = rel[3:]
		if len(abs) > 1 {
			// Drop the last element, keeping its leading slash.
			i := strings.LastIndexByte(abs[:len(abs)-1], '/')
			abs = abs[:i+1]
		}
	}
	return abs + rel
}

// LoadStartup loads the startup configuration described by cl the way
// redis-server does and calls apply for each directive in order.
//
// Redis builds one text from the config file (if any), then stdin (if
// ReadStdin), then a newline and Options, and parses it as one unit, so
// option lines are numbered after the file's lines, and a file or stdin
// that does not end in a newline runs into the next part. The config file
// is opened as cl.ConfigFile names it; callers should first replace it
// with AbsolutePath as Redis does, since the path appears in OpenError.
// Redis logs "Reading config from stdin" before reading stdin; that is left
// to the caller. stdin may be nil when cl.ReadStdin is false.
func LoadStartup(fsys FS, cl CommandLineResult, stdin io.Reader, apply ApplyFunc) error {
	var parts []part
	if cl.HasConfigFile {
		data, err := fsys.ReadFile(cl.ConfigFile)
		if err != nil {
			return &OpenError{Path: cl.ConfigFile, Err: err}
		}
		parts = append(parts, part{name: cl.ConfigFile, text: readText(data)})
	}
	if cl.ReadStdin && stdin != nil {
		// Redis stops at a read error as at end of input (fgets returns
		// NULL either way), keeping what it got.
		data, _ := io.ReadAll(stdin)
		parts = append(parts, part{text: readText(data)})
	}
	parts = append(parts, part{text: "\n" + cl.Options})
	w := walker{fs: fsys, apply: apply}
	return w.unit(parts, 0)
}
