package sourcesfile

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/html/charset"

	"github.com/clipsheet/clipsheet/internal/config"
)

// MaxOPMLFeeds bounds one import; reader exports run to a few hundred.
const MaxOPMLFeeds = 5000

// OPMLFeed is one feed found in an OPML file.
type OPMLFeed struct {
	Title   string
	XMLURL  string
	HTMLURL string
	// Section is the title of the folder (enclosing outline) the feed is
	// in, "" at the top level.
	Section string
}

// outline reads an <outline> with attribute names matched without regard
// to case: exporters write xmlUrl, xmlURL and xmlurl.
type outline struct {
	Text, Title, Type, XMLURL, HTMLURL, Category string
	Children                                     []outline
}

func (o *outline) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	for _, a := range start.Attr {
		v := strings.TrimSpace(a.Value)
		switch strings.ToLower(a.Name.Local) {
		case "text":
			o.Text = v
		case "title":
			o.Title = v
		case "type":
			o.Type = v
		case "xmlurl":
			o.XMLURL = v
		case "htmlurl":
			o.HTMLURL = v
		case "category":
			o.Category = v
		}
	}
	for {
		tok, err := d.Token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local != "outline" {
				if err := d.Skip(); err != nil {
					return err
				}
				continue
			}
			var child outline
			if err := d.DecodeElement(&child, &t); err != nil {
				return err
			}
			o.Children = append(o.Children, child)
		case xml.EndElement:
			return nil
		}
	}
}

func (o *outline) label() string {
	if o.Title != "" {
		return o.Title
	}
	return o.Text
}

type opmlIn struct {
	XMLName xml.Name `xml:"opml"`
	Body    struct {
		Outlines []outline `xml:"outline"`
	} `xml:"body"`
}

// ParseOPML reads the feeds of an OPML subscription list. A nested outline
// is a folder and becomes the section of the feeds inside it; deeper
// nesting uses the innermost folder. Feeds at the top level with a
// category attribute (some exporters write folders that way) take its
// last path element.
func ParseOPML(r io.Reader) ([]OPMLFeed, error) {
	var doc opmlIn
	dec := xml.NewDecoder(r)
	// OPML files in the wild declare ISO-8859-1 and windows-1252 now and
	// then, with accented folder and feed titles. A label nobody knows is
	// read as is: URLs are ASCII, and a title that is not valid UTF-8
	// then fails with a clear error.
	dec.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		if r, err := charset.NewReaderLabel(label, in); err == nil {
			return r, nil
		}
		return in, nil
	}
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("read OPML: %w", err)
	}
	var feeds []OPMLFeed
	var walk func(list []outline, folder string) error
	walk = func(list []outline, folder string) error {
		for i := range list {
			o := &list[i]
			if o.XMLURL == "" {
				if err := walk(o.Children, o.label()); err != nil {
					return err
				}
				continue
			}
			if len(feeds) >= MaxOPMLFeeds {
				return fmt.Errorf("read OPML: more than %d feeds; split the file", MaxOPMLFeeds)
			}
			section := folder
			if section == "" && o.Category != "" {
				cat, _, _ := strings.Cut(o.Category, ",")
				parts := strings.Split(strings.Trim(cat, "/ "), "/")
				section = strings.TrimSpace(parts[len(parts)-1])
			}
			feeds = append(feeds, OPMLFeed{Title: o.label(), XMLURL: o.XMLURL, HTMLURL: o.HTMLURL, Section: section})
		}
		return nil
	}
	if err := walk(doc.Body.Outlines, ""); err != nil {
		return nil, err
	}
	if len(feeds) == 0 {
		return nil, errors.New("read OPML: no feeds (outlines with an xmlUrl) found")
	}
	return feeds, nil
}

// Import statuses.
const (
	ImportNew       = "new"
	ImportDuplicate = "duplicate"
	ImportInvalid   = "invalid"
)

// ImportRow is one feed of an import with what adding it would do.
type ImportRow struct {
	Feed   OPMLFeed
	Source config.Source
	Status string
	// Reason explains a duplicate or invalid row.
	Reason string
	// NewSection is set when the row's section does not exist yet and
	// would be created.
	NewSection bool
}

