package extract

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// decodeHTML converts raw page bytes to UTF-8. The order follows the HTML
// standard's encoding sniffing algorithm: a byte order mark wins, then the
// transport-layer Content-Type charset, then a <meta charset> prescan of the
// first 1024 bytes. When nothing is declared the bytes are sniffed: valid
// UTF-8 stays as is, and otherwise the legacy CJK encodings are tried before
// falling back to windows-1252, the web's default for undeclared pages.
func decodeHTML(raw []byte, contentType string) string {
	if enc, ok := bomEncoding(raw); ok {
		return decodeWith(raw, enc)
	}
	if name := charsetParam(contentType); name != "" {
		if enc := lookupEncoding(name); enc != nil {
			return decodeWith(raw, enc)
		}
	}
	if enc, name, certain := charset.DetermineEncoding(prefix(raw, 1024), ""); certain && enc != nil {
		// DetermineEncoding reports "certain" for a <meta> declaration.
		// A page that declares UTF-8 but is not valid UTF-8 is
		// usually a legacy page with a template default, so sniff it.
		if name != "utf-8" || utf8.Valid(raw) {
			return decodeWith(raw, enc)
		}
	}
	if utf8.Valid(raw) {
		return string(raw)
	}
	return decodeWith(raw, sniffLegacy(raw))
}

func prefix(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

func bomEncoding(raw []byte) (encoding.Encoding, bool) {
	switch {
	case bytes.HasPrefix(raw, []byte{0xEF, 0xBB, 0xBF}):
		return unicode.UTF8BOM, true
	case bytes.HasPrefix(raw, []byte{0xFE, 0xFF}):
		return unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM), true
	case bytes.HasPrefix(raw, []byte{0xFF, 0xFE}):
		return unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM), true
	}
	return nil, false
}

// charsetParam pulls the charset parameter out of a Content-Type value
// without mime.ParseMediaType, which rejects many headers seen in the wild
// (duplicate parameters, stray semicolons).
func charsetParam(contentType string) string {
	lower := strings.ToLower(contentType)
	i := strings.Index(lower, "charset")
	if i < 0 {
		return ""
	}
	rest := strings.TrimLeft(lower[i+len("charset"):], " \t")
	if !strings.HasPrefix(rest, "=") {
		return ""
	}
	rest = strings.Trim(strings.TrimLeft(rest[1:], " \t"), `"' `)
	if j := strings.IndexAny(rest, "; \t\"'"); j >= 0 {
		rest = rest[:j]
	}
	return rest
}

func lookupEncoding(name string) encoding.Encoding {
	enc, err := htmlindex.Get(name)
	if err != nil {
		return nil
	}
	return enc
}

func decodeWith(raw []byte, enc encoding.Encoding) string {
	if enc == nil || enc == encoding.Nop {
		return strings.ToValidUTF8(string(raw), "\uFFFD")
	}
	if enc == unicode.UTF8 && utf8.Valid(raw) {
		return string(raw)
	}
	out, _, err := transform.Bytes(enc.NewDecoder(), raw)
	if err != nil {
		return strings.ToValidUTF8(string(raw), "\uFFFD")
	}
	return string(out)
}

// sniffLegacy guesses between the multi-byte legacy encodings that
// undeclared pages still use and windows-1252. A CJK candidate must decode
// the sample without a single invalid sequence (Western text with accented
// letters almost always trips one) and then wins by how many characters of
// its own script it produces: Hangul for EUC-KR, kana (and kanji next to
// kana) for the Japanese encodings, Han for GB18030. That separates most of
// the EUC family, whose byte ranges overlap; undeclared EUC-KR and GB2312
// remain hard to tell apart on short samples.
func sniffLegacy(raw []byte) encoding.Encoding {
	sample := prefix(raw, 64<<10)
	var best encoding.Encoding
	bestScore := 9 // need at least 10 script characters to trust a guess
	for _, c := range []struct {
		enc   encoding.Encoding
		count func(rune) int
	}{
		{japanese.ShiftJIS, nil},
		{japanese.EUCJP, nil},
		{korean.EUCKR, isHangul},
		{simplifiedchinese.GB18030, hanNotKana},
	} {
		out, _, err := transform.Bytes(c.enc.NewDecoder(), sample)
		if err != nil || bytes.ContainsRune(out, utf8.RuneError) {
			continue
		}
		score := 0
		if c.count == nil {
			score = japaneseScore(string(out))
		} else {
			for _, r := range string(out) {
				score += c.count(r)
			}
		}
		if score > bestScore {
			best, bestScore = c.enc, score
		}
	}
	if best != nil {
		return best
	}
	enc, _ := htmlindex.Get("windows-1252")
	return enc
}

// japaneseScore counts kana twice and kanji once; text without any kana is
// not Japanese (every Japanese sentence has particles written in kana),
// which keeps Chinese pages from "validly" decoding as EUC-JP.
func japaneseScore(s string) int {
	kana, han := 0, 0
	for _, r := range s {
		switch {
		case r >= 0x3040 && r <= 0x30FF:
			kana++
		case r >= 0x4E00 && r <= 0x9FFF:
			han++
		}
	}
	if kana == 0 {
		return 0
	}
	return 2*kana + han
}

func isHangul(r rune) int {
	if r >= 0xAC00 && r <= 0xD7A3 {
		return 1
	}
	return 0
}

// hanNotKana scores GB18030. GB2312 has the kana in the same rows as EUC-JP,
// so Japanese EUC text decodes "validly" as GB; kana count against it.
func hanNotKana(r rune) int {
	switch {
	case r >= 0x4E00 && r <= 0x9FFF:
		return 1
	case r >= 0x3040 && r <= 0x30FF:
		return -3
	}
	return 0
}
