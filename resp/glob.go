package resp

// globMatch reports whether s matches the Redis glob pattern: '*', '?',
// '[...]' classes with ranges and '^' negation, and '\' escapes. It follows
// the byte-level behaviour of Redis's stringmatchlen, including signed-char
// range comparisons, unterminated classes and the nesting limit that guards
// against exponential patterns.
func globMatch(pattern, s []byte, nocase bool) bool {
	skip := false
	return globMatchImpl(pattern, s, nocase, &skip, 0)
}

func lowerC(c int) int {
	if 'A' <= c && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}

func globMatchImpl(pat, str []byte, nocase bool, skipLonger *bool, nesting int) bool {
	if nesting > 1000 {
		return false
	}
	// at reads like C does past the end of a NUL-terminated buffer.
	at := func(b []byte, i int) byte {
		if i < len(b) {
			return b[i]
		}
		return 0
	}
	p, s := 0, 0
	for p < len(pat) && s < len(str) {
		switch pat[p] {
		case '*':
			for p < len(pat) && at(pat, p+1) == '*' {
				p++
			}
			if len(pat)-p == 1 {
				return true
			}
			for s < len(str) {
				if globMatchImpl(pat[p+1:], str[s:], nocase, skipLonger, nesting+1) {
					return true
				}
				if *skipLonger {
					return false
				}
				s++
			}
			*skipLonger = true
			return false
		case '?':
			s++
		case '[':
			p++
			not := at(pat, p) == '^'
			if not {
				p++
			}
			match := false
			for {
				switch {
				case at(pat, p) == '\\' && len(pat)-p >= 2:
					p++
					if pat[p] == str[s] {
						match = true
					}
				case at(pat, p) == ']':
					goto classDone
				case p >= len(pat):
					p--
					goto classDone
				case len(pat)-p >= 3 && pat[p+1] == '-':
					start, end, c := int(int8(pat[p])), int(int8(pat[p+2])), int(int8(str[s]))
					if start > end {
						start, end = end, start
					}
					if nocase {
						start, end, c = lowerC(start), lowerC(end), lowerC(c)
					}
					p += 2
					if c >= start && c <= end {
						match = true
					}
				default:
					if nocase {
						if lowerC(int(pat[p])) == lowerC(int(str[s])) {
							match = true
						}
					} else if pat[p] == str[s] {
						match = true
					}
				}
				p++
			}
		classDone:
			if not {
				match = !match
			}
			if !match {
				return false
			}
			s++
		case '\\':
			if len(pat)-p >= 2 {
				p++
			}
			fallthrough
		default:
			if nocase {
				if lowerC(int(pat[p])) != lowerC(int(str[s])) {
					return false
				}
			} else if pat[p] != str[s] {
				return false
			}
			s++
		}
		p++
		if s == len(str) {
			for p < len(pat) && pat[p] == '*' {
				p++
			}
			break
		}
	}
	return p == len(pat) && s == len(str)
}
