package fetch

import (
	"context"
	"errors"
	"github.com/clipsheet/clipsheet/internal/testcorpus"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clipsheet/clipsheet/internal/config"
	"github.com/clipsheet/clipsheet/internal/fetch/httpx"
	"github.com/clipsheet/clipsheet/internal/model"
)

// corpusWant is what a corpus feed must give.
type corpusWant struct {
	entries int    // -1: must fail
	err     string // substring of the error when failing
	note    string
}

// corpusExpectations lists every file of the shared feed corpus.
func corpusExpectations() map[string]corpusWant {
	return map[string]corpusWant{
		"atom-blogger-4fsodonline.atom":              {entries: 25},
		"atom-daringfireball.atom":                   {entries: 48},
		"atom-dustri-large.xml":                      {entries: 25},
		"atom-github-commits-miniflux.xml":           {entries: 20},
		"atom-golem-feedcreator.xml":                 {entries: 40},
		"atom-reddit-mediarss.xml":                   {entries: 25},
		"atom-typepad-expertopinionent.atom":         {entries: 43},
		"json-rssinjson-scriptingnews.json":          {entries: -1, err: "not a feed: JSON document is not a JSON Feed", note: "RSS-in-JSON is not JSON Feed"},
		"jsonfeed1-curtclifton-escaped-slashes.json": {entries: 26},
		"jsonfeed1-daringfireball.json":              {entries: 48},
		"jsonfeed1-inessential.json":                 {entries: 20},
		"jsonfeed1-npr-technology.json":              {entries: 25},
		"jsonfeed1-pxlnv.json":                       {entries: 20},
		"jsonfeed11-3960-journal.json":               {entries: 20},
		"jsonfeed11-influxdata-blog.json":            {entries: 3},
		"rdf090-heise-newsticker.xml":                {entries: 60},
		"rdf10-biorxiv-bio-noxmldecl.rdf":            {entries: 30},
		"rdf10-biorxiv-genomics.xml":                 {entries: 1},
		"rdf10-debian-news.xml":                      {entries: 1},
		"rdf10-iso8859-golem.xml":                    {entries: 1},
		"rss091-iso8859-dicas-l.xml":                 {entries: 1},
		"rss091-iso8859-tjrs-court-news.xml":         {entries: 1},
		"rss092-scripting-grateful-dead.xml":         {entries: 22},
		"rss2-aktuality-sk-news.rss":                 {entries: 30},
		"rss2-allthis-wordpress.rss":                 {entries: 12},
		"rss2-arstechnica-feedburner.xml":            {entries: 1},
		"rss2-bbc-radio4-podcast.xml":                {entries: 1},
		"rss2-bbc-urdu.xml":                          {entries: 26},
		"rss2-cloudflare-blog.xml":                   {entries: 1},
		"rss2-donthitsave-bom.xml":                   {entries: 10},
		"rss2-dustri-large.xml":                      {entries: 25},
		"rss2-earthquakenewstoday-georss.xml":        {entries: 1},
		"rss2-fcutrecht-malformed-prolog.rss":        {entries: 20, note: "MALFORMED prolog, recovered"},
		"rss2-gb2312-kc0011-forum.rss":               {entries: 20},
		"rss2-golem-feedsportal.xml":                 {entries: 40},
		"rss2-google-cloudblog.rss":                  {entries: 20},
		"rss2-ilgiornale-cronache.xml":               {entries: 1},
		"rss2-ilmessaggero-mojibake.xml":             {entries: 1},
		"rss2-iso8859-golem.xml":                     {entries: 40},
		"rss2-iso8859-inovacaotecnologica.xml":       {entries: 1},
		"rss2-iso8859-nodecl-lecerclepsy.xml":        {entries: 10, note: "MALFORMED (Latin-1 without declaration), recovered as windows-1252"},
		"rss2-livemint-news-media.xml":               {entries: 25},
		"rss2-macworld-noxmldecl-leadingspace.rss":   {entries: 30},
		"rss2-medium-hodlhodl.rss":                   {entries: 10},
		"rss2-natasha-wordpress.xml":                 {entries: 10},
		"rss2-nbc-newyork.xml":                       {entries: 1},
		"rss2-nyt-wirecutter.xml":                    {entries: 1},
		"rss2-relative-enclosure-kryogenix.xml":      {entries: 1},
		"rss2-relative-item-xmlbase-insanity.xml":    {entries: 2},
		"rss2-reuters-mostread-malformed.xml":        {entries: -1, err: "parse feed: XML syntax error", note: "MALFORMED: truncated server-error response"},
		"rss2-scriptingnews.rss":                     {entries: 50},
		"rss2-spiegel-podcast-omny.xml":              {entries: 1},
		"rss2-theomnishow-podcast.rss":               {entries: 4},
		"rss2-win1251-ibash.xml":                     {entries: 50},
	}
}

