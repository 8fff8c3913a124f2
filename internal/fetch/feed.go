package fetch

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"net/mail"
	"net/url"
	"path"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mmcdole/gofeed"
	"golang.org/x/net/html"
	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// ErrNotFeed is wrapped by every "this document is not a feed" error.
var ErrNotFeed = errors.New("not a feed")

// parsedFeed is the part of a feed the fetcher uses.
type parsedFeed struct {
	Title    string
	Language string
	Format   string // e.g. "rss 2.0", "atom 1.0", "json 1.1"
	Entries  []feedEntry
}

// feedEntry is one feed item, with links already absolute.
type feedEntry struct {
	Link      string
	Title     string
	Byline    string
	Summary   string // HTML or text as the feed gave it
	Image     string
	Published time.Time
}

// parseFeed decodes (charset, BOM), detects and parses a feed document.
// docURL is the URL the document was fetched from; relative links are
// resolved against it (after any xml:base, which gofeed applies).
func parseFeed(body []byte, contentType, docURL string) (*parsedFeed, error) {
	data, err := normalizeFeedBytes(body, contentType)
	if err != nil {
		return nil, err
	}
	if looksLikeHTML(data) {
		return nil, fmt.Errorf("%w: got an HTML page; try `clipsheet sources discover URL`", ErrNotFeed)
	}
	fp := gofeed.NewParser()
	f, err := fp.Parse(bytes.NewReader(data))
	if err != nil {
		if errors.Is(err, gofeed.ErrFeedTypeNotDetected) {
			return nil, notFeedError(data, contentType)
		}
		return nil, fmt.Errorf("parse feed: %w", err)
	}
	if f.FeedType == "json" && f.FeedVersion == "" {
		return nil, fmt.Errorf("%w: JSON document is not a JSON Feed (no jsonfeed.org version)", ErrNotFeed)
	}
	base, _ := url.Parse(docURL)
	out := &parsedFeed{
		Title:    plainText(f.Title),
		Language: strings.TrimSpace(f.Language),
		Format:   strings.TrimSpace(f.FeedType + " " + f.FeedVersion),
		Entries:  make([]feedEntry, 0, len(f.Items)),
	}
	for _, it := range f.Items {
		if it == nil {
			continue
		}
		e := feedEntry{
			Link:   entryLink(it, base),
			Title:  plainText(it.Title),
			Byline: byline(it.Authors),
		}
		switch {
		case it.PublishedParsed != nil:
			e.Published = it.PublishedParsed.UTC()
		case it.UpdatedParsed != nil:
			e.Published = it.UpdatedParsed.UTC()
		}
		e.Summary = it.Description
		if strings.TrimSpace(e.Summary) == "" {
			e.Summary = it.Content
		}
		if it.Image != nil && it.Image.URL != "" {
			e.Image = resolve(base, it.Image.URL)
		} else {
			for _, enc := range it.Enclosures {
				if enc != nil && enc.URL != "" && (strings.HasPrefix(enc.Type, "image/") || (enc.Type == "" && imageExt(enc.URL))) {
					e.Image = resolve(base, enc.URL)
					break
				}
			}
		}
		out.Entries = append(out.Entries, e)
	}
	return out, nil
}

// imageExt reports whether a URL's path ends like an image file (for
// enclosures that omit their type).
func imageExt(u string) bool {
	p, err := url.Parse(u)
	if err != nil {
		return false
	}
	switch strings.ToLower(path.Ext(p.Path)) {
	case ".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif":
		return true
	}
	return false
}

// entryLink picks the story URL: the item link, else a GUID that is a URL.
func entryLink(it *gofeed.Item, base *url.URL) string {
	for _, c := range append([]string{it.Link}, it.Links...) {
		if l := resolve(base, c); isHTTPURL(l) {
			return l
		}
	}
	if g := strings.TrimSpace(it.GUID); strings.HasPrefix(g, "http://") || strings.HasPrefix(g, "https://") {
		return resolve(base, g)
	}
	return ""
}

