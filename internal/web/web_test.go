package web

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clipsheet/clipsheet/internal/apispec"
	"github.com/clipsheet/clipsheet/internal/auth"
	"github.com/clipsheet/clipsheet/internal/config"
	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/store"
)

type harness struct {
	t      *testing.T
	srv    *httptest.Server
	server *Server
	store  *store.Bolt
	client *http.Client
	clock  *testClock
	logs   *syncBuffer
}

// testClock is a settable clock shared by the server and the tests.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// syncBuffer collects the server's log output for inspection.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}
func (b *syncBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.b.String() }

// Test accounts, one per role. testPassword is long enough for the policy.
const testPassword = "a long test password"

var testUsers = map[model.Role]string{model.RoleAdmin: "root", model.RoleCurator: "cur", model.RoleReader: "rdr"}

type harnessOpt func(*Config)

func privateBriefing(c *Config) { c.Settings.Briefing.Public = false }

// newHarness starts a real server on loopback over a bbolt file in a temp
// dir, with one user per role; the default client is signed in as curator.
func newHarness(t *testing.T, opts ...harnessOpt) *harness {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "web.db"))
	if err != nil {
		t.Fatal(err)
	}
	return newHarnessWith(t, st, opts...)
}

// newHarnessWith is newHarness over an open store, which it closes.
func newHarnessWith(t *testing.T, st *store.Bolt, opts ...harnessOpt) *harness {
	t.Helper()
	t.Cleanup(func() { st.Close() })
	sources := &config.SourcesFile{Sections: []string{"Top stories", "Cyber"}}
	clock := &testClock{t: time.Now()}
	logs := &syncBuffer{}
	cfg := Config{
		Settings: config.DefaultSettings(),
		Sources:  func() *config.SourcesFile { return sources },
		Now:      clock.Now,
		Logger:   slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Auth:     auth.Config{Params: auth.TestParams, AccountLimit: 5, IPLimit: 1000},
	}
	for _, o := range opts {
		o(&cfg)
	}
	s, err := NewServer(st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for role, name := range testUsers {
		if _, err := s.Auth().AddUser(context.Background(), auth.Actor{Name: "test"}, name, role, testPassword); err != nil {
			t.Fatal(err)
		}
	}
	// Every /api/v1 answer of every test is checked against
	// docs/openapi.yaml.
	srv := httptest.NewServer(apispec.Handler(t, s))
	t.Cleanup(srv.Close)
	h := &harness{t: t, srv: srv, server: s, store: st, clock: clock, logs: logs}
	h.client = h.newClient()
	h.login(h.client, testUsers[model.RoleCurator])
	return h
}

func (h *harness) newClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// as returns a fresh client signed in as the user with role r.
func (h *harness) as(r model.Role) *http.Client {
	c := h.newClient()
	h.login(c, testUsers[r])
	return c
}

func (h *harness) login(c *http.Client, name string) {
	h.t.Helper()
	code, _ := h.tryLogin(c, name, testPassword)
	if code != http.StatusSeeOther {
		h.t.Fatalf("login %s: %d", name, code)
	}
}

func (h *harness) tryLogin(c *http.Client, name, password string) (int, http.Header) {
	h.t.Helper()
	_, body, _ := h.getWith(c, "/login")
	m := csrfRe.FindStringSubmatch(body)
	if m == nil {
		h.t.Fatalf("no CSRF token on /login:\n%s", body)
	}
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/login", strings.NewReader(url.Values{"csrf_token": {m[1]}, "name": {name}, "password": {password}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := c.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode, res.Header
}

func (h *harness) add(url, title, lead, section string) *model.Item {
	h.t.Helper()
	it := model.NewItem(model.Extraction{URL: url, Title: title, Lead: lead, SiteName: "Example News", Byline: "Ann Lee"}, "Example", section, time.Now().UTC())
	if _, err := h.store.AddItem(context.Background(), it); err != nil {
		h.t.Fatal(err)
	}
	return it
}

func (h *harness) get(path string) (int, string, http.Header) {
	h.t.Helper()
	return h.getWith(h.client, path)
}

func (h *harness) getWith(c *http.Client, path string) (int, string, http.Header) {
	h.t.Helper()
	res, err := c.Get(h.srv.URL + path)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res.Header
}

func (h *harness) post(path string, form url.Values, header map[string]string) (int, string) {
	h.t.Helper()
	return h.postWith(h.client, path, form, header)
}

func (h *harness) postWith(c *http.Client, path string, form url.Values, header map[string]string) (int, string) {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := c.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

var csrfRe = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func (h *harness) csrf() string {
	h.t.Helper()
	return h.csrfOf(h.client, "/queue")
}

// csrfOf reads the CSRF token from a page as client c sees it.
func (h *harness) csrfOf(c *http.Client, page string) string {
	h.t.Helper()
	_, body, _ := h.getWith(c, page)
	m := csrfRe.FindStringSubmatch(body)
	if m == nil {
		h.t.Fatalf("no CSRF token on %s", page)
	}
	return m[1]
}

func TestApproveShowsOnBriefingOnly(t *testing.T) {
	h := newHarness(t)
	a := h.add("https://example.com/a", "Flood warning for river towns", "RIVERTON — The river will crest tonight.", "Top stories")
	b := h.add("https://example.com/b", "Patch Tuesday fixes zero-day", "Microsoft fixed 60 flaws.", "Cyber")

	code, body, _ := h.get("/queue")
	if code != 200 || !strings.Contains(body, a.Title) || !strings.Contains(body, b.Title) {
		t.Fatalf("queue: %d\n%s", code, body)
	}
	token := h.csrf()
	code, _ = h.post("/items/"+a.ID+"/approve", url.Values{"csrf_token": {token}, "return": {"/queue"}}, nil)
	if code != http.StatusSeeOther {
		t.Fatalf("approve: %d", code)
	}
	_, body, _ = h.get("/")
	if !strings.Contains(body, a.Title) || strings.Contains(body, b.Title) {
		t.Fatalf("briefing should show only the approved item:\n%s", body)
	}
	if !strings.Contains(body, `href="https://example.com/a" rel="noopener noreferrer">Full story`) {
		t.Errorf("no Full story link:\n%s", body)
	}
	for _, want := range []string{"Example News", "Ann Lee", "RIVERTON — The river will crest tonight.", "<h2>Top stories</h2>"} {
		if !strings.Contains(body, want) {
			t.Errorf("briefing lacks %q", want)
		}
	}
	_, body, _ = h.get("/queue")
	if strings.Contains(body, a.Title) {
		t.Error("approved item still in queue")
	}

	// Script path: JSON answer, reject.
	code, body = h.post("/items/"+b.ID+"/reject", nil, map[string]string{"X-CSRF-Token": token, "Accept": "application/json"})
	if code != 200 || !strings.Contains(body, `"status":"rejected"`) {
		t.Fatalf("json reject: %d %s", code, body)
	}
	code, _ = h.post("/items/nope/approve", nil, map[string]string{"X-CSRF-Token": token, "Accept": "application/json"})
	if code != http.StatusNotFound {
		t.Errorf("missing item: %d", code)
	}
}

func TestEditForm(t *testing.T) {
	h := newHarness(t)
	a := h.add("https://example.com/a", "Old title", "Old lead.", "Top stories")
	token := h.csrf()
	code, _ := h.post("/items/"+a.ID+"/edit", url.Values{"csrf_token": {token}, "title": {"New title"}, "lead": {"New lead."}, "section": {"Cyber"}, "then": {"approved"}}, nil)
	if code != http.StatusSeeOther {
		t.Fatalf("edit: %d", code)
	}
	it, _ := h.store.GetItem(context.Background(), a.ID)
	if it.Title != "New title" || it.Lead != "New lead." || it.Section != "Cyber" || it.Status != model.StatusApproved || it.Original.Title != "Old title" {
		t.Fatalf("edit not applied: %+v", it)
	}
	// The extraction stays readable next to the edit.
	_, body, _ := h.get("/queue?status=approved")
	i := strings.Index(body, `class="original"`)
	if i < 0 {
		t.Fatalf("edited item shows no original:\n%s", body)
	}
	for _, want := range []string{"Old title", "Ann Lee", "<p>Old lead.</p>"} {
		if !strings.Contains(body[i:], want) {
			t.Errorf("original extraction lacks %q", want)
		}
	}
	code, body = h.post("/items/"+a.ID+"/edit", url.Values{"csrf_token": {token}, "section": {"Sports"}}, nil)
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "unknown section") {
		t.Errorf("bad section: %d %s", code, body)
	}
}

func TestCSRFRequired(t *testing.T) {
	h := newHarness(t)
	a := h.add("https://example.com/a", "T", "L", "")
	h.csrf() // sets the cookie
	for name, form := range map[string]url.Values{
		"missing": {},
		"wrong":   {"csrf_token": {strings.Repeat("x", 43)}},
	} {
		code, _ := h.post("/items/"+a.ID+"/approve", form, nil)
		if code != http.StatusForbidden {
			t.Errorf("%s token: %d, want 403", name, code)
		}
	}
	token := h.csrf()
	code, _ := h.post("/items/"+a.ID+"/approve", url.Values{"csrf_token": {token}}, map[string]string{"Origin": "https://evil.example"})
	if code != http.StatusForbidden {
		t.Errorf("cross-origin: %d", code)
	}
	it, _ := h.store.GetItem(context.Background(), a.ID)
	if it.Status != model.StatusQueued {
		t.Fatalf("forged request changed the item: %s", it.Status)
	}
}

func TestHostileContentIsInert(t *testing.T) {
	h := newHarness(t)
	it := model.NewItem(model.Extraction{
		URL:      "javascript:alert(1)",
		Title:    `<script>alert("t")</script>`,
		Lead:     `<img src=x onerror=alert(1)>`,
		Byline:   `"><svg onload=alert(2)>`,
		SiteName: "<b>x</b>",
	}, "S", "Top stories", time.Now())
	it.ID = "hostile"
	h.store.AddItem(context.Background(), it)
	h.store.UpdateItem(context.Background(), "hostile", func(i *model.Item) error { i.Status = model.StatusApproved; return nil })
	for _, path := range []string{"/", "/queue?status=approved"} {
		_, body, _ := h.get(path)
		for _, bad := range []string{`<script>alert`, `<img src=x`, `<svg onload`, `href="javascript:`, `<b>x</b>`} {
			if strings.Contains(body, bad) {
				t.Errorf("%s contains live %q", path, bad)
			}
		}
		if !strings.Contains(body, `&lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt;`) {
			t.Errorf("%s: title not escaped as text", path)
		}
	}
}

func TestSecurityHeadersAndHealth(t *testing.T) {
	h := newHarness(t)
	code, body, _ := h.get("/healthz")
	if code != 200 || !strings.Contains(body, "ok") {
		t.Fatalf("healthz: %d %s", code, body)
	}
	_, _, hdr := h.get("/")
	csp := hdr.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") {
		t.Error("CSP allows inline script")
	}
	if hdr.Get("X-Content-Type-Options") != "nosniff" || hdr.Get("Referrer-Policy") == "" {
		t.Errorf("headers: %v", hdr)
	}
	code, body, hdr = h.get("/static/app.js")
	if code != 200 || !strings.Contains(hdr.Get("Content-Type"), "javascript") || !strings.Contains(body, "keydown") {
		t.Errorf("static: %d %s", code, hdr.Get("Content-Type"))
	}
}