// TestCorpusFeeds parses every captured feed in the shared corpus. Each
// either parses to the expected number of entries, or fails with the
// expected clear error; the MALFORMED ones are marked.
func TestCorpusFeeds(t *testing.T) {
	dir := testcorpus.Dir(t, "feeds")
	cases := corpusExpectations()
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no feeds in %s: %v", dir, err)
	}
	seen := 0
	for _, path := range files {
		name := filepath.Base(path)
		if st, err := os.Stat(path); err != nil || st.IsDir() || strings.HasSuffix(name, ".md") {
			continue
		}
		w, ok := cases[name]
		if !ok {
			t.Errorf("%s: new corpus file without an expectation", name)
			continue
		}
		seen++
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			feed, err := parseFeed(body, "", "https://feeds.example.org/"+name)
			if w.entries < 0 {
				if err == nil || !strings.Contains(err.Error(), w.err) {
					t.Fatalf("want error containing %q (%s), got %v", w.err, w.note, err)
				}
				if strings.HasPrefix(w.err, "not a feed") && !errors.Is(err, ErrNotFeed) {
					t.Errorf("error does not wrap ErrNotFeed: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if len(feed.Entries) != w.entries {
				t.Errorf("%d entries, want %d", len(feed.Entries), w.entries)
			}
			if feed.Title == "" || feed.Format == "" {
				t.Errorf("title %q format %q", feed.Title, feed.Format)
			}
			for _, e := range feed.Entries {
				if e.Link != "" && !isHTTPURL(e.Link) {
					t.Errorf("link not absolute http(s): %q", e.Link)
				}
				if e.Image != "" && !isHTTPURL(e.Image) {
					t.Errorf("image not absolute: %q", e.Image)
				}
				if strings.ContainsRune(e.Title, '\uFFFD') && name != "rss2-ilmessaggero-mojibake.xml" {
					t.Errorf("replacement character in title %q: charset not decoded", e.Title)
				}
			}
		})
	}
	if seen != len(cases) {
		t.Errorf("saw %d corpus files, expected %d", seen, len(cases))
	}
}

// TestCorpusFeedFields checks decoding and field fallbacks on particular
// captures.
func TestCorpusFeedFields(t *testing.T) {
	dir := testcorpus.Dir(t, "feeds")
	parse := func(name, docURL string) *parsedFeed {
		t.Helper()
		body, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		f, err := parseFeed(body, "", docURL)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return f
	}
	first := func(f *parsedFeed) feedEntry {
		t.Helper()
		if len(f.Entries) == 0 {
			t.Fatal("no entries")
		}
		return f.Entries[0]
	}
	if e := first(parse("rss2-gb2312-kc0011-forum.rss", "http://www.kc0011.net/rss.asp")); e.Title != "建国35周年纪念，华表，和平鸽" {
		t.Errorf("GB2312 title %q", e.Title)
	}
	if e := first(parse("rss2-win1251-ibash.xml", "http://ibash.org.ru/rss.xml")); e.Title != "Цитата #17703" {
		t.Errorf("windows-1251 title %q", e.Title)
	}
	f := parse("rss2-iso8859-nodecl-lecerclepsy.xml", "https://le-cercle-psy.scienceshumaines.com/rss")
	if e := f.Entries[1]; !strings.Contains(e.Title, "très complexe") || !strings.Contains(e.Summary, "adoptée en 2014") {
		t.Errorf("undeclared Latin-1 not recovered: %q / %q", e.Title, e.Summary)
	}
	if e := first(parse("rss2-iso8859-golem.xml", "https://rss.golem.de/rss.php")); strings.ContainsRune(e.Title+e.Summary, '\uFFFD') {
		t.Errorf("ISO-8859-1 mis-decoded: %q", e.Title)
	}
	if f := parse("rss2-donthitsave-bom.xml", "https://donthitsave.com/donthitsavefeed.xml"); f.Title != "Don't Hit Save" {
		t.Errorf("BOM feed title %q", f.Title)
	}
	if e := first(parse("rss2-nbc-newyork.xml", "https://www.nbcnewyork.com/feed")); e.Byline == "" {
		t.Error("dc:creator byline missing")
	}
	if e := first(parse("rss2-ilgiornale-cronache.xml", "https://www.ilgiornale.it/feed")); e.Byline == "" {
		t.Error("<author> name byline missing")
	}
	if e := first(parse("atom-reddit-mediarss.xml", "https://www.reddit.com/r/homelab/new/.rss")); e.Byline != "/u/Sir-Peeps-A-Lot" && e.Byline == "" {
		t.Error("Atom author missing")
	}
	if e := first(parse("jsonfeed1-npr-technology.json", "https://feeds.npr.org/1019/feed.json")); e.Byline == "" || e.Summary == "" || e.Image == "" || e.Published.IsZero() {
		t.Errorf("JSON Feed fields: %+v", e)
	}
	if e := first(parse("jsonfeed11-3960-journal.json", "https://journal.3960.org/feed.json")); e.Byline == "" {
		t.Error("JSON Feed 1.1 authors byline missing")
	}
	if e := first(parse("rdf10-debian-news.xml", "https://www.debian.org/News/news")); e.Published.IsZero() {
		t.Error("dc:date not used as the publication time")
	}
	if e := first(parse("rss2-relative-enclosure-kryogenix.xml", "https://kryogenix.org/random/relurleg.xml")); e.Image != "https://kryogenix.org/images/me/hackergotchi-simpler.png" {
		t.Errorf("relative enclosure: %q", e.Image)
	}
	f = parse("rss2-relative-item-xmlbase-insanity.xml", "https://insanity.industries/index.xml")
	if f.Entries[0].Link != "https://insanity.industries/post/pareto-optimal-compression/" {
		t.Errorf("xml:base link %q", f.Entries[0].Link)
	}
	f = parse("rss2-scriptingnews.rss", "http://scripting.com/rss.xml")
	untitled := 0
	for _, e := range f.Entries {
		if e.Title == "" {
			untitled++
		}
		if e.Link == "" {
			t.Errorf("entry without link: %+v", e)
		}
	}
	if untitled == 0 {
		t.Error("expected title-less items (they fall back to the page title)")
	}
}