func resolve(base *url.URL, ref string) string {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return ""
	}
	u, err := url.Parse(ref)
	if err != nil {
		return ""
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	u.Fragment, u.RawFragment = "", ""
	return u.String()
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func byline(people []*gofeed.Person) string {
	var names []string
	for _, p := range people {
		if p == nil {
			continue
		}
		n := strings.TrimSpace(p.Name)
		if n == "" && p.Email != "" {
			// RSS <author> is "email (Name)"; gofeed splits most forms, but a
			// bare address is better shown as its display name if any.
			if a, err := mail.ParseAddress(p.Email); err == nil && a.Name != "" {
				n = a.Name
			} else {
				n = strings.TrimSpace(p.Email)
			}
		}
		if n != "" && !containsFold(names, n) {
			names = append(names, plainText(n))
		}
	}
	return strings.Join(names, ", ")
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// plainText strips tags and entities from a short text (titles sometimes
// carry HTML) and collapses white space.
func plainText(s string) string {
	if strings.ContainsAny(s, "<&") {
		z := html.NewTokenizer(strings.NewReader(s))
		var b strings.Builder
	loop:
		for {
			switch z.Next() {
			case html.ErrorToken:
				break loop
			case html.TextToken:
				b.Write(z.Text())
			}
		}
		s = b.String()
	}
	return strings.Join(strings.Fields(s), " ")
}

var (
	reXMLDecl     = regexp.MustCompile(`^\s*<\?xml[^>]*?\?>`)
	reXMLEncoding = regexp.MustCompile(`encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']`)
)

// normalizeFeedBytes returns the document as UTF-8 with any XML encoding
// declaration rewritten to UTF-8, so the XML parser never has to convert.
//
// Which encoding is used: a BOM; else the XML declaration; else the HTTP
// charset; else UTF-8 when the bytes are valid UTF-8; else windows-1252
// (a superset of Latin-1, by far the most common undeclared legacy
// encoding). A document that claims UTF-8 yet has invalid sequences keeps
// its text with U+FFFD in place of the bad bytes rather than failing.
func normalizeFeedBytes(b []byte, contentType string) ([]byte, error) {
	switch {
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		b = b[3:]
	case bytes.HasPrefix(b, []byte{0xFE, 0xFF}), bytes.HasPrefix(b, []byte{0xFF, 0xFE}):
		dec := unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM).NewDecoder()
		if bytes.HasPrefix(b, []byte{0xFF, 0xFE}) {
			dec = unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder()
		}
		out, _, err := transform.Bytes(dec, b)
		if err != nil {
			return nil, fmt.Errorf("decode UTF-16 feed: %w", err)
		}
		return rewriteDecl(out), nil
	}
	trimmed := bytes.TrimLeft(b, " \t\r\n")
	if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
		// JSON is UTF-8 by definition.
		return bytes.ToValidUTF8(b, []byte("\uFFFD")), nil
	}
	var label string
	declared := false
	if m := reXMLDecl.Find(b[:min(len(b), 1024)]); m != nil {
		if e := reXMLEncoding.FindSubmatch(m); e != nil {
			label, declared = string(e[1]), true
		}
	}
	if label == "" {
		if _, params, err := mime.ParseMediaType(contentType); err == nil {
			label = params["charset"]
		}
	}
	var enc encoding.Encoding
	name := ""
	if label != "" {
		enc, name = charset.Lookup(label)
		if enc == nil && declared {
			return nil, fmt.Errorf("parse feed: unsupported encoding %q", label)
		}
	}
	if enc == nil || name == "utf-8" {
		if utf8.Valid(b) {
			return rewriteDecl(b), nil
		}
		if declared {
			return rewriteDecl(bytes.ToValidUTF8(b, []byte("\uFFFD"))), nil
		}
		enc = charmap.Windows1252
	}
	out, _, err := transform.Bytes(enc.NewDecoder(), b)
	if err != nil {
		return nil, fmt.Errorf("parse feed: decode %s: %w", label, err)
	}
	return rewriteDecl(out), nil
}

// rewriteDecl replaces the declared encoding with UTF-8 (the bytes have been
// converted), leaving documents without one untouched.
func rewriteDecl(b []byte) []byte {
	loc := reXMLDecl.FindIndex(b[:min(len(b), 1024)])
	if loc == nil {
		return b
	}
	decl := b[loc[0]:loc[1]]
	e := reXMLEncoding.FindSubmatchIndex(decl)
	if e == nil || strings.EqualFold(string(decl[e[2]:e[3]]), "utf-8") {
		return b
	}
	out := make([]byte, 0, len(b))
	out = append(out, b[:loc[0]+e[2]]...)
	out = append(out, "UTF-8"...)
	out = append(out, b[loc[0]+e[3]:]...)
	return out
}

// looksLikeHTML reports whether a document is an HTML page (a site's home
// page, a login wall, a soft 404) rather than a feed.
func looksLikeHTML(b []byte) bool {
	head := bytes.ToLower(bytes.TrimLeft(b[:min(len(b), 2048)], " \t\r\n"))
	// Skip an XML declaration and comments: XHTML pages start with them too.
	for {
		var end int
		switch {
		case bytes.HasPrefix(head, []byte("<?")):
			end = bytes.Index(head, []byte("?>")) + 2
		case bytes.HasPrefix(head, []byte("<!--")):
			end = bytes.Index(head, []byte("-->")) + 3
		default:
			end = 0
		}
		if end < 3 {
			break
		}
		head = bytes.TrimLeft(head[end:], " \t\r\n")
	}
	return bytes.HasPrefix(head, []byte("<!doctype html")) || bytes.HasPrefix(head, []byte("<html")) ||
		bytes.HasPrefix(head, []byte("<head")) || bytes.HasPrefix(head, []byte("<body"))
}

func notFeedError(data []byte, contentType string) error {
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == "text/html" || mt == "application/xhtml+xml" {
		return fmt.Errorf("%w: got an HTML page; try `clipsheet sources discover URL`", ErrNotFeed)
	}
	start := strings.TrimSpace(string(bytes.ToValidUTF8(data[:min(len(data), 40)], []byte("?"))))
	start = strings.Map(func(r rune) rune {
		if r < 0x20 {
			return ' '
		}
		return r
	}, start)
	if mt == "" {
		mt = "no content type"
	}
	return fmt.Errorf("%w: unrecognised document (%s, starts %q)", ErrNotFeed, mt, start)
}
