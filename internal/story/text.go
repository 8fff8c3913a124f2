package story

import (
	"html"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// token is one word of a text, folded for comparison (NFKD, marks dropped,
// lower case), with what the comparison of names needs to know about how
// it was written.
type token struct {
	hash     uint64 // FNV-1a of the folded form
	folded   string
	capital  bool // first letter upper case as written
	sentence bool // first word of a sentence (capitalised by grammar, not because it names something)
	number   bool // digits only
	punct    bool // punctuation (not just space) between the previous word and this one
}

// tokenize splits text into words at Unicode letter/digit boundaries.
// Scripts written without spaces (Han, Kana, Thai…) give one token per
// character, so their shingles are character n-grams. Digit groups joined
// by '.' or ',' ("147.000", "1,25") stay one number.
func tokenize(text string, limit int) []token {
	if strings.IndexByte(text, '&') >= 0 {
		text = html.UnescapeString(text)
	}
	var out []token
	var cur []byte
	var curCap, curNum, started, punct bool
	sentenceStart := true
	flush := func() {
		if len(cur) == 0 {
			return
		}
		f := foldWord(cur)
		if f != "" {
			out = append(out, token{hash: fnv(f), folded: f, capital: curCap, sentence: sentenceStart, number: curNum, punct: punct})
			sentenceStart, punct = false, false
		}
		cur = cur[:0]
		started = false
	}
	for i := 0; i < len(text) && (limit <= 0 || len(out) < limit); {
		r, size := rune(text[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(text[i:])
		}
		switch {
		case r < utf8.RuneSelf && isASCIIWordByte(byte(r)):
			// the common case, without the Unicode table lookups below
			if !started {
				curCap = 'A' <= r && r <= 'Z'
				curNum = true
				started = true
			}
			if r > '9' {
				curNum = false
			}
			cur = append(cur, byte(r))
		case r >= utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)):
			if unicode.Is(unicode.Mn, r) && !started {
				break // a stray combining mark: nothing to attach it to
			}
			if spaceless(r) {
				flush()
				cur = utf8.AppendRune(cur, r)
				curCap, curNum, started = false, false, true
				flush()
				break
			}
			if !started {
				curCap = unicode.IsUpper(r) || unicode.IsTitle(r)
				curNum = true
				started = true
			}
			if !unicode.IsDigit(r) && !unicode.Is(unicode.Mn, r) {
				curNum = false
			}
			cur = utf8.AppendRune(cur, r)
		case (r == '.' || r == ',') && started && curNum && i+size < len(text) && isDigitByte(text[i+size]):
			// thousands or decimal separator inside a number: keep the number whole
		case r == '\'' || r == '’' || r == '\u00AD':
			// apostrophes and soft hyphens join: "Trump's" is one word, as an
			// outlet that drops the apostrophe would write it
		default:
			flush()
			if !unicode.IsSpace(r) && r != '-' && r != '‐' {
				punct = true // a hyphen joins a name ("Charlotte-Mecklenburg"); other marks end it
			}
			next := byte(' ')
			if i+size < len(text) {
				next = text[i+size]
			}
			switch {
			case r == '!' || r == '?' || r == '\n' || r == '。' || r == '！' || r == '？':
				sentenceStart = true
			case (r == '.' || r == ':' || r == ';') && (next == ' ' || next == '\n' || next == '\t'):
				// "a.m.", "U.S." and "Calif." do not end a sentence; a
				// word of three letters or more, or a figure, before the
				// stop does.
				if n := len(out); r != '.' || (n > 0 && (len(out[n-1].folded) >= 3 || out[n-1].number)) {
					sentenceStart = true
				}
			}
		}
		i += size
	}
	if limit <= 0 || len(out) < limit {
		flush()
	}
	return out
}

func isDigitByte(b byte) bool { return b >= '0' && b <= '9' }