func TestNormalizeFeedBytes(t *testing.T) {
	latin1 := "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss version=\"2.0\"><channel><title>Caf\xe9</title></channel></rss>"
	out, err := normalizeFeedBytes([]byte(latin1), "")
	if err != nil || !strings.Contains(string(out), "<title>Café</title>") || !strings.Contains(string(out), `encoding="UTF-8"`) {
		t.Errorf("declared Latin-1: %q %v", out, err)
	}
	// HTTP charset applies when the document declares none.
	out, _ = normalizeFeedBytes([]byte("<rss><channel><title>\xc0\xe1\xe2</title></channel></rss>"), "text/xml; charset=windows-1251")
	if !strings.Contains(string(out), "Абв") {
		t.Errorf("HTTP charset: %q", out)
	}
	// UTF-16 with BOM.
	u16 := []byte{0xFF, 0xFE}
	for _, r := range `<?xml version="1.0" encoding="UTF-16"?><rss/>` {
		u16 = append(u16, byte(r), 0)
	}
	out, err = normalizeFeedBytes(u16, "")
	if err != nil || string(out) != `<?xml version="1.0" encoding="UTF-8"?><rss/>` {
		t.Errorf("UTF-16: %q %v", out, err)
	}
	if _, err := normalizeFeedBytes([]byte(`<?xml version="1.0" encoding="x-klingon"?><rss/>`), ""); err == nil || !strings.Contains(err.Error(), "unsupported encoding") {
		t.Errorf("unknown encoding: %v", err)
	}
}