// PlanImport decides, for each feed, whether it is new, already in the
// list (same URL, compared as the validator does) or unusable, and the
// source it would become: named after the feed title (made unique), in
// the existing section whose name matches the folder regardless of case,
// else in a new section of that name.
func PlanImport(list *config.SourcesFile, feeds []OPMLFeed) []ImportRow {
	if list == nil {
		list = &config.SourcesFile{}
	}
	urls := map[string]string{}
	names := map[string]bool{}
	for _, s := range list.Sources {
		urls[config.NormalizeSourceURL(s.URL)] = s.Name
		names[strings.ToLower(s.Name)] = true
	}
	sections := map[string]string{}
	known := map[string]bool{}
	for _, s := range list.Sections {
		sections[strings.ToLower(s)] = s
		known[s] = true
	}
	rows := make([]ImportRow, 0, len(feeds))
	for _, f := range feeds {
		row := ImportRow{Feed: f, Status: ImportNew}
		sec := strings.TrimSpace(f.Section)
		if existing, ok := sections[strings.ToLower(sec)]; ok {
			sec = existing
		} else if sec != "" {
			row.NewSection = true
			sections[strings.ToLower(sec)] = sec
			known[sec] = true
		}
		row.Source = config.Source{Name: uniqueName(f, names), URL: f.XMLURL, Type: config.TypeFeed, Section: sec}
		key := config.NormalizeSourceURL(f.XMLURL)
		if other, dup := urls[key]; dup {
			row.Status, row.Reason = ImportDuplicate, fmt.Sprintf("already polled as %q", other)
		} else if ps := config.CheckSource(row.Source, known); len(ps) > 0 {
			row.Status, row.Reason = ImportInvalid, ps[0].Message
		} else {
			urls[key] = row.Source.Name
			names[strings.ToLower(row.Source.Name)] = true
		}
		rows = append(rows, row)
	}
	return rows
}

// uniqueName names a feed after its title, falling back to its host, and
// adds the host or a number when the name is taken.
func uniqueName(f OPMLFeed, taken map[string]bool) string {
	host := ""
	if u, err := url.Parse(f.XMLURL); err == nil {
		host = strings.TrimPrefix(u.Hostname(), "www.")
	}
	name := strings.Join(strings.Fields(f.Title), " ")
	if name == "" {
		name = host
	}
	if name == "" {
		name = "Imported feed"
	}
	if !taken[strings.ToLower(name)] {
		return name
	}
	if host != "" && !taken[strings.ToLower(name+" ("+host+")")] {
		return name + " (" + host + ")"
	}
	for i := 2; ; i++ {
		n := fmt.Sprintf("%s %d", name, i)
		if !taken[strings.ToLower(n)] {
			return n
		}
	}
}

type opmlOut struct {
	XMLName xml.Name `xml:"opml"`
	Version string   `xml:"version,attr"`
	Head    struct {
		Title       string `xml:"title"`
		DateCreated string `xml:"dateCreated"`
	} `xml:"head"`
	Comment xml.Comment `xml:",comment"`
	Body    struct {
		Outlines []outlineOut `xml:"outline"`
	} `xml:"body"`
}

type outlineOut struct {
	Text     string       `xml:"text,attr"`
	Title    string       `xml:"title,attr,omitempty"`
	Type     string       `xml:"type,attr,omitempty"`
	XMLURL   string       `xml:"xmlUrl,attr,omitempty"`
	Children []outlineOut `xml:"outline"`
}

// ExportOPML writes the feed sources as OPML 2.0 for other readers: one
// folder outline per section, in file order, with its feeds inside; feeds
// without a section at the top level. Page sources are left out (other
// readers cannot poll a page), and a comment in the file says how many.
func ExportOPML(list *config.SourcesFile, title string, now time.Time) ([]byte, error) {
	var doc opmlOut
	doc.Version = "2.0"
	doc.Head.Title = title
	doc.Head.DateCreated = now.UTC().Format(time.RFC1123Z)
	folders := map[string]int{}
	for _, s := range list.Sections {
		folders[s] = len(doc.Body.Outlines)
		doc.Body.Outlines = append(doc.Body.Outlines, outlineOut{Text: s, Title: s})
	}
	var loose []outlineOut
	pages := 0
	for _, s := range list.Sources {
		if s.KindOrDefault() != config.TypeFeed {
			pages++
			continue
		}
		o := outlineOut{Text: s.Name, Title: s.Name, Type: "rss", XMLURL: s.URL}
		if i, ok := folders[s.Section]; ok && s.Section != "" {
			doc.Body.Outlines[i].Children = append(doc.Body.Outlines[i].Children, o)
			continue
		}
		loose = append(loose, o)
	}
	doc.Body.Outlines = append(doc.Body.Outlines, loose...)
	if pages > 0 {
		doc.Comment = xml.Comment(fmt.Sprintf(" %d page source(s) not exported: OPML lists feeds only ", pages))
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("write OPML: %w", err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// AddImported adds the sources of the new rows, creating the sections they
// need first (in the order the rows name them). Duplicate and invalid rows
// are skipped.
func (d *Doc) AddImported(rows []ImportRow) error {
	have := map[string]bool{}
	if seq, err := d.topSeq("sections"); err == nil {
		for _, n := range seq.Content {
			have[n.Value] = true
		}
	}
	for _, r := range rows {
		if r.Status != ImportNew {
			continue
		}
		if sec := r.Source.Section; sec != "" && !have[sec] {
			if err := d.AddSection(sec); err != nil && !errors.Is(err, ErrExists) {
				return err
			}
			have[sec] = true
		}
		if err := d.AddSource(r.Source); err != nil {
			return fmt.Errorf("import %s: %w", r.Source.URL, err)
		}
	}
	return nil
}