func isASCIIWordByte(b byte) bool {
	return isDigitByte(b) || ('a' <= b && b <= 'z') || ('A' <= b && b <= 'Z')
}

// spaceless reports scripts written without spaces between words.
func spaceless(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Thai, unicode.Lao, unicode.Khmer, unicode.Myanmar)
}

// foldWord gives the comparison form of a word: compatibility-decomposed,
// combining marks dropped, lower case. "Lücke", "Lucke" and "LUCKE" fold
// alike, as do full-width and ligature forms.
func foldWord(w []byte) string {
	ascii := true
	for _, c := range w {
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		b := make([]byte, len(w))
		for i, c := range w {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			b[i] = c
		}
		return string(b)
	}
	d := norm.NFKD.Bytes(w)
	var b strings.Builder
	b.Grow(len(d))
	for _, r := range string(d) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		if r == 'ß' {
			b.WriteString("ss")
			continue
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

func fnv(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// mix is the splitmix64 finaliser: a cheap, well-spread 64-bit hash of a
// 64-bit value.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// Agency identifies a wire service whose copy other outlets carry.
type Agency uint8

// Wire services recognised in bylines, datelines and credit lines.
const (
	NoAgency Agency = iota
	AP
	Reuters
	AFP
	UPI
	DPA
	Bloomberg
	CanadianPress
	PAMedia
	AAP
	EFE
	ANSA
	Kyodo
	Xinhua
	PTI
	ANI
	KNA
	EPD
	APA
	Yonhap
	TASS
	Interfax
	maxAgency
)

var agencyNames = [...]string{"", "AP", "Reuters", "AFP", "UPI", "dpa", "Bloomberg", "The Canadian Press",
	"PA Media", "AAP", "EFE", "ANSA", "Kyodo", "Xinhua", "PTI", "ANI", "KNA", "epd", "APA", "Yonhap", "TASS", "Interfax"}

// String names the agency as its credit reads.
func (a Agency) String() string {
	if int(a) < len(agencyNames) {
		return agencyNames[a]
	}
	return "unknown"
}

// agencyCodes are the forms an agency takes inside a dateline's
// parentheses ("WASHINGTON (AP) —", "Berlin (dpa) -").
var agencyCodes = map[string]Agency{
	"ap": AP, "reuters": Reuters, "afp": AFP, "upi": UPI, "dpa": DPA, "bloomberg": Bloomberg,
	"cp": CanadianPress, "the canadian press": CanadianPress, "pa": PAMedia, "aap": AAP, "efe": EFE,
	"ansa": ANSA, "kyodo": Kyodo, "xinhua": Xinhua, "pti": PTI, "ani": ANI, "kna": KNA, "epd": EPD,
	"apa": APA, "yonhap": Yonhap, "tass": TASS, "interfax": Interfax, "dpa-afx": DPA, "ap photo": AP,
}

// agencyByline matches an agency named in a byline or credit line. Short
// codes must stand alone ("AP", not "APPLE"); the full names are enough on
// their own.
var agencyByline = []struct {
	re *regexp.Regexp
	a  Agency
}{
	{regexp.MustCompile(`(?i)\bassociated press\b|^\s*(by\s+)?(the\s+)?AP\s*$|\(AP\)`), AP},
	{regexp.MustCompile(`(?i)\breuters\b`), Reuters},
	{regexp.MustCompile(`(?i)\bagence france[- ]presse\b|\bAFP\b`), AFP},
	{regexp.MustCompile(`(?i)\bunited press international\b|\bUPI\b`), UPI},
	{regexp.MustCompile(`(?i)\bdeutsche presse[- ]agentur\b|\bdpa\b`), DPA},
	{regexp.MustCompile(`(?i)\bbloomberg( news)?\s*$`), Bloomberg},
	{regexp.MustCompile(`(?i)\bthe canadian press\b`), CanadianPress},
	{regexp.MustCompile(`(?i)\bPA Media\b|\bpress association\b`), PAMedia},
	{regexp.MustCompile(`(?i)\baustralian associated press\b|\bAAP\b`), AAP},
	{regexp.MustCompile(`\bEFE\b|(?i)\bagencia efe\b`), EFE},
	{regexp.MustCompile(`\bANSA\b`), ANSA},
	{regexp.MustCompile(`(?i)\bkyodo( news)?\b`), Kyodo},
	{regexp.MustCompile(`(?i)\bxinhua\b`), Xinhua},
	{regexp.MustCompile(`(?i)\bpress trust of india\b|\bPTI\b`), PTI},
	{regexp.MustCompile(`(?i)\byonhap\b`), Yonhap},
}

// agencyCredit matches the credit lines and copyright notices wire copy
// carries at its foot.
var agencyCredit = []struct {
	re *regexp.Regexp
	a  Agency
}{
	{regexp.MustCompile(`(?i)the associated press contributed|copyright \d{4} the associated press|associated press writers? [\p{L} .'-]{2,60} contributed|© \d{4} the associated press`), AP},
	{regexp.MustCompile(`(?i)\(reporting by [^)]{2,200}(editing by|writing by)|© \d{4} reuters|thomson reuters trust principles`), Reuters},
	{regexp.MustCompile(`(?i)© \d{4} afp|copyright \d{4} afp|\bafp contributed\b`), AFP},
	{regexp.MustCompile(`(?i)copyright \d{4} united press international|© \d{4} united press international`), UPI},
	{regexp.MustCompile(`(?i)\bdpa[- ]infocom\b|© dpa\b`), DPA},
}

// dateline matches a wire dateline at the start of a lead: a place in
// capitals or title case, optionally a date, then the agency code in
// parentheses and a dash: "WASHINGTON (AP) —", "LONDON, Dec 2 (Reuters) -",
// "Oct 6 (Reuters) -", "(Reuters) -", "Berlin (dpa) -", "NEW DELHI (PTI):",
// "Lima, 20 ago (EFE).-".
var dateline = regexp.MustCompile(`^\s*(?:[\p{Lu}][\p{L}\p{M}\d.'’ ,/-]{0,60}?)?\s*\(([\p{L} -]{2,20})\)\.?\s*(?:[-–—:]+)\s*`)

// capsDateline is a local outlet's dateline without an agency:
// "SPRINGFIELD, Ill. — ".
var capsDateline = regexp.MustCompile(`^\s*[\p{Lu}][\p{Lu}\p{M}.' -]{2,40}(?:,\s*[\p{L}. ]{2,20})?\s*(?:[–—]|--| - )\s*`)

// stripDateline removes a lead's dateline and reports the agency it names.
func stripDateline(lead string) (string, Agency) {
	if m := dateline.FindStringSubmatchIndex(lead); m != nil {
		code := strings.ToLower(strings.TrimSpace(lead[m[2]:m[3]]))
		if a, ok := agencyCodes[code]; ok {
			return lead[m[1]:], a
		}
	}
	if m := capsDateline.FindStringIndex(lead); m != nil {
		return lead[m[1]:], NoAgency
	}
	return lead, NoAgency
}

// detectAgency finds the wire service an item is copy of: from its
// dateline, its byline or a credit line in the lead or body.
func detectAgency(byline, lead, body string, datelineAgency Agency) Agency {
	if datelineAgency != NoAgency {
		return datelineAgency
	}
	if byline != "" {
		for _, b := range agencyByline {
			if b.re.MatchString(byline) {
				return b.a
			}
		}
	}
	// Credit lines sit at the foot of the copy; the head of the body holds
	// the dateline when the lead was cut from elsewhere.
	for _, part := range []string{lead, head(body, 400), tail(body, 1500)} {
		if part == "" {
			continue
		}
		if strings.IndexByte(part, '(') >= 0 {
			if m := dateline.FindStringSubmatch(part); m != nil {
				if a, ok := agencyCodes[strings.ToLower(strings.TrimSpace(m[1]))]; ok {
					return a
				}
			}
		}
		if !creditHint(part) {
			continue // the regexps below cost more than the rest of a print
		}
		for _, c := range agencyCredit {
			if c.re.MatchString(part) {
				return c.a
			}
		}
	}
	return NoAgency
}

// creditHint reports whether text may hold a credit line: every pattern
// in agencyCredit contains one of these.
func creditHint(text string) bool {
	for _, h := range []string{"ssociated", "SSOCIATED", "eporting", "EPORTING", "©", "opyright", "OPYRIGHT", "afp", "AFP", "dpa", "thomson", "Thomson"} {
		if strings.Contains(text, h) {
			return true
		}
	}
	return false
}

func head(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n < len(s) && !utf8.RuneStart(s[n]) {
		n++
	}
	return s[:n]
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := len(s) - n
	for i < len(s) && !utf8.RuneStart(s[i]) {
		i++
	}
	return s[i:]
}

// preambleEnd finds the marker that ends an editor's note or update put
// above a story's original text ("UPDATE, 1 p.m.: … Original story: …").
var preambleEnd = regexp.MustCompile(`(?i)\b(?:original|previous|earlier|our original|the original) (?:story|report|article|post)\s*(?:below)?\s*[:—–-]\s*`)

// preambleStart matches a lead that opens with such a note.
var preambleStart = regexp.MustCompile(`(?i)^\s*(?:update[sd]?|editor'?s note|editor’s note|correction|clarification)\b[^:]{0,60}:\s*`)

// stripPreamble removes an update or editor's note at the head of a lead,
// so that a local outlet's "UPDATE: …" above the wire copy does not push
// the copy out of the words that are fingerprinted: up to an "Original
// story:" marker when there is one, else the note's first sentence.
func stripPreamble(lead string) string {
	m := preambleStart.FindStringIndex(lead)
	if m == nil {
		return lead
	}
	if e := preambleEnd.FindStringIndex(head(lead, 600)); e != nil {
		return lead[e[1]:]
	}
	rest := lead[m[1]:]
	for i := 0; i < len(rest); i++ {
		if (rest[i] == '.' || rest[i] == '!' || rest[i] == '?') && i+1 < len(rest) && rest[i+1] == ' ' && i > 20 {
			return rest[i+2:]
		}
	}
	return lead
}

// stripSiteSuffix drops an outlet's name appended to a headline ("… | The
// Star", "… - Reuters"), which would make the same headline differ by
// outlet.
func stripSiteSuffix(title, site string) string {
	for _, sep := range []string{" | ", " – ", " — ", " - ", " :: "} {
		i := strings.LastIndex(title, sep)
		if i <= 0 {
			continue
		}
		suffix := strings.TrimSpace(title[i+len(sep):])
		known := site != "" && strings.EqualFold(suffix, strings.TrimSpace(site))
		if _, wire := agencyCodes[strings.ToLower(suffix)]; wire || known ||
			(sep == " | " && len(strings.Fields(suffix)) <= 4 && len(strings.Fields(title[:i])) >= 3) {
			return strings.TrimSpace(title[:i])
		}
	}
	return title
}

// starters are capitalised words that open sentences without naming
// anything; a sentence's first word counts as a name unless it is one of
// these. Short on purpose: a missed starter only adds a name both copies of
// a story share.
var starters = wordSet(`the a an in on at for by with from after before when while as but and or if
		he she it they we i you his her their its our this that these those there here then now also
		police officials authorities officers investigators witnesses residents students
		some many most more several two three four five one no not all both each every
		what who why how where according about during despite since until under over
		der die das ein eine einer im am mit von nach bei auf fur und oder aber wie wer was es er sie wir
		le la les un une des du en et mais il elle ils nous el los las una y pero en lo il gli
		de het een en maar`)

func wordSet(words string) map[string]bool {
	m := make(map[string]bool)
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}