func TestNotFoundPage(t *testing.T) {
	h := newHarness(t)
	code, body, hdr := h.get("/no/such/page")
	if code != http.StatusNotFound || !strings.Contains(body, "Page not found") || !regexp.MustCompile(`href="/static/style\.[0-9a-f]+\.css"`).MatchString(body) {
		t.Errorf("404 page: %d %s", code, body)
	}
	if hdr.Get("Content-Security-Policy") == "" {
		t.Error("404 page lacks the security headers")
	}
	code, body, _ = h.get("/api/v1/nope")
	if code != http.StatusNotFound || !strings.Contains(body, `"code":"not_found"`) {
		t.Errorf("API 404: %d %s", code, body)
	}
}

func TestSafeReturn(t *testing.T) {
	for in, want := range map[string]string{
		"/queue?status=approved": "/queue?status=approved",
		"https://evil.example/":  "/queue",
		"//evil.example/":        "/queue",
		"":                       "/queue",
		"javascript:alert(1)":    "/queue",
		"/\\evil.example":        "/%5Cevil.example", // browsers read "/\" as "//"; escaped it is a local path
		"\\\\evil.example":       "/queue",
		"/\t/evil.example":       "/queue",
		"https:/evil.example":    "/queue",
	} {
		if got := safeReturn(in, "/queue"); got != want {
			t.Errorf("safeReturn(%q) = %q, want %q", in, got, want)
		}
	}
}

// newSetupHarness is a server with no account at all, which offers the
// first-admin setup; it returns the live setup token.
func newSetupHarness(t *testing.T) (*harness, string) {
	t.Helper()
	h := &harness{t: t}
	st, err := store.Open(filepath.Join(t.TempDir(), "setup.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s, err := NewServer(st, Config{Settings: config.DefaultSettings(), Auth: auth.Config{Params: auth.TestParams}})
	if err != nil {
		t.Fatal(err)
	}
	h.server, h.store = s, st
	h.srv = httptest.NewServer(s)
	t.Cleanup(h.srv.Close)
	tok, err := s.Auth().SetupToken(context.Background())
	if err != nil || tok == "" {
		t.Fatalf("setup token %q: %v", tok, err)
	}
	return h, tok
}
