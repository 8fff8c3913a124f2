package web

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/clipsheet/clipsheet/internal/config"
	"github.com/clipsheet/clipsheet/internal/fetch"
	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/sourcesfile"
	"github.com/clipsheet/clipsheet/internal/store"
)

// sourcesEnv is a real sources.yaml in a temp dir, the live list loaded
// from it, the editable file, and a real fetcher for preview and
// discovery, wired into a harness server as serve does.
type sourcesEnv struct {
	*harness
	path    string
	live    *config.Live
	file    *sourcesfile.File
	fetcher *fetch.Fetcher
	admin   *http.Client
}

// shippedSources is the default sources.yaml as committed (a copy kept
// with the sourcesfile tests, so edits to the real one do not move these
// tests).
const shippedSources = "../sourcesfile/testdata/sources.yaml"

func newSourcesEnv(t *testing.T) *sourcesEnv {
	t.Helper()
	data, err := os.ReadFile(shippedSources)
	if err != nil {
		t.Fatal(err)
	}
	return newSourcesEnvWith(t, data)
}

// newSourcesEnvWith starts the env on a sources.yaml with this content.
func newSourcesEnvWith(t *testing.T, data []byte) *sourcesEnv {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sources.yaml")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	live, err := config.NewLive(path)
	if err != nil {
		t.Fatal(err)
	}
	file, err := sourcesfile.Open(path, live, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	env := &sourcesEnv{path: path, live: live, file: file}
	h := newHarness(t, func(c *Config) {
		c.Sources = live.Current
		// The fetcher needs the harness's store, which does not exist
		// yet; lazyTester reaches it once it does.
		c.SourceAdmin = SourceAdmin{File: file, Tester: &lazyTester{env: env}, Poller: &lazyTester{env: env}}
	})
	env.harness = h
	fc := config.DefaultSettings().Fetch
	fc.AllowPrivate = true
	fc.Timeout = 5 * time.Second
	fc.UserAgent = "Clipsheet/test"
	env.fetcher = fetch.New(h.store, fc, 400, slog.New(slog.DiscardHandler))
	t.Cleanup(env.fetcher.Close)
	env.admin = h.as(model.RoleAdmin)
	return env
}

// lazyTester forwards to the env's fetcher, which needs the store the
// harness opens after the server config is built.
type lazyTester struct{ env *sourcesEnv }

func (l *lazyTester) Preview(ctx context.Context, src config.Source, n int) ([]*model.Item, error) {
	return l.env.fetcher.Preview(ctx, src, n)
}

func (l *lazyTester) Discover(ctx context.Context, pageURL string) (*fetch.Discovery, error) {
	return l.env.fetcher.Discover(ctx, pageURL)
}

func (l *lazyTester) PollNow(ctx context.Context, name string) (fetch.Result, error) {
	return l.env.fetcher.PollNow(ctx, name)
}

func (e *sourcesEnv) fileText() string {
	e.t.Helper()
	b, err := os.ReadFile(e.path)
	if err != nil {
		e.t.Fatal(err)
	}
	return string(b)
}

var versionRe = regexp.MustCompile(`name="version" value="([0-9a-f]{64})"`)

// page GETs a page as admin and returns its body, its CSRF token and the
// sources.yaml version its forms carry.
func (e *sourcesEnv) page(path string) (body, csrf, version string) {
	e.t.Helper()
	code, body, _ := e.getWith(e.admin, path)
	if code != http.StatusOK {
		e.t.Fatalf("GET %s: %d\n%s", path, code, body)
	}
	if m := csrfRe.FindStringSubmatch(body); m != nil {
		csrf = m[1]
	}
	if m := versionRe.FindStringSubmatch(body); m != nil {
		version = m[1]
	}
	return body, csrf, version
}

func (e *sourcesEnv) postAdmin(path string, form url.Values) (int, string, http.Header) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := e.admin.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res.Header
}

// newSourceForm is a complete add form for a feed.
func newSourceForm(csrf, version string, kv ...string) url.Values {
	f := url.Values{"csrf_token": {csrf}, "version": {version}, "action": {"save"}, "enabled": {"true"},
		"name": {"The Record"}, "url": {"https://therecord.media/feed"}, "type": {"feed"}, "section": {"Cyber"}, "interval": {"1h"}}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	return f
}

