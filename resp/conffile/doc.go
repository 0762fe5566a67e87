// Package conffile reads Redis 7.0.15 configuration the way redis-server
// does: it tokenises redis.conf lines, expands include directives, turns
// redis-server's command line into config text, and parses the value
// syntaxes (yes/no, memory sizes) that several configs share. It does not
// know any config names: it hands Directives, in order, to the caller's
// config registry, and formats errors exactly as redis-server prints them.
//
// # Loading
//
// A server's main calls CommandLine on its arguments, acts on Mode, makes
// ConfigFile absolute with AbsolutePath, and calls LoadStartup with OSFS
// and an ApplyFunc that applies each directive through the registry. Walk
// does the same for a single text. Both stop at the first error, which is a
// *FatalError (print Error() to stderr, exit 1) or an *OpenError (log
// Error() at warning level, exit 1).
//
// Directives are applied one at a time, not collected first, because Redis
// does so and it is observable: a relative include after a dir directive
// is resolved in the new working directory (Redis chdirs while loading),
// and the reported error is the first failing line whether it failed to
// tokenise or to apply. Parse collects directives for callers that do not
// need that.
//
// # Lines and line numbers
//
// Text is split on "\n"; each line is trimmed of " \t\r\n", and empty
// lines and lines starting with "#" are skipped, as are lines with no
// tokens (e.g. a lone "\v"). The directive name is lower-cased; the
// include directive is handled here and never reaches the ApplyFunc.
//
// Line numbers are those redis-server prints, which were verified by
// running it (see redis_test.go). Redis parses one concatenated text per
// load and reports positions within it, without file names:
//
//   - At startup the text is the config file, then stdin, then "\n" and the
//     command-line options. An option error in `redis-server --foo bar` is
//     reported at line 2; with a config file of N lines ending in a
//     newline, the first option is line N+2. A file or stdin without a
//     final newline runs into what follows: its last line is joined with
//     the next part's first line, and the options start at line N+1.
//   - An included file is parsed as a text of its own, so lines are
//     numbered from 1 within it. When an include glob matches several
//     files they are concatenated (with the same joining of unterminated
//     last lines) and numbered as one text.
//
// Directive.Line carries that number and Directive.File the file the line
// starts in, for the registry's own messages.
//
// # Reading files
//
// Redis reads files with fgets into a 1024-byte buffer and appends each
// chunk as a C string, so a NUL byte drops the rest of its chunk: up to
// the end of that line, or to the next 1024-byte boundary of a long line
// (verified: "foo a\0bcd\nbar\n" parses as the line "foo abar"). Walk,
// Parse and LoadStartup apply the same rule to their input.
//
// An include argument containing *, ? or [ is a glob: matching nothing is
// not an error, and neither is a glob failure. Any other argument must
// open, or loading fails with an OpenError; a directory opens and reads as
// empty, so `include /etc` is silently a no-op in Redis and with OSFS.
// Redis has no bound on include nesting and crashes on an include cycle
// (verified: segmentation fault); Walk stops at MaxIncludeDepth levels
// with a FatalError naming the include line.
//
// # Command line
//
// CommandLine reproduces main()'s argument handling: a first argument not
// starting with "-" is the config file; "-" as the first option or the
// last argument reads stdin; "--name" starts an option line and the
// following arguments are appended to it quoted with Quote, so
// `--port 1 2` reaches the registry as `port "1" "2"` and is rejected with
// "wrong number of arguments". See CommandLine for the special cases.
//
// # Values
//
// ParseMemory and ParseBool mirror memtoull and yesnotoi, including
// memtoull's 7.0.15 quirks (no overflow checks), and return errors whose
// text is the reason Redis prints. ExpandMultiArg mirrors the re-split of a
// lone argument of multi-argument configs such as save.
package conffile