// TestCorpusFeedsPolled serves every corpus feed over loopback HTTP and
// polls them all in one cycle: each source either succeeds with its entries
// counted in the stored state, or has the expected clear error stored, and
// a broken feed never disturbs the others. The feeds' article links name
// real publishers; every host name resolves to loopback, where nothing
// listens on ports 80/443, so no request leaves the machine.
func TestCorpusFeedsPolled(t *testing.T) {
	dir := testcorpus.Dir(t, "feeds")
	cases := corpusExpectations()
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", http.NotFound)
	mux.HandleFunc("/feeds/", func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/feeds/")
		if _, ok := cases[name]; !ok {
			http.NotFound(w, r)
			return
		}
		body, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		ct := "application/xml"
		if strings.HasSuffix(name, ".json") {
			ct = "application/feed+json"
		}
		w.Header().Set("Content-Type", ct)
		w.Write(body)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	cfg := testConfig()
	cfg.IgnoreRobots = true
	cfg.MaxArticles = 3
	f, st := newTestFetcher(t, cfg)
	f.configureHTTP(func(c *httpx.Config) {
		c.LookupHost = func(context.Context, string) ([]netip.Addr, error) {
			return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
		}
	})
	file := &config.SourcesFile{Sections: []string{"Top"}}
	for name := range cases {
		file.Sources = append(file.Sources, feedSource(name, srv.URL+"/feeds/"+name))
	}
	start := time.Now()
	rs := f.PollOnce(context.Background(), file)
	wantIDs := map[string]bool{}
	if len(rs) != len(cases) {
		t.Fatalf("%d results for %d feeds", len(rs), len(cases))
	}
	for _, r := range rs {
		w := cases[r.Source]
		s := sourceState(t, st, r.Source)
		if s == nil {
			t.Errorf("%s: no stored state", r.Source)
			continue
		}
		if !s.LastAttempt.After(start.Add(-time.Second)) || s.HTTPStatus != 200 || s.NextPoll.IsZero() {
			t.Errorf("%s: health fields not stored: %+v", r.Source, s)
		}
		if w.entries < 0 {
			if r.Err == nil || !strings.Contains(s.LastError, w.err) || s.ConsecutiveFailures != 1 || !s.LastSuccess.IsZero() {
				t.Errorf("%s: want stored error containing %q (%s), got %q (failures %d)", r.Source, w.err, w.note, s.LastError, s.ConsecutiveFailures)
			}
			continue
		}
		if r.Err != nil || s.LastError != "" || s.ItemsFound != w.entries || s.LastSuccess.IsZero() {
			t.Errorf("%s: want success with %d entries, got err %v, stored %q, items found %d", r.Source, w.entries, r.Err, s.LastError, s.ItemsFound)
		}
		// The first entries with a link (up to the per-poll cap) become
		// items, their pages unreachable but their feed fields kept. Two
		// corpus feeds share their links, so an item may be credited to
		// either source.
		body, err := os.ReadFile(filepath.Join(dir, r.Source))
		if err != nil {
			t.Errorf("%s: %v", r.Source, err)
			continue
		}
		pf, err := parseFeed(body, "", srv.URL+"/feeds/"+r.Source)
		if err != nil {
			t.Errorf("%s: parse: %v", r.Source, err)
			continue
		}
		var ids []string
		for _, e := range pf.Entries {
			if id := model.ItemID(e.Link); e.Link != "" && !slices.Contains(ids, id) && len(ids) < cfg.MaxArticles {
				ids = append(ids, id)
			}
		}
		if r.NewItems > len(ids) {
			t.Errorf("%s: %d new items, at most %d expected", r.Source, r.NewItems, len(ids))
		}
		for _, id := range ids {
			wantIDs[id] = true
			if it, err := st.GetItem(context.Background(), id); err != nil || it == nil {
				t.Errorf("%s: entry %s not stored: %v", r.Source, id, err)
			}
		}
	}
	// Each stored item is credited to exactly one source.
	credited := 0
	for _, r := range rs {
		credited += r.NewItems
	}
	if n := len(listItems(t, st, "")); n != credited || n < len(wantIDs) {
		t.Errorf("%d items stored, %d credited to sources, at least %d expected", n, credited, len(wantIDs))
	}
}

// TestAtom03 covers the one format gofeed reads that the corpus lacks.
func TestAtom03(t *testing.T) {
	doc := `<?xml version="1.0" encoding="utf-8"?>
<feed version="0.3" xmlns="http://purl.org/atom/ns#">
  <title>Old Atom Desk</title>
  <link rel="alternate" type="text/html" href="https://old.example.org/"/>
  <modified>2004-06-01T12:00:00Z</modified>
  <entry>
    <title>Flood warning lifted</title>
    <link rel="alternate" type="text/html" href="/2004/06/flood"/>
    <id>tag:old.example.org,2004:1</id>
    <issued>2004-06-01T10:00:00Z</issued>
    <modified>2004-06-01T11:00:00Z</modified>
    <author><name>Eve Editor</name></author>
    <summary>The river fell below the warning mark overnight.</summary>
  </entry>
</feed>`
	f, err := parseFeed([]byte(doc), "application/atom+xml", "https://old.example.org/atom.xml")
	if err != nil {
		t.Fatal(err)
	}
	if f.Format != "atom 0.3" || f.Title != "Old Atom Desk" || len(f.Entries) != 1 {
		t.Fatalf("%+v", f)
	}
	e := f.Entries[0]
	if e.Link != "https://old.example.org/2004/06/flood" || e.Title != "Flood warning lifted" || e.Byline != "Eve Editor" ||
		!e.Published.Equal(time.Date(2004, 6, 1, 10, 0, 0, 0, time.UTC)) || !strings.Contains(e.Summary, "river fell") {
		t.Errorf("entry %+v", e)
	}
}