func (e *sourcesEnv) auditActions() []string {
	e.t.Helper()
	evs, err := e.store.ListAudit(context.Background(), store.AuditFilter{Action: "source."})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Action+" "+ev.Target+" by "+ev.Actor)
	}
	return out
}

func TestSourcesPagesNeedAdmin(t *testing.T) {
	e := newSourcesEnv(t)
	for _, path := range []string{"/admin/sources", "/admin/sources/new", "/admin/sources/sections", "/admin/sources/import", "/admin/sources.opml"} {
		if code, _, _ := e.getWith(e.as(model.RoleCurator), path); code != http.StatusForbidden {
			t.Errorf("curator GET %s: %d, want 403", path, code)
		}
		code, _, hdr := e.getWith(e.newClient(), path)
		if code != http.StatusFound || !strings.HasPrefix(hdr.Get("Location"), "/login") {
			t.Errorf("anonymous GET %s: %d %s, want redirect to login", path, code, hdr.Get("Location"))
		}
	}
	// A page with the admin's session but no CSRF token changes nothing.
	code, _, _ := e.postAdmin("/admin/sources/delete", url.Values{"name": {"Krebs on Security"}})
	if code != http.StatusForbidden {
		t.Errorf("delete without CSRF token: %d", code)
	}
	if !strings.Contains(e.fileText(), "Krebs on Security") {
		t.Error("source deleted without CSRF token")
	}
}

