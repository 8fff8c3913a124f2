package sourcesfile

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clipsheet/clipsheet/internal/config"
)

func readOPML(t *testing.T, name string) []OPMLFeed {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "testdata", "opml", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	feeds, err := ParseOPML(f)
	if err != nil {
		t.Fatal(err)
	}
	return feeds
}

func shipped(t *testing.T) *config.SourcesFile {
	t.Helper()
	list, err := config.ParseSources(readTestdata(t, "sources.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return list
}

type rowWant struct {
	name, section, status string
	newSection            bool
}

func checkRows(t *testing.T, rows []ImportRow, want []rowWant) {
	t.Helper()
	if len(rows) != len(want) {
		for _, r := range rows {
			t.Logf("row %q %q %s", r.Source.Name, r.Source.Section, r.Status)
		}
		t.Fatalf("%d rows, want %d", len(rows), len(want))
	}
	for i, w := range want {
		r := rows[i]
		if r.Source.Name != w.name || r.Source.Section != w.section || r.Status != w.status || r.NewSection != w.newSection {
			t.Errorf("row %d = {%q %q %s new=%v} (%s), want %+v", i, r.Source.Name, r.Source.Section, r.Status, r.NewSection, r.Reason, w)
		}
	}
}

func TestImportFeedly(t *testing.T) {
	rows := PlanImport(shipped(t), readOPML(t, "feedly.opml"))
	checkRows(t, rows, []rowWant{
		{"Krebs on Security (krebsonsecurity.com)", "Security", ImportDuplicate, true},
		{"The Record by Recorded Future", "Security", ImportNew, false},
		{"BleepingComputer", "Security", ImportNew, false},
		{"Schneier on Security", "Security", ImportNew, false},
		{"BBC News - World", "World", ImportDuplicate, true}, // http vs https of a known feed
		{"Al Jazeera – Breaking News, World News and Video from Al Jazeera", "World", ImportNew, false},
		{"World news | The Guardian", "World", ImportDuplicate, false},
		{"NHC Atlantic", "Weather & Hazards", ImportDuplicate, true},
		{"Volcano Discovery - Latest news", "Weather & Hazards", ImportNew, false},
		// The same feed in a second folder is a duplicate of the list.
		{"Krebs on Security (krebsonsecurity.com)", "Saved for later", ImportDuplicate, true},
	})
	if !strings.Contains(rows[0].Reason, `"Krebs on Security"`) {
		t.Errorf("duplicate reason does not name the existing source: %q", rows[0].Reason)
	}
}

func TestImportInoreaderMapsFoldersCaseInsensitively(t *testing.T) {
	rows := PlanImport(shipped(t), readOPML(t, "inoreader.xml"))
	checkRows(t, rows, []rowWant{
		{"WHO | News", "Public health", ImportDuplicate, false},
		{"ECDC - News", "Public health", ImportNew, false},
		{"CIDRAP", "Public health", ImportNew, false},
		{"CISA Cybersecurity Advisories", "Cyber", ImportDuplicate, false},
		{"SANS Internet Storm Center", "Cyber", ImportNew, false},
		{"ReliefWeb - Updates", "", ImportNew, false},
		{"Broken entry", "", ImportInvalid, false},
	})
}

func TestImportMinifluxAndApply(t *testing.T) {
	f, live, _ := setup(t)
	snap, _ := f.Read()
	rows := PlanImport(snap.Sources, readOPML(t, "miniflux.opml"))
	checkRows(t, rows, []rowWant{
		{"NPR Topics: News", "All", ImportDuplicate, true},
		{"Reuters World", "All", ImportNew, false},
		{"USGS Magnitude 2.5+ Earthquakes, Past Day", "Earthquakes", ImportNew, true},
		{"EMSC - Last 50 earthquakes worldwide", "Earthquakes", ImportNew, false},
	})
	if _, err := f.Apply(snap.Hash, func(d *Doc) error { return d.AddImported(rows) }); err != nil {
		t.Fatal(err)
	}
	cur := live.Current()
	if got := strings.Join(cur.Sections, "|"); !strings.HasSuffix(got, "|Public health|All|Earthquakes") {
		t.Errorf("sections = %s", got)
	}
	src, ok := cur.Find("Reuters World")
	if !ok || src.URL != "https://www.reutersagency.com/feed/?best-topics=world&post_type=best" || src.Section != "All" {
		t.Errorf("imported source = %+v", src)
	}
	if len(cur.Sources) != 14+3 {
		t.Errorf("%d sources, want 17", len(cur.Sources))
	}
}

// TestOPMLRoundTrip exports the shipped list, imports it into an empty
// file, and expects the same feeds in the same sections and order.
func TestOPMLRoundTrip(t *testing.T) {
	list := shipped(t)
	out, err := ExportOPML(list, "Clipsheet sources", time.Date(2026, 3, 9, 8, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	text := string(out)
	for _, want := range []string{`<opml version="2.0">`, `<outline text="Terrorism &amp; security" title="Terrorism &amp; security">`,
		`xmlUrl="https://www.fbi.gov/feeds/national-press-releases/rss.xml"`, "1 page source(s) not exported"} {
		if !strings.Contains(text, want) {
			t.Errorf("export lacks %s", want)
		}
	}
	feeds, err := ParseOPML(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	d, err := Parse(nil)
	if err != nil {
		t.Fatal(err)
	}
	rows := PlanImport(&config.SourcesFile{}, feeds)
	if err := d.AddImported(rows); err != nil {
		t.Fatal(err)
	}
	data, err := d.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	back, err := config.ParseSources(data)
	if err != nil {
		t.Fatal(err)
	}
	var want, got []string
	for _, s := range list.Sources {
		if s.KindOrDefault() == config.TypeFeed {
			want = append(want, s.Section+" / "+s.Name+" / "+s.URL)
		}
	}
	for _, s := range back.Sources {
		got = append(got, s.Section+" / "+s.Name+" / "+s.URL)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("round trip changed the feeds:\ngot:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Every section holds a feed here, so all come back, in order.
	if strings.Join(back.Sections, "|") != strings.Join(list.Sections, "|") {
		t.Errorf("sections %v, want %v", back.Sections, list.Sections)
	}
	// Importing the export into the list it came from adds nothing.
	for _, r := range PlanImport(list, feeds) {
		if r.Status != ImportDuplicate {
			t.Errorf("%s: %s, want duplicate", r.Source.Name, r.Status)
		}
	}
}

func TestParseOPMLRejectsJunk(t *testing.T) {
	for _, in := range []string{"", "<html><body>hi</body></html>", `<opml version="2.0"><body><outline text="Empty folder"/></body></opml>`} {
		if _, err := ParseOPML(strings.NewReader(in)); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

func TestCheckSourceFindsDuplicatesButNotItself(t *testing.T) {
	list := shipped(t)
	krebs, _ := list.Find("Krebs on Security")
	if ps := CheckSource(list, krebs.Name, *krebs); len(ps) != 0 {
		t.Errorf("unchanged source has problems: %v", ps)
	}
	dup := config.Source{Name: "krebs on security", URL: "http://KrebsOnSecurity.com/feed", Type: "feed", Section: "Nope"}
	by := ProblemsByField(CheckSource(list, "", dup))
	if len(by["name"]) != 1 || len(by["url"]) != 1 || len(by["section"]) != 1 {
		t.Errorf("problems = %v", by)
	}
}

// TestOPMLRoundTripOfReaderExports takes each reader's export, imports it
// into an empty sources.yaml, exports that and imports the export again:
// the same feeds (URL, name, folder) come back in the same order, every
// folder comes back as a section, and importing the export into the list
// it came from finds nothing new.
func TestOPMLRoundTripOfReaderExports(t *testing.T) {
	for _, name := range []string{"feedly.opml", "inoreader.xml", "miniflux.opml"} {
		t.Run(name, func(t *testing.T) {
			feeds := readOPML(t, name)
			d, err := Parse(nil)
			if err != nil {
				t.Fatal(err)
			}
			rows := PlanImport(&config.SourcesFile{}, feeds)
			if err := d.AddImported(rows); err != nil {
				t.Fatal(err)
			}
			data, err := d.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			list, err := config.ParseSources(data)
			if err != nil {
				t.Fatalf("imported file does not validate: %v\n%s", err, data)
			}
			var want []string
			folders := map[string]bool{}
			for _, r := range rows {
				if r.Status == ImportNew {
					want = append(want, r.Feed.Section+" / "+r.Source.Name+" / "+r.Feed.XMLURL)
					if r.Feed.Section != "" {
						folders[r.Feed.Section] = true
					}
				}
			}
			if len(want) == 0 {
				t.Fatal("nothing imported")
			}
			if len(list.Sections) != len(folders) {
				t.Errorf("sections %v, want one per folder %v", list.Sections, folders)
			}
			out, err := ExportOPML(list, "round trip", time.Date(2026, 3, 9, 8, 0, 0, 0, time.UTC))
			if err != nil {
				t.Fatal(err)
			}
			back, err := ParseOPML(strings.NewReader(string(out)))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range back {
				got = append(got, f.Section+" / "+f.Title+" / "+f.XMLURL)
			}
			// The export groups by section in section order; the import
			// appended each source after its section's last, so both
			// orders are section-major. Compare as such.
			if strings.Join(sortedBySection(got, list.Sections), "\n") != strings.Join(sortedBySection(want, list.Sections), "\n") {
				t.Errorf("round trip changed the feeds:\ngot:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			for _, r := range PlanImport(list, back) {
				if r.Status != ImportDuplicate {
					t.Errorf("%s: %s on re-import, want duplicate", r.Source.Name, r.Status)
				}
			}
		})
	}
}

// sortedBySection orders "section / name / url" lines by the position of
// their section (unsectioned last), keeping the order within a section.
func sortedBySection(lines, sections []string) []string {
	rank := func(l string) int {
		sec, _, _ := strings.Cut(l, " / ")
		for i, s := range sections {
			if s == sec {
				return i
			}
		}
		return len(sections)
	}
	out := append([]string(nil), lines...)
	slices.SortStableFunc(out, func(a, b string) int { return rank(a) - rank(b) })
	return out
}

// TestParseOPMLEncodings: exports declaring a legacy encoding, or starting
// with a byte order mark, are read with their accented titles intact.
func TestParseOPMLEncodings(t *testing.T) {
	for _, c := range []struct{ name, in, folder, title string }{
		{"utf-8 with BOM", "\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"UTF-8\"?><opml version=\"1.0\"><body><outline text=\"Sécurité\"><outline text=\"Le Monde — International\" xmlUrl=\"https://www.lemonde.fr/international/rss_full.xml\"/></outline></body></opml>", "Sécurité", "Le Monde — International"},
		{"iso-8859-1", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><opml version=\"1.0\"><body><outline text=\"S\xe9curit\xe9\"><outline text=\"Caf\xe9 Babel\" xmlUrl=\"https://cafebabel.example/feed\"/></outline></body></opml>", "Sécurité", "Café Babel"},
		{"windows-1252", "<?xml version=\"1.0\" encoding=\"windows-1252\"?><opml version=\"1.1\"><body><outline text=\"\x93Wire\x94 \x96 World\" xmlUrl=\"https://wire.example/rss\"/></body></opml>", "", "“Wire” – World"},
	} {
		feeds, err := ParseOPML(strings.NewReader(c.in))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if len(feeds) != 1 || feeds[0].Section != c.folder || feeds[0].Title != c.title {
			t.Errorf("%s: %+v", c.name, feeds)
		}
	}
}