func TestSourcesPageShowsHealth(t *testing.T) {
	e := newSourcesEnv(t)
	ctx := context.Background()
	now := e.clock.Now()
	put := func(st *model.SourceState) {
		if err := e.store.PutSourceState(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	arrive := func(source string, at time.Time) {
		it := model.NewItem(model.Extraction{URL: fmt.Sprintf("https://example.com/%s/%d", url.PathEscape(source), at.UnixNano()), Title: "t"}, source, "Cyber", at)
		if _, err := e.store.AddItem(ctx, it); err != nil {
			t.Fatal(err)
		}
	}
	// Krebs (every 2h): items every 2 hours up to an hour ago: ok.
	for i := range 24 {
		arrive("Krebs on Security", now.Add(-time.Hour-time.Duration(i)*2*time.Hour))
	}
	put(&model.SourceState{Name: "Krebs on Security", LastAttempt: now.Add(-time.Hour), LastSuccess: now.Add(-time.Hour), ItemsFound: 20})
	// CISA News (every 1h): hourly items that stopped two days ago: silent.
	for i := range 10 {
		arrive("CISA — News", now.Add(-48*time.Hour-time.Duration(i)*time.Hour))
	}
	put(&model.SourceState{Name: "CISA — News", LastAttempt: now.Add(-10 * time.Minute), LastSuccess: now.Add(-10 * time.Minute), ItemsFound: 20})
	// WHO: the last three polls failed.
	put(&model.SourceState{Name: "WHO — News", LastAttempt: now.Add(-5 * time.Minute), LastSuccess: now.Add(-3 * time.Hour),
		LastError: "HTTP 503 Service Unavailable", ConsecutiveFailures: 3})

	body, _, _ := e.page("/admin/sources")
	row := func(name string) string {
		t.Helper()
		i := strings.Index(body, `data-source="`+html.EscapeString(name)+`"`)
		if i < 0 {
			t.Fatalf("no row for %s", name)
		}
		end := strings.Index(body[i:], "</tr>")
		return body[i : i+end]
	}
	for name, want := range map[string][]string{
		"Krebs on Security":                    {"<strong class=\"\">ok</strong>", "new items usually every 2 h", "<td>12</td>\n  <td>24</td>", "1 h ago"},
		"CISA — News":                          {">silent</strong>", "nothing new for 2 days; usually every 1 h", "<td>0</td>\n  <td>10</td>"},
		"WHO — News":                           {">failing</strong>", "last 3 polls failed", "HTTP 503 Service Unavailable", "The site answered 503 Service Unavailable: it asks Clipsheet to slow down or is down for now."},
		"Washington Post — World":              {">pending</strong>", "not polled yet"},
		"DHS — Press Releases":                 {"<td>page</td>", "<td>1h</td>"},
		"National Hurricane Center — Atlantic": {"<td>30m</td>"},
	} {
		r := row(name)
		for _, w := range want {
			if !strings.Contains(r, w) {
				t.Errorf("row %s lacks %q:\n%s", name, w, r)
			}
		}
	}
	// Failing first, then silent.
	if strings.Index(body, `data-source="WHO`) > strings.Index(body, `data-source="CISA — News"`) {
		t.Error("failing source not listed before the silent one")
	}

	// Filters.
	body, _, _ = e.page("/admin/sources?health=failing")
	if !strings.Contains(body, `data-source="WHO — News"`) || strings.Contains(body, `data-source="Krebs`) {
		t.Error("health filter")
	}
	body, _, _ = e.page("/admin/sources?section=Cyber&sort=name")
	if strings.Count(body, `data-source=`) != 3 || strings.Contains(body, `data-source="WHO`) {
		t.Errorf("section filter shows %d rows", strings.Count(body, `data-source=`))
	}
	if strings.Index(body, "CISA — Cybersecurity") > strings.Index(body, "Krebs") {
		t.Error("sort by name")
	}
	body, _, _ = e.page("/admin/sources?q=usgs")
	if strings.Count(body, `data-source=`) != 1 {
		t.Error("name/URL filter")
	}
}

func TestAddSourceForm(t *testing.T) {
	e := newSourcesEnv(t)
	before := e.fileText()
	_, csrf, version := e.page("/admin/sources/new")
	if version != sourcesfile.Hash([]byte(before)) {
		t.Fatal("form does not carry the file's version")
	}

	bad := []struct {
		name  string
		form  url.Values
		wants []string
	}{
		{"bad url and missing name", newSourceForm(csrf, version, "name", " ", "url", "ftp://x"),
			[]string{`id="err-name">name is required`, `id="err-url">url &#34;ftp://x&#34; must be an absolute http or https URL`}},
		{"duplicate name and url", newSourceForm(csrf, version, "name", "krebs on security", "url", "http://krebsonsecurity.com/feed"),
			[]string{`a source named &#34;Krebs on Security&#34; exists already`, `this URL is already polled as &#34;Krebs on Security&#34;`}},
		{"unknown section, bad interval", newSourceForm(csrf, version, "section", "Sports", "interval", "soon"),
			[]string{`unknown section &#34;Sports&#34;`, `invalid duration &#34;soon&#34;`}},
		{"too frequent", newSourceForm(csrf, version, "interval", "10s"), []string{"below the minimum of 1m"}},
		{"page without links, bad pattern", newSourceForm(csrf, version, "type", "page", "include", "/news/(\n"),
			[]string{"type page needs a links selector", "include pattern"}},
		{"bad selector override", newSourceForm(csrf, version, "extract_byline", "div[[["), []string{"extract byline: invalid CSS selector"}},
	}
	for _, b := range bad {
		code, body, _ := e.postAdmin("/admin/sources/new", b.form)
		if code != http.StatusUnprocessableEntity {
			t.Errorf("%s: status %d, want 422", b.name, code)
		}
		for _, w := range b.wants {
			if !strings.Contains(body, w) {
				t.Errorf("%s: page lacks %q", b.name, w)
			}
		}
		// What was typed is kept.
		if !strings.Contains(body, `value="`+html.EscapeString(b.form.Get("url"))+`"`) {
			t.Errorf("%s: typed URL not kept", b.name)
		}
	}
	if e.fileText() != before {
		t.Fatal("refused forms changed the file")
	}

	code, _, hdr := e.postAdmin("/admin/sources/new", newSourceForm(csrf, version, "include", "/news/\n\n/world/\n", "extract_byline", ".author"))
	if code != http.StatusSeeOther || !strings.HasPrefix(hdr.Get("Location"), "/admin/sources?done=added") {
		t.Fatalf("good form: %d %s", code, hdr.Get("Location"))
	}
	src, ok := e.live.Current().Find("The Record")
	if !ok {
		t.Fatal("new source not in force")
	}
	if src.Section != "Cyber" || time.Duration(src.Interval) != time.Hour || len(src.Include) != 2 || src.Extract == nil || src.Extract.Byline != ".author" || src.Enabled != nil {
		t.Errorf("stored source %+v", src)
	}
	after := e.fileText()
	// Joined to the end of its section's group, written as a person would.
	want := "    interval: 2h\n  - name: The Record\n    url: https://therecord.media/feed\n    type: feed\n    section: Cyber\n    interval: 1h\n    include: [/news/, /world/]\n    extract:\n      byline: .author\n\n  # --- Public health ---"
	if !strings.Contains(after, want) {
		t.Errorf("file after add:\n%s", after)
	}
	if !strings.HasPrefix(after, "# Clipsheet sources: the single source of truth") {
		t.Error("leading comments lost")
	}
	body, _, _ := e.page("/admin/sources?done=added&name=The+Record")
	if !strings.Contains(body, "Added &#34;The Record&#34;") {
		t.Error("no confirmation on the list")
	}
	if got := e.auditActions(); len(got) != 1 || got[0] != "source.add The Record by root" {
		t.Errorf("audit = %v", got)
	}
	// Reusing the old version now is a conflict, not a silent overwrite.
	code, body, _ = e.postAdmin("/admin/sources/new", newSourceForm(csrf, version, "name", "Another", "url", "https://another.example/feed"))
	if code != http.StatusConflict || !strings.Contains(body, `id="conflict"`) {
		t.Errorf("stale version: %d", code)
	}
}

func TestEditSourceKeepsTheRestOfTheFile(t *testing.T) {
	e := newSourcesEnv(t)
	before := e.fileText()
	body, csrf, version := e.page("/admin/sources/edit?name=" + url.QueryEscape("DHS — Press Releases"))
	for _, w := range []string{`value="DHS — Press Releases"`, `<option value="page" selected>`, `value=".views-row h3 a, .usa-collection__heading a"`, `/news/\d{4}/</textarea>`, `<option selected>Terrorism &amp; security</option>`} {
		if !strings.Contains(body, w) {
			t.Errorf("edit form lacks %s", w)
		}
	}
	form := url.Values{"csrf_token": {csrf}, "version": {version}, "action": {"save"}, "old_name": {"DHS — Press Releases"},
		"name": {"DHS — Press Releases"}, "url": {"https://www.dhs.gov/news-releases/press-releases"}, "type": {"page"},
		"section": {"Terrorism & security"}, "interval": {"2h"}, "enabled": {"true"},
		"links": {".usa-collection__heading a"}, "include": {`/news/\d{4}/`}}
	code, _, _ := e.postAdmin("/admin/sources/edit?name="+url.QueryEscape("DHS — Press Releases"), form)
	if code != http.StatusSeeOther {
		t.Fatalf("save: %d", code)
	}
	// Exactly two lines changed; comments, quoting and flow lists stay.
	want := strings.Replace(before, `links: ".views-row h3 a, .usa-collection__heading a"`, `links: ".usa-collection__heading a"`, 1)
	want = strings.Replace(want, "include: [\"/news/\\\\d{4}/\"]\n    section: Terrorism & security\n    interval: 1h", "include: [\"/news/\\\\d{4}/\"]\n    section: Terrorism & security\n    interval: 2h", 1)
	if got := e.fileText(); got != want {
		t.Errorf("file after edit differs from expected:\n%s", got)
	}
	if got := e.auditActions(); len(got) != 1 || got[0] != "source.change DHS — Press Releases by root" {
		t.Errorf("audit = %v", got)
	}

	// Renaming onto another source is refused beside the name field.
	_, csrf, version = e.page("/admin/sources/edit?name=" + url.QueryEscape("CISA — News"))
	form = url.Values{"csrf_token": {csrf}, "version": {version}, "action": {"save"}, "old_name": {"CISA — News"},
		"name": {"Krebs on Security"}, "url": {"https://www.cisa.gov/news.xml"}, "type": {"feed"}, "section": {"Cyber"}, "enabled": {"true"}}
	code, body, _ = e.postAdmin("/admin/sources/edit?name="+url.QueryEscape("CISA — News"), form)
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, `id="err-name">a source named &#34;Krebs on Security&#34; exists already`) {
		t.Errorf("rename onto existing: %d", code)
	}
	if code, _, _ := e.getWith(e.admin, "/admin/sources/edit?name=Nope"); code != http.StatusNotFound {
		t.Errorf("edit missing source: %d", code)
	}
}

// TestHandEditDuringUIEditIsAConflict: an admin opens the form, someone
// edits sources.yaml by hand, the admin saves. The save is refused with
// the current file shown; nothing is lost; saving again keeps both.
func TestHandEditDuringUIEditIsAConflict(t *testing.T) {
	e := newSourcesEnv(t)
	_, csrf, version := e.page("/admin/sources/edit?name=" + url.QueryEscape("Krebs on Security"))
	hand := strings.Replace(e.fileText(), "name: WHO — News", "name: WHO — Newsroom", 1)
	if err := os.WriteFile(e.path, []byte(hand), 0o644); err != nil {
		t.Fatal(err)
	}
	form := url.Values{"csrf_token": {csrf}, "version": {version}, "action": {"save"}, "old_name": {"Krebs on Security"},
		"name": {"Krebs on Security"}, "url": {"https://krebsonsecurity.com/feed/"}, "type": {"feed"}, "section": {"Cyber"}, "interval": {"4h"}, "enabled": {"true"}}
	path := "/admin/sources/edit?name=" + url.QueryEscape("Krebs on Security")
	code, body, _ := e.postAdmin(path, form)
	if code != http.StatusConflict {
		t.Fatalf("status %d, want 409", code)
	}
	for _, w := range []string{`id="conflict"`, "name: WHO — Newsroom", `name="interval" value="4h"`,
		`<span class="diff-del">-  90    - name: WHO — News</span>`, `<span class="diff-add">&#43;  90    - name: WHO — Newsroom</span>`} {
		if !strings.Contains(body, w) {
			t.Errorf("conflict page lacks %q", w)
		}
	}
	if e.fileText() != hand {
		t.Fatal("hand edit overwritten")
	}
	// The page now carries the current version: saving again applies the
	// change on top of the hand edit.
	m := versionRe.FindStringSubmatch(body)
	if m == nil || m[1] != sourcesfile.Hash([]byte(hand)) {
		t.Fatal("conflict page does not carry the current version")
	}
	form.Set("version", m[1])
	if code, _, _ := e.postAdmin(path, form); code != http.StatusSeeOther {
		t.Fatalf("second save: %d", code)
	}
	final := e.fileText()
	if !strings.Contains(final, "name: WHO — Newsroom") || !strings.Contains(final, "url: https://krebsonsecurity.com/feed/\n    type: feed\n    section: Cyber\n    interval: 4h") {
		t.Errorf("an edit was lost:\n%s", final)
	}
}

func TestInvalidHandEditKeepsOldListAndShowsBanner(t *testing.T) {
	e := newSourcesEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	done, err := e.file.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); <-done }()
	bad := strings.Replace(e.fileText(), "    interval: 2h\n", "    interval: 2 hours\n", 1)
	if err := os.WriteFile(e.path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for e.file.LastError() == nil {
		if time.Now().After(deadline) {
			t.Fatal("invalid hand edit not noticed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	body, _, _ := e.page("/admin/sources")
	if !strings.Contains(body, `id="sources-file-error"`) || !strings.Contains(body, `invalid duration &#34;2 hours&#34;`) || !strings.Contains(body, "line 82") {
		t.Errorf("no banner with the error:\n%s", body)
	}
	if body, _, _ := e.page("/admin/users"); !strings.Contains(body, `id="sources-file-error"`) {
		t.Error("no banner on the other admin pages")
	}
	if src, ok := e.live.Current().Find("Krebs on Security"); !ok || time.Duration(src.Interval) != 2*time.Hour {
		t.Error("old list not kept")
	}
	if !strings.Contains(body, `data-source="Krebs on Security"`) {
		t.Error("list page does not show the list in force")
	}
	// A UI save on the broken file fails on the file's own problem, and
	// says so, rather than writing.
	_, csrf, version := e.page("/admin/sources/new")
	code, body, _ := e.postAdmin("/admin/sources/new", newSourceForm(csrf, version))
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, `id="file-problems"`) || !strings.Contains(body, "2 hours") {
		t.Errorf("save on broken file: %d", code)
	}
	// Fixing it by hand clears the banner.
	if err := os.WriteFile(e.path, []byte(strings.Replace(bad, "2 hours", "3h", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	for e.file.LastError() != nil {
		if time.Now().After(deadline.Add(5 * time.Second)) {
			t.Fatal("fix not picked up")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if body, _, _ := e.page("/admin/sources"); strings.Contains(body, `id="sources-file-error"`) {
		t.Error("banner stays after the fix")
	}
	// Both hand edits are in the audit log: the refused one with its
	// error, the fix with what it changed.
	var evs []model.AuditEvent
	for time.Now().Before(deadline.Add(5 * time.Second)) {
		all, _ := e.store.ListAudit(ctx, store.AuditFilter{Action: "source."})
		evs = evs[:0]
		for _, ev := range all {
			if strings.HasPrefix(ev.Action, "source.file_") {
				evs = append(evs, ev)
			}
		}
		if len(evs) == 2 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(evs) != 2 {
		t.Fatalf("%d hand-edit audit events, want 2", len(evs))
	}
	fix, refused := evs[0], evs[1]
	if refused.Action != "source.file_refused" || refused.Actor != auditFileActor || !strings.Contains(refused.Detail, `invalid duration "2 hours"`) || refused.Target != e.file.Path() {
		t.Errorf("refused hand edit audited as %+v", refused)
	}
	if fix.Action != "source.file_reload" || fix.Detail != `changed 1: "Krebs on Security"` {
		t.Errorf("fix audited as %+v", fix)
	}
	if src, _ := e.live.Current().Find("Krebs on Security"); time.Duration(src.Interval) != 3*time.Hour {
		t.Error("fixed file not in force")
	}
}

func TestToggleAndDeleteSource(t *testing.T) {
	e := newSourcesEnv(t)
	ctx := context.Background()
	if err := e.store.PutSourceState(ctx, &model.SourceState{Name: "NPR — News", LastAttempt: e.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	_, csrf, version := e.page("/admin/sources")
	code, _, hdr := e.postAdmin("/admin/sources/toggle", url.Values{"csrf_token": {csrf}, "version": {version}, "name": {"NPR — News"}, "enabled": {"false"}})
	if code != http.StatusSeeOther || !strings.Contains(hdr.Get("Location"), "done=disabled") {
		t.Fatalf("disable: %d", code)
	}
	if src, _ := e.live.Current().Find("NPR — News"); src.IsEnabled() {
		t.Error("not disabled")
	}
	if !strings.Contains(e.fileText(), "    section: Top stories\n    enabled: false\n") {
		t.Error("enabled: false not written in place")
	}
	body, csrf, version := e.page("/admin/sources?health=disabled")
	if !strings.Contains(body, `data-source="NPR — News"`) || !strings.Contains(body, ">Enable</button>") || !strings.Contains(body, `<td class="enabled"><strong>no</strong></td>`) {
		t.Error("disabled source not listed as such")
	}
	// Bad one-click input changes nothing: an unknown source, a stale page.
	before := e.fileText()
	if code, _, _ := e.postAdmin("/admin/sources/toggle", url.Values{"csrf_token": {csrf}, "version": {version}, "name": {"Nope"}, "enabled": {"false"}}); code != http.StatusNotFound {
		t.Errorf("toggle unknown source: %d", code)
	}
	stale := sourcesfile.Hash([]byte("an older version"))
	if code, body, _ := e.postAdmin("/admin/sources/toggle", url.Values{"csrf_token": {csrf}, "version": {stale}, "name": {"NPR — News"}, "enabled": {"true"}}); code != http.StatusConflict || !strings.Contains(body, "changed since the page was loaded") {
		t.Errorf("toggle from a stale page: %d", code)
	}
	if e.fileText() != before {
		t.Fatal("refused toggles changed the file")
	}
	if code, _, _ := e.postAdmin("/admin/sources/toggle", url.Values{"csrf_token": {csrf}, "version": {version}, "name": {"NPR — News"}, "enabled": {"true"}}); code != http.StatusSeeOther {
		t.Fatal("enable")
	}
	if strings.Contains(e.fileText(), "enabled:") {
		t.Error("enabling should drop the key (enabled is the default)")
	}

	_, csrf, version = e.page("/admin/sources/edit?name=" + url.QueryEscape("NPR — News"))
	// Deleting asks first and changes nothing until confirmed.
	before = e.fileText()
	code, body, _ = e.postAdmin("/admin/sources/delete", url.Values{"csrf_token": {csrf}, "version": {version}, "name": {"NPR — News"}})
	if code != http.StatusOK || !strings.Contains(body, `id="confirm"`) || e.fileText() != before {
		t.Fatalf("unconfirmed delete: %d", code)
	}
	code, _, _ = e.postAdmin("/admin/sources/delete", url.Values{"csrf_token": {csrf}, "version": {version}, "name": {"NPR — News"}, "confirm": {"yes"}})
	if code != http.StatusSeeOther {
		t.Fatalf("delete: %d", code)
	}
	if _, ok := e.live.Current().Find("NPR — News"); ok || strings.Contains(e.fileText(), "NPR") {
		t.Error("not deleted")
	}
	if st, _ := e.store.SourceState(ctx, "NPR — News"); !st.LastAttempt.IsZero() {
		t.Error("fetch state of the deleted source kept")
	}
	// Deleting again (stale page) is a 404 with nothing written.
	before = e.fileText()
	code, _, _ = e.postAdmin("/admin/sources/delete", url.Values{"csrf_token": {csrf}, "name": {"NPR — News"}})
	if code != http.StatusNotFound || e.fileText() != before {
		t.Errorf("second delete: %d", code)
	}
	got := e.auditActions()
	if len(got) != 3 || got[0] != "source.remove NPR — News by root" {
		t.Errorf("audit = %v", got)
	}
}

func TestSectionsForms(t *testing.T) {
	e := newSourcesEnv(t)
	ctx := context.Background()
	it := model.NewItem(model.Extraction{URL: "https://krebsonsecurity.com/2026/03/x/", Title: "X"}, "Krebs on Security", "Cyber", e.clock.Now())
	if _, err := e.store.AddItem(ctx, it); err != nil {
		t.Fatal(err)
	}
	post := func(kv ...string) (int, string) {
		t.Helper()
		_, csrf, version := e.page("/admin/sources/sections")
		f := url.Values{"csrf_token": {csrf}, "version": {version}}
		for i := 0; i+1 < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		code, body, _ := e.postAdmin("/admin/sources/sections", f)
		return code, body
	}
	if code, _ := post("action", "add", "new_name", "Elections"); code != http.StatusSeeOther {
		t.Fatalf("add: %d", code)
	}
	if code, body := post("action", "add", "new_name", "elections"); code != http.StatusConflict || !strings.Contains(body, "already exists") {
		t.Errorf("add duplicate: %d", code)
	}
	if code, _ := post("action", "add", "new_name", "  "); code != http.StatusUnprocessableEntity {
		t.Errorf("add empty: %d", code)
	}
	if code, _ := post("action", "up", "name", "Elections"); code != http.StatusSeeOther {
		t.Fatal("up")
	}
	if code, _ := post("action", "rename", "name", "Cyber", "new_name", "Cyber & infrastructure"); code != http.StatusSeeOther {
		t.Fatal("rename")
	}
	if code, _ := post("action", "rename", "name", "Cyber & infrastructure", "new_name", "Top stories"); code != http.StatusConflict {
		t.Error("rename onto existing section allowed")
	}
	if code, body := post("action", "delete", "name", "Top stories"); code != http.StatusConflict || !strings.Contains(body, "has 4 source(s)") {
		t.Errorf("delete used section: %d", code)
	}
	if code, _ := post("action", "delete", "name", "Nope"); code != http.StatusNotFound {
		t.Errorf("delete missing: %d", code)
	}
	cur := e.live.Current()
	if got := strings.Join(cur.Sections, "|"); got != "Top stories|Terrorism & security|Disasters & weather|Cyber & infrastructure|Elections|Public health" {
		t.Errorf("sections = %s", got)
	}
	if src, _ := cur.Find("Krebs on Security"); src.Section != "Cyber & infrastructure" {
		t.Error("sources not moved with the rename")
	}
	if got, _ := e.store.GetItem(ctx, it.ID); got.Section != "Cyber & infrastructure" {
		t.Errorf("stored item still in %q", got.Section)
	}
	if code, body := post("action", "delete", "name", "Elections"); code != http.StatusOK || !strings.Contains(body, "Delete the section “Elections”?") {
		t.Errorf("unconfirmed delete of an empty section: %d", code)
	}
	if code, _ := post("action", "delete", "name", "Elections", "confirm", "yes"); code != http.StatusSeeOther {
		t.Error("delete empty section")
	}
	text := e.fileText()
	if !strings.Contains(text, "  # --- Cyber ---\n  - name: CISA — Cybersecurity Advisories") {
		t.Error("comments around the renamed section lost")
	}
	evs, _ := e.store.ListAudit(ctx, store.AuditFilter{Action: "section."})
	if len(evs) != 4 {
		t.Errorf("%d section audit events, want 4 (add, move, rename, remove)", len(evs))
	}
	for _, ev := range evs {
		if ev.Action == auditSectionRename && !strings.Contains(ev.Detail, "1 stored item(s) moved") {
			t.Errorf("rename audit detail %q", ev.Detail)
		}
	}
}

func opmlUpload(t *testing.T, e *sourcesEnv, csrf, name string) (int, string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "opml", name))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("csrf_token", csrf)
	fw, _ := mw.CreateFormFile("opml", name)
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/admin/sources/import", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res, err := e.admin.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

var importRowRe = regexp.MustCompile(`(?s)<tr class="import-(\w+)">.*?name="pick" value="(\d+)".*?name="name" value="([^"]*)".*?name="url" value="([^"]*)".*?name="section" value="([^"]*)"`)

func TestOPMLImportAndExport(t *testing.T) {
	e := newSourcesEnv(t)
	_, csrf, _ := e.page("/admin/sources/import")
	code, body := opmlUpload(t, e, csrf, "feedly.opml")
	if code != http.StatusOK {
		t.Fatalf("upload: %d\n%s", code, body)
	}
	rows := importRowRe.FindAllStringSubmatch(body, -1)
	if len(rows) != 10 {
		t.Fatalf("%d rows in the preview, want 10", len(rows))
	}
	if !strings.Contains(body, "5 of 10 feed(s) would be added") || !strings.Contains(body, "already polled as &#34;Krebs on Security&#34;") {
		t.Error("preview does not report new and duplicate feeds")
	}
	if e.fileText() != readFile(t, shippedSources) {
		t.Fatal("preview wrote the file")
	}
	// Tick all new ones but BleepingComputer, rename one, put one in an
	// existing section.
	m := versionRe.FindStringSubmatch(body)
	form := url.Values{"csrf_token": {csrf}, "version": {m[1]}}
	for _, r := range rows {
		form.Add("url", html.UnescapeString(r[4]))
		name, section := html.UnescapeString(r[3]), html.UnescapeString(r[5])
		switch name {
		case "The Record by Recorded Future":
			name = "The Record"
		case "Volcano Discovery - Latest news":
			section = "Disasters & weather"
		}
		form.Add("name", name)
		form.Add("section", section)
		if r[1] == "new" && name != "BleepingComputer" {
			form.Add("pick", r[2])
		}
	}
	form.Add("pick", "0") // a duplicate ticked by hand is still skipped
	code, _, hdr := e.postAdmin("/admin/sources/import/confirm", form)
	if code != http.StatusSeeOther || !strings.Contains(hdr.Get("Location"), "done=imported&name=4") {
		t.Fatalf("confirm: %d %s", code, hdr.Get("Location"))
	}
	cur := e.live.Current()
	if got := strings.Join(cur.Sections, "|"); !strings.HasSuffix(got, "|Public health|Security|World") {
		t.Errorf("sections = %s", got)
	}
	for name, section := range map[string]string{"The Record": "Security", "Schneier on Security": "Security",
		"Al Jazeera – Breaking News, World News and Video from Al Jazeera": "World", "Volcano Discovery - Latest news": "Disasters & weather"} {
		if src, ok := cur.Find(name); !ok || src.Section != section || src.Type != "feed" {
			t.Errorf("imported %s: %+v", name, src)
		}
	}
	if len(cur.Sources) != 14+4 {
		t.Errorf("%d sources", len(cur.Sources))
	}
	// Confirming the same preview again is refused: the file changed.
	if code, body, _ := e.postAdmin("/admin/sources/import/confirm", form); code != http.StatusConflict || !strings.Contains(body, "changed since the preview") {
		t.Errorf("stale confirm: %d", code)
	}
	// One entry per imported source, newest first, then the import.
	wantAudit := []string{"source.import  by root", "source.add Volcano Discovery - Latest news by root",
		"source.add Al Jazeera – Breaking News, World News and Video from Al Jazeera by root",
		"source.add Schneier on Security by root", "source.add The Record by root"}
	if got := e.auditActions(); strings.Join(got, "\n") != strings.Join(wantAudit, "\n") {
		t.Errorf("audit = %v", got)
	}

	// Junk upload.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("csrf_token", csrf)
	fw, _ := mw.CreateFormFile("opml", "x.opml")
	fw.Write([]byte("<html>not opml</html>"))
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/admin/sources/import", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res, err := e.admin.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("junk upload: %d", res.StatusCode)
	}

	// Export: what other readers import.
	code, body, hdr = e.getWith(e.admin, "/admin/sources.opml")
	if code != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), "text/x-opml") || !strings.Contains(hdr.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export: %d %v", code, hdr)
	}
	feeds, err := sourcesfile.ParseOPML(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(feeds) != 17 { // 18 sources, one of them a page
		t.Errorf("%d feeds exported", len(feeds))
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
