package web

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clipsheet/clipsheet/internal/auth"
	"github.com/clipsheet/clipsheet/internal/config"
	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/store"
)

func TestCSRFBoundToSession(t *testing.T) {
	h := newHarness(t)
	a := h.add("https://example.com/a", "T", "L", "")
	other := h.as(model.RoleCurator)
	otherToken := h.csrfOf(other, "/queue")
	mine := h.csrf()
	if otherToken == mine {
		t.Fatal("two sessions share a CSRF token")
	}
	// Another session's valid token is no good here.
	if code, _ := h.post("/items/"+a.ID+"/approve", url.Values{"csrf_token": {otherToken}}, nil); code != http.StatusForbidden {
		t.Errorf("foreign session token: %d", code)
	}
	// Script path: header token, wrong and right.
	if code, _ := h.post("/items/"+a.ID+"/approve", nil, map[string]string{csrfHeader: "nope", "Accept": "application/json"}); code != http.StatusForbidden {
		t.Errorf("wrong header token: %d", code)
	}
	if code, _ := h.post("/items/"+a.ID+"/approve", nil, map[string]string{csrfHeader: mine, "Accept": "application/json"}); code != http.StatusOK {
		t.Errorf("right header token: %d", code)
	}
	// Login form: missing pre-session token refused.
	anon := h.newClient()
	if code, _ := h.postWith(anon, "/login", url.Values{"name": {"cur"}, "password": {testPassword}}, nil); code != http.StatusForbidden {
		t.Errorf("login without CSRF token: %d", code)
	}
	// The API with a session cookie needs the header too.
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/api/v1/items/"+a.ID+"/reject", nil)
	res, _ := h.client.Do(req)
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("cookie API call without CSRF header: %d", res.StatusCode)
	}
}

func TestSessionExpiryAndRevocation(t *testing.T) {
	h := newHarness(t)
	if code, _, _ := h.get("/queue"); code != http.StatusOK {
		t.Fatalf("fresh session: %d", code)
	}
	h.clock.Add(11 * time.Hour)
	if code, _, _ := h.get("/queue"); code != http.StatusOK {
		t.Fatalf("session used within the idle limit: %d", code)
	}
	h.clock.Add(12*time.Hour + time.Minute)
	code, _, hdr := h.get("/queue")
	if code != http.StatusFound || !strings.HasPrefix(hdr.Get("Location"), "/login?next=%2Fqueue") {
		t.Fatalf("idle session not expired: %d %s", code, hdr.Get("Location"))
	}

	// The queue script (Accept: JSON) gets 401, not a redirect it would
	// follow to the login page and mistake for success.
	if code, _ := h.post("/items/x/approve", nil, map[string]string{"Accept": "application/json"}); code != http.StatusUnauthorized {
		t.Errorf("script request after expiry: %d, want 401", code)
	}

	// Logout revokes server-side: replaying the old cookie fails.
	c := h.as(model.RoleCurator)
	u, _ := url.Parse(h.srv.URL)
	old := c.Jar.Cookies(u)
	if code, _ := h.postWith(c, "/logout", url.Values{"csrf_token": {h.csrfOf(c, "/queue")}}, nil); code != http.StatusSeeOther {
		t.Fatalf("logout: %d", code)
	}
	replay := h.newClient()
	replay.Jar.SetCookies(u, old)
	if code, _, _ := h.getWith(replay, "/queue"); code != http.StatusFound {
		t.Errorf("revoked session cookie still works: %d", code)
	}

	// Log out everywhere ends the other browsers too.
	b1, b2 := h.as(model.RoleCurator), h.as(model.RoleCurator)
	if code, _ := h.postWith(b1, "/account/logout-everywhere", url.Values{"csrf_token": {h.csrfOf(b1, "/account")}}, nil); code != http.StatusSeeOther {
		t.Fatalf("logout everywhere: %d", code)
	}
	for i, c := range []*http.Client{b1, b2} {
		if code, _, _ := h.getWith(c, "/queue"); code != http.StatusFound {
			t.Errorf("browser %d still signed in: %d", i, code)
		}
	}

	// Demotion applies to a live session at once.
	admin := h.as(model.RoleAdmin)
	cur := h.as(model.RoleCurator)
	if code, _ := h.postWith(admin, "/admin/users/cur/role", url.Values{"csrf_token": {h.csrfOf(admin, "/admin/users")}, "role": {"reader"}}, nil); code != http.StatusSeeOther {
		t.Fatalf("set role: %d", code)
	}
	if code, _, _ := h.getWith(cur, "/queue"); code != http.StatusForbidden {
		t.Errorf("demoted curator reaches the queue: %d", code)
	}
}

func TestLoginRateLimit(t *testing.T) {
	h := newHarness(t)
	c := h.newClient()
	for i := 0; i < 5; i++ {
		if code, _ := h.tryLogin(c, "rdr", "wrong password"); code != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i, code)
		}
	}
	code, hdr := h.tryLogin(c, "rdr", testPassword)
	if code != http.StatusTooManyRequests {
		t.Fatalf("6th attempt: %d, want 429", code)
	}
	secs, err := strconv.Atoi(hdr.Get("Retry-After"))
	if err != nil || secs <= 0 || secs > 15*60 {
		t.Errorf("Retry-After %q", hdr.Get("Retry-After"))
	}
	// Other accounts from the same place are not locked by it.
	if code, _ := h.tryLogin(h.newClient(), "root", testPassword); code != http.StatusSeeOther {
		t.Errorf("other account: %d", code)
	}
	h.clock.Add(16 * time.Minute)
	if code, _ := h.tryLogin(c, "rdr", testPassword); code != http.StatusSeeOther {
		t.Errorf("after the window: %d", code)
	}
}

func TestCuratorEditsRenderInert(t *testing.T) {
	h := newHarness(t)
	a := h.add("https://example.com/a", "Plain", "Plain lead.", "Top stories")
	payload := `<script>alert("x")</script><img src=x onerror=alert(1)>`
	code, _ := h.post("/items/"+a.ID+"/edit", url.Values{"csrf_token": {h.csrf()}, "title": {payload}, "byline": {`"><svg onload=alert(2)>`},
		"lead": {"Lead " + payload}, "note": {payload}, "tags": {"<b>t</b>"}, "then": {"approved"}}, nil)
	if code != http.StatusSeeOther {
		t.Fatalf("edit: %d", code)
	}
	for _, page := range []string{"/", "/queue?status=approved"} {
		_, body, _ := h.get(page)
		for _, bad := range []string{"<script>alert", "<img src=x", "<svg onload", "<b>t</b>"} {
			if strings.Contains(body, bad) {
				t.Errorf("%s contains live %q", page, bad)
			}
		}
		if !strings.Contains(body, `&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;`) {
			t.Errorf("%s: edited title not shown escaped", page)
		}
		if !strings.Contains(body, `&#34;&gt;&lt;svg onload=alert(2)&gt;`) {
			t.Errorf("%s: edited byline not shown escaped", page)
		}
	}
	// The edit form holds every field as escaped text: excerpt and note
	// in textareas, tags in an attribute.
	_, body, _ := h.get("/queue?status=approved")
	escaped := `&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;`
	for _, want := range []string{`<textarea name="lead" rows="6">Lead ` + escaped + `</textarea>`, `<textarea name="note" rows="2">` + escaped + `</textarea>`, `value="&lt;b&gt;t&lt;/b&gt;"`} {
		if !strings.Contains(body, want) {
			t.Errorf("edit form lacks the escaped %q", want)
		}
	}
	// On the briefing the excerpt's markup goes through the sanitiser:
	// the text stays, the elements go.
	if _, body, _ := h.get("/"); !strings.Contains(body, `<div class="lead">Lead </div>`) {
		t.Errorf("briefing excerpt not sanitised to its text")
	}
	_, body, _ = h.get("/feed.atom")
	if strings.Contains(body, "<script") || strings.Contains(body, "<img") {
		t.Errorf("atom feed carries raw markup:\n%s", body)
	}
	// The HTML a feed reader renders must be inert after decoding too.
	_, body, _ = h.get("/feed.json")
	var jf jsonFeed
	if err := json.Unmarshal([]byte(body), &jf); err != nil || len(jf.Items) != 1 {
		t.Fatalf("json feed: %v", err)
	}
	for _, bad := range []string{"<script", "<img", "onerror", "<svg"} {
		if strings.Contains(jf.Items[0].ContentHTML, bad) {
			t.Errorf("feed content_html keeps %q: %s", bad, jf.Items[0].ContentHTML)
		}
	}
	if jf.Items[0].Title != payload {
		t.Errorf("feed title should be the plain text as typed (JSON-escaped on the wire): %q", jf.Items[0].Title)
	}
}

func TestFeedHTMLSanitised(t *testing.T) {
	h := newHarness(t)
	it := model.NewItem(model.Extraction{
		URL:   "https://example.com/story",
		Title: "Storm",
		Lead: `<p>Winds <b>strong</b> <a href="javascript:alert(1)">bad</a> <a href="https://ok.example/more" onclick="x()">more</a></p>` +
			`<script>alert(1)</script><iframe src="https://evil.example"></iframe><p style="x" onmouseover="y()">tail</p>`,
	}, "S", "Top stories", time.Now())
	h.store.AddItem(context.Background(), it)
	h.store.UpdateItem(context.Background(), it.ID, func(i *model.Item) error { i.Status = model.StatusApproved; return nil })
	_, body, _ := h.get("/")
	for _, bad := range []string{"javascript:", "<script>", "<iframe", "onclick", "onmouseover", "style="} {
		if strings.Contains(body, bad) {
			t.Errorf("briefing keeps %q", bad)
		}
	}
	for _, want := range []string{"<b>strong</b>", `<a href="https://ok.example/more" rel="nofollow noopener noreferrer">more</a>`, "tail"} {
		if !strings.Contains(body, want) {
			t.Errorf("briefing lacks %q", want)
		}
	}
}

func TestJavascriptLinksDropped(t *testing.T) {
	h := newHarness(t)
	it := model.NewItem(model.Extraction{URL: "javascript:alert(1)", Title: "Bad link", Lead: "x"}, "S", "Top stories", time.Now())
	h.store.AddItem(context.Background(), it)
	h.store.UpdateItem(context.Background(), it.ID, func(i *model.Item) error { i.Status = model.StatusApproved; return nil })
	for _, p := range []string{"/", "/queue?status=approved", "/feed.atom", "/feed.json"} {
		_, body, _ := h.get(p)
		if strings.Contains(body, "javascript:") {
			t.Errorf("%s links to javascript:", p)
		}
	}
}

func TestPasswordNeverStoredOrLoggedInClear(t *testing.T) {
	dir := t.TempDir()
	h := newHarnessAt(t, filepath.Join(dir, "web.db"))
	const wrong = "a-wrong-guess-1234"
	h.tryLogin(h.newClient(), "cur", wrong)
	admin := h.as(model.RoleAdmin)
	const fresh = "fresh-password-for-new-user"
	if code, _ := h.postWith(admin, "/admin/users", url.Values{"csrf_token": {h.csrfOf(admin, "/admin/users")}, "name": {"newbie"}, "role": {"reader"}, "password": {fresh}}, nil); code != http.StatusSeeOther {
		t.Fatalf("add user: %d", code)
	}
	c := h.newClient()
	if code, _ := h.tryLogin(c, "newbie", fresh); code != http.StatusSeeOther {
		t.Fatalf("login newbie: %d", code)
	}
	// A password changed by its owner and one reset by an admin.
	const changed, reset = "changed-by-the-owner-1", "reset-by-the-admin-2"
	if code, _ := h.postWith(c, "/account/password", url.Values{"csrf_token": {h.csrfOf(c, "/account")}, "current": {fresh}, "password": {changed}, "confirm": {changed}}, nil); code != http.StatusOK {
		t.Fatalf("change password: %d", code)
	}
	if code, _ := h.postWith(admin, "/admin/users/rdr/password", url.Values{"csrf_token": {h.csrfOf(admin, "/admin/users")}, "password": {reset}, "confirm": {"yes"}}, nil); code != http.StatusSeeOther {
		t.Fatalf("reset password: %d", code)
	}
	// Also an API token and a session: only hashes may be stored.
	clear, _, _ := h.server.Auth().AddAPIToken(context.Background(), auth.Actor{}, "newbie", "x")
	h.store.Close()
	raw, err := os.ReadFile(filepath.Join(dir, "web.db"))
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(h.srv.URL)
	var session string
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == sessionCookie {
			session = ck.Value
		}
	}
	for name, secret := range map[string]string{"password": testPassword, "wrong guess": wrong, "new password": fresh, "changed password": changed,
		"reset password": reset, "api token": clear, "session": session} {
		if secret == "" {
			t.Fatalf("%s: empty", name)
		}
		if strings.Contains(string(raw), secret) {
			t.Errorf("database file holds the %s in clear", name)
		}
		if strings.Contains(h.logs.String(), secret) {
			t.Errorf("log holds the %s in clear", name)
		}
	}
	if !strings.Contains(string(raw), "$argon2id$v=19$") {
		t.Error("no argon2id hash in the file at all: did the scan read the right file?")
	}
}

// newHarnessAt is newHarness with the database at a known path.
func newHarnessAt(t *testing.T, path string) *harness {
	t.Helper()
	st, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	h := newHarnessWith(t, st)
	return h
}

func TestFeedsWithTokens(t *testing.T) {
	h := newHarness(t, privateBriefing)
	a := h.add("https://example.com/flood", "Flood warning", "The river will crest.", "Top stories")
	h.store.UpdateItem(context.Background(), a.ID, func(i *model.Item) error { i.Status = model.StatusApproved; i.Tags = []string{"weather"}; return nil })
	anon := h.newClient()
	if code, _, _ := h.getWith(anon, "/feed.atom"); code != http.StatusUnauthorized {
		t.Fatalf("private feed without token: %d", code)
	}
	rdr, _ := h.store.GetUser(context.Background(), "rdr")
	tok, _ := h.server.Auth().FeedToken(context.Background(), rdr)

	code, body, hdr := h.getWith(anon, "/feed.atom?token="+url.QueryEscape(tok))
	if code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "application/atom+xml") {
		t.Fatalf("atom: %d %s", code, hdr.Get("Content-Type"))
	}
	var feed struct {
		Entries []struct {
			Title string `xml:"title"`
			Link  struct {
				Href string `xml:"href,attr"`
			} `xml:"link"`
			Author struct {
				Name string `xml:"name"`
			} `xml:"author"`
			Source struct {
				Title string `xml:"title"`
			} `xml:"source"`
			Sum string `xml:"summary"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal([]byte(body), &feed); err != nil {
		t.Fatalf("atom does not parse: %v\n%s", err, body)
	}
	if len(feed.Entries) != 1 {
		t.Fatalf("atom entries: %d", len(feed.Entries))
	}
	e := feed.Entries[0]
	if e.Title != "Flood warning" || e.Link.Href != "https://example.com/flood" || e.Author.Name != "Ann Lee" || e.Source.Title != "Example News" || e.Sum != "The river will crest." {
		t.Errorf("atom entry: %+v", e)
	}
	// The token is in the self link only (so following it works), never
	// in the id or the entries.
	if strings.Count(body, url.QueryEscape(tok)) != 1 || !strings.Contains(body, `rel="self" type="application/atom+xml" href="http://127.0.0.1:8080/feed.atom?token=`+url.QueryEscape(tok)+`"`) {
		t.Errorf("the private token should be in the self link only:\n%s", body)
	}
	if strings.Contains(h.logs.String(), tok[strings.IndexByte(tok, '.')+1:]) {
		t.Error("the request log holds the feed token")
	}
	if !strings.Contains(h.logs.String(), "path=/feed.atom") {
		t.Error("feed requests are not in the debug log at all: the check above saw nothing")
	}

	code, body, _ = h.getWith(anon, "/feed.json?token="+url.QueryEscape(tok))
	var jf jsonFeed
	if err := json.Unmarshal([]byte(body), &jf); code != 200 || err != nil || len(jf.Items) != 1 {
		t.Fatalf("json feed: %d %v %s", code, err, body)
	}
	ji := jf.Items[0]
	if jf.Version != "https://jsonfeed.org/version/1.1" || ji.URL != "https://example.com/flood" || ji.Authors[0].Name != "Ann Lee" ||
		ji.Clipsheet.Publisher != "Example News" || ji.ContentText != "The river will crest." || strings.Join(ji.Tags, ",") != "Top stories,weather" {
		t.Errorf("json feed item: %+v", ji)
	}

	// Resetting the feed link asks first, then revokes the old one.
	c := h.as(model.RoleReader)
	if code, body := h.postWith(c, "/account/feed-token", url.Values{"csrf_token": {h.csrfOf(c, "/account")}}, nil); code != http.StatusOK || !strings.Contains(body, "Reset your feed links?") {
		t.Fatalf("unconfirmed reset: %d, want the confirmation page", code)
	}
	if code, _, _ := h.getWith(anon, "/feed.atom?token="+url.QueryEscape(tok)); code != http.StatusOK {
		t.Errorf("an unconfirmed reset revoked the feed token: %d", code)
	}
	if code, _ := h.postWith(c, "/account/feed-token", url.Values{"csrf_token": {h.csrfOf(c, "/account")}, "confirm": {"yes"}}, nil); code != http.StatusSeeOther {
		t.Fatalf("reset: %d", code)
	}
	if code, _, _ := h.getWith(anon, "/feed.atom?token="+url.QueryEscape(tok)); code != http.StatusUnauthorized {
		t.Errorf("old feed token: %d", code)
	}
	_, page, _ := h.getWith(c, "/account")
	if !strings.Contains(page, "/feed.atom?token=rdr.") {
		t.Error("account page does not show the feed link")
	}
}

func TestFirstAdminSetup(t *testing.T) {
	h, tok := newSetupHarness(t)
	c := h.newClient()
	_, body, _ := h.getWith(c, "/login")
	if !strings.Contains(body, "clipsheet user add NAME --role admin") {
		t.Error("login page does not explain how to create the first admin")
	}
	if code, _, _ := h.getWith(c, "/setup?token=guess"); code != http.StatusNotFound {
		t.Errorf("setup with a wrong token: %d", code)
	}
	csrf := h.csrfOf(c, "/setup?token="+tok)
	// A wrong token is a plain 404 whatever else the form holds.
	for _, form := range []url.Values{
		{"csrf_token": {csrf}, "token": {"guess"}, "name": {"evil"}, "password": {testPassword}, "confirm": {testPassword}},
		{"csrf_token": {csrf}, "token": {"guess"}, "name": {"evil"}, "password": {testPassword}, "confirm": {"other"}},
	} {
		if code, body := h.postWith(c, "/setup", form, nil); code != http.StatusNotFound || strings.Contains(body, "first admin") {
			t.Errorf("setup with a wrong token: %d", code)
		}
	}
	if code, _ := h.postWith(c, "/setup", url.Values{"csrf_token": {csrf}, "token": {tok}, "name": {"chief"}, "password": {testPassword}, "confirm": {"typo"}}, nil); code != http.StatusUnprocessableEntity {
		t.Errorf("setup with differing passwords: %d", code)
	}
	code, _ := h.postWith(c, "/setup", url.Values{"csrf_token": {csrf}, "token": {tok}, "name": {"chief"}, "password": {testPassword}, "confirm": {testPassword}}, nil)
	if code != http.StatusSeeOther {
		t.Fatalf("setup: %d", code)
	}
	if code, _, _ := h.getWith(c, "/admin/users"); code != http.StatusOK {
		t.Errorf("new admin not signed in: %d", code)
	}
	if code, _, _ := h.getWith(h.newClient(), "/setup?token="+tok); code != http.StatusNotFound {
		t.Errorf("setup link still open: %d", code)
	}
}

func TestTLSAndProxyHeaders(t *testing.T) {
	// Behind a trusted proxy: X-Forwarded-Proto and -For are believed.
	h := newHarness(t, func(c *Config) { c.Settings.TrustedProxies = []string{"127.0.0.1/32", "::1"} })
	anon := h.newClient()
	req, _ := http.NewRequest(http.MethodGet, h.srv.URL+"/login", nil)
	req.Header.Set("X-Forwarded-Proto", "https")
	res, err := anon.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.Header.Get("Strict-Transport-Security") == "" {
		t.Error("no HSTS behind a trusted TLS proxy")
	}
	if sc := res.Header.Get("Set-Cookie"); !strings.Contains(sc, "__Host-clipsheet_csrf=") || !strings.Contains(sc, "Secure") {
		t.Errorf("cookie not Secure/__Host- behind TLS proxy: %s", sc)
	}
	h.tryLoginHeaders(h.newClient(), "cur", "wrong", map[string]string{"X-Forwarded-For": "203.0.113.9"})
	evs, _ := h.store.ListAudit(context.Background(), store.AuditFilter{Action: model.AuditLoginFailed})
	if len(evs) == 0 || evs[0].IP != "203.0.113.9" {
		t.Errorf("client IP from trusted proxy: %+v", evs)
	}

	// Without trusted proxies the same headers are ignored.
	h2 := newHarness(t)
	req, _ = http.NewRequest(http.MethodGet, h2.srv.URL+"/login", nil)
	req.Header.Set("X-Forwarded-Proto", "https")
	res, _ = h2.newClient().Do(req)
	res.Body.Close()
	if res.Header.Get("Strict-Transport-Security") != "" || strings.Contains(res.Header.Get("Set-Cookie"), "Secure") {
		t.Error("forged X-Forwarded-Proto believed")
	}
	h2.tryLoginHeaders(h2.newClient(), "cur", "wrong", map[string]string{"X-Forwarded-For": "203.0.113.9"})
	evs, _ = h2.store.ListAudit(context.Background(), store.AuditFilter{Action: model.AuditLoginFailed})
	if len(evs) == 0 || evs[0].IP != "127.0.0.1" {
		t.Errorf("forged X-Forwarded-For believed: %+v", evs)
	}

	// Served over TLS directly.
	st, _ := store.Open(filepath.Join(t.TempDir(), "tls.db"))
	defer st.Close()
	s, _ := NewServer(st, Config{Settings: config.DefaultSettings(), Auth: auth.Config{Params: auth.TestParams}})
	ts := httptest.NewTLSServer(s)
	defer ts.Close()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} // #nosec: test server's own certificate
	res, err = client.Get(ts.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if !strings.Contains(res.Header.Get("Strict-Transport-Security"), "max-age=") || !strings.Contains(res.Header.Get("Set-Cookie"), "Secure") {
		t.Errorf("direct TLS: HSTS %q cookie %q", res.Header.Get("Strict-Transport-Security"), res.Header.Get("Set-Cookie"))
	}
	for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin", "Cache-Control": "no-store"} {
		if res.Header.Get(k) != want {
			t.Errorf("%s = %q", k, res.Header.Get(k))
		}
	}
	if !strings.Contains(res.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Error("CSP lacks frame-ancestors")
	}
}

func (h *harness) tryLoginHeaders(c *http.Client, name, password string, hdr map[string]string) int {
	h.t.Helper()
	tok := h.csrfOf(c, "/login")
	code, _ := h.postWith(c, "/login", url.Values{"csrf_token": {tok}, "name": {name}, "password": {password}}, hdr)
	return code
}

func TestAdminAuditPage(t *testing.T) {
	h := newHarness(t)
	a := h.add("https://example.com/a", "T", "L", "")
	h.post("/items/"+a.ID+"/approve", url.Values{"csrf_token": {h.csrf()}}, nil)
	for i := 0; i < 60; i++ {
		h.server.Auth().Record(context.Background(), auth.Actor{Name: "bulk"}, "source.change", strconv.Itoa(i), "")
	}
	admin := h.as(model.RoleAdmin)
	_, body, _ := h.getWith(admin, "/admin/audit?actor=cur")
	if !strings.Contains(body, "<code>item.approve</code>") || strings.Contains(body, "<code>source.change</code>") {
		t.Errorf("audit filter by user:\n%s", body)
	}
	_, body, _ = h.getWith(admin, "/admin/audit")
	if !strings.Contains(body, "Older events") || strings.Contains(body, "<code>item.approve</code>") {
		t.Error("first page should be the 50 newest bulk events with a link to older ones")
	}
	_, body, _ = h.getWith(admin, "/admin/audit?action=auth.")
	if !strings.Contains(body, "<code>auth.login</code>") {
		t.Error("logins not in the audit log")
	}
}

// TestLoginRateLimitPerIP sprays wrong passwords for many names from one
// address: that address is refused with 429 and Retry-After even for a
// right password, while another address (told apart by a trusted proxy's
// X-Forwarded-For) still signs in.
func TestLoginRateLimitPerIP(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.Auth.AccountLimit, c.Auth.IPLimit = 100, 4
		c.Settings.TrustedProxies = []string{"127.0.0.1/32", "::1"}
	})
	from := func(ip string) map[string]string { return map[string]string{"X-Forwarded-For": ip} }
	for i, name := range []string{"alpha", "bravo", "cur", "delta"} {
		if code := h.tryLoginHeaders(h.newClient(), name, "wrong password", from("198.51.100.7")); code != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i, code)
		}
	}
	c := h.newClient()
	tok := h.csrfOf(c, "/login")
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/login", strings.NewReader(url.Values{"csrf_token": {tok}, "name": {"rdr"}, "password": {testPassword}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", "198.51.100.7")
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("right password from a spraying address: %d, want 429", res.StatusCode)
	}
	if secs, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || secs <= 0 || secs > 15*60 {
		t.Errorf("Retry-After %q", res.Header.Get("Retry-After"))
	}
	if code := h.tryLoginHeaders(h.newClient(), "rdr", testPassword, from("198.51.100.8")); code != http.StatusSeeOther {
		t.Errorf("another address: %d, want 303", code)
	}
	h.clock.Add(16 * time.Minute)
	if code := h.tryLoginHeaders(h.newClient(), "rdr", testPassword, from("198.51.100.7")); code != http.StatusSeeOther {
		t.Errorf("after the window: %d", code)
	}
}

// sessionSetCookie signs in over the given client and base URL and returns
// the session cookie the server set, as the browser would parse it.
func sessionSetCookie(t *testing.T, c *http.Client, base string, hdr map[string]string) *http.Cookie {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/login", nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := csrfRe.FindSubmatch(body)
	if m == nil {
		t.Fatal("no CSRF token on /login")
	}
	var pre []*http.Cookie
	pre = append(pre, res.Cookies()...)
	req, _ = http.NewRequest(http.MethodPost, base+"/login", strings.NewReader(url.Values{"csrf_token": {string(m[1])}, "name": {"cur"}, "password": {testPassword}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	for _, ck := range pre {
		req.AddCookie(ck)
	}
	res, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", res.StatusCode)
	}
	for _, ck := range res.Cookies() {
		if strings.HasSuffix(ck.Name, sessionCookie) && ck.Value != "" {
			return ck
		}
	}
	t.Fatalf("no session cookie set: %v", res.Header["Set-Cookie"])
	return nil
}

// TestSessionCookieFlags: the session cookie is HttpOnly, SameSite=Lax,
// host-wide, lives no longer than the absolute session limit, carries a
// 256-bit token, and is Secure (with the __Host- prefix) exactly when the
// client reached us over TLS: directly or through a trusted proxy that
// says so.
func TestSessionCookieFlags(t *testing.T) {
	noRedirect := func(tr http.RoundTripper) *http.Client {
		return &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	check := func(name string, ck *http.Cookie, secure bool) {
		t.Helper()
		if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Domain != "" {
			t.Errorf("%s: flags %+v", name, ck)
		}
		if ck.MaxAge <= 0 || ck.MaxAge > int((7*24*time.Hour).Seconds()) {
			t.Errorf("%s: Max-Age %d", name, ck.MaxAge)
		}
		if ck.Secure != secure || strings.HasPrefix(ck.Name, "__Host-") != secure {
			t.Errorf("%s: Secure %v name %s, want secure=%v", name, ck.Secure, ck.Name, secure)
		}
		if raw, err := base64.RawURLEncoding.DecodeString(ck.Value); err != nil || len(raw) != 32 {
			t.Errorf("%s: token is not 256 random bits: %q", name, ck.Value)
		}
	}
	h := newHarness(t)
	check("plain HTTP", sessionSetCookie(t, noRedirect(nil), h.srv.URL, nil), false)
	// A forged X-Forwarded-Proto from a client that is no proxy is ignored.
	check("forged proto", sessionSetCookie(t, noRedirect(nil), h.srv.URL, map[string]string{"X-Forwarded-Proto": "https"}), false)

	hp := newHarness(t, func(c *Config) { c.Settings.TrustedProxies = []string{"127.0.0.1/32", "::1"} })
	check("trusted proxy, https", sessionSetCookie(t, noRedirect(nil), hp.srv.URL, map[string]string{"X-Forwarded-Proto": "https"}), true)
	check("trusted proxy, http", sessionSetCookie(t, noRedirect(nil), hp.srv.URL, map[string]string{"X-Forwarded-Proto": "http"}), false)

	ts := httptest.NewTLSServer(h.server)
	defer ts.Close()
	tlsClient := noRedirect(&http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}) // #nosec: the test server's own certificate
	check("direct TLS", sessionSetCookie(t, tlsClient, ts.URL, nil), true)

	// Signing out clears the cookie in the browser too.
	c := h.as(model.RoleCurator)
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/logout", strings.NewReader(url.Values{"csrf_token": {h.csrfOf(c, "/queue")}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	cleared := false
	for _, ck := range res.Cookies() {
		cleared = cleared || ck.Name == sessionCookie && ck.Value == "" && ck.MaxAge < 0
	}
	if !cleared {
		t.Errorf("logout does not clear the cookie: %v", res.Header["Set-Cookie"])
	}
}

// TestAbsoluteSessionExpiryOverHTTP: a session used every few hours still
// ends seven days after sign-in.
func TestAbsoluteSessionExpiryOverHTTP(t *testing.T) {
	h := newHarness(t)
	for elapsed := time.Duration(0); elapsed+10*time.Hour < 7*24*time.Hour; elapsed += 10 * time.Hour {
		h.clock.Add(10 * time.Hour)
		if code, _, _ := h.get("/queue"); code != http.StatusOK {
			t.Fatalf("session in use ended after %s: %d", elapsed+10*time.Hour, code)
		}
	}
	h.clock.Add(10 * time.Hour)
	if code, _, hdr := h.get("/queue"); code != http.StatusFound || !strings.HasPrefix(hdr.Get("Location"), "/login") {
		t.Errorf("session older than 7 days: %d", code)
	}
}

// TestOriginBehindAProxy: a reverse proxy may hand us its upstream name as
// Host; the browser's Origin is the public host. That host is ours when
// base_url names it or a trusted proxy says so in X-Forwarded-Host; the
// same header from anyone else proves nothing.
func TestOriginBehindAProxy(t *testing.T) {
	post := func(h *harness, hdr map[string]string) int {
		t.Helper()
		c := h.as(model.RoleCurator)
		req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/account/feed-token", strings.NewReader(url.Values{"csrf_token": {h.csrfOf(c, "/account")}, "confirm": {"yes"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Host = "clipsheet-upstream:8080"
		// The jar would file the cookies under the Host header's name.
		u, _ := url.Parse(h.srv.URL)
		for _, ck := range c.Jar.Cookies(u) {
			req.AddCookie(ck)
		}
		c.Jar = nil
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	public := map[string]string{"Origin": "https://clipsheet.example", "X-Forwarded-Host": "clipsheet.example"}
	proxied := newHarness(t, func(c *Config) { c.Settings.TrustedProxies = []string{"127.0.0.1/32", "::1"} })
	if code := post(proxied, public); code != http.StatusSeeOther {
		t.Errorf("trusted proxy's X-Forwarded-Host: %d, want 303", code)
	}
	if code := post(proxied, map[string]string{"Origin": "https://evil.example", "X-Forwarded-Host": "clipsheet.example"}); code != http.StatusForbidden {
		t.Errorf("foreign origin behind the proxy: %d, want 403", code)
	}
	if code := post(newHarness(t), public); code != http.StatusForbidden {
		t.Errorf("X-Forwarded-Host from a client that is no proxy: %d, want 403", code)
	}
	withBase := newHarness(t, func(c *Config) { c.Settings.BaseURL = "https://clipsheet.example/" })
	if code := post(withBase, map[string]string{"Origin": "https://clipsheet.example"}); code != http.StatusSeeOther {
		t.Errorf("origin of base_url: %d, want 303", code)
	}
}

// TestForwardedProtoList: only the last X-Forwarded-Proto entry, the one
// the trusted proxy next to us wrote, decides whether the client used TLS.
func TestForwardedProtoList(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Settings.TrustedProxies = []string{"127.0.0.1/32", "::1"} })
	for proto, want := range map[string]bool{"https": true, "http, https": true, "https, http": false, "http": false} {
		req, _ := http.NewRequest(http.MethodGet, h.srv.URL+"/login", nil)
		req.Header.Set("X-Forwarded-Proto", proto)
		res, err := h.newClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if got := res.Header.Get("Strict-Transport-Security") != ""; got != want {
			t.Errorf("X-Forwarded-Proto %q: HSTS %v, want %v", proto, got, want)
		}
	}
}

// selfSignedCert writes a certificate for 127.0.0.1 and its key as PEM
// files and returns their paths and the certificate.
func selfSignedCert(t *testing.T) (certFile, keyFile string, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "clipsheet test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	if cert, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, cert
}

// TestServesTLSWithCertAndKey: given tls.cert and tls.key, ListenAndServe
// speaks HTTPS only, with HSTS and Secure cookies, and shuts down cleanly.
func TestServesTLSWithCertAndKey(t *testing.T) {
	certFile, keyFile, cert := selfSignedCert(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	st, err := store.Open(filepath.Join(t.TempDir(), "tls.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	settings := config.DefaultSettings()
	settings.Addr, settings.TLS.Cert, settings.TLS.Key = addr, certFile, keyFile
	s, err := NewServer(st, Config{Settings: settings, Auth: auth.Config{Params: auth.TestParams}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ListenAndServe(ctx) }()
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	var res *http.Response
	for i := 0; i < 200; i++ {
		if res, err = client.Get("https://" + addr + "/login"); err == nil {
			break
		}
		time.Sleep(25 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("HTTPS: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.TLS == nil || !strings.Contains(res.Header.Get("Strict-Transport-Security"), "max-age=") ||
		!strings.Contains(res.Header.Get("Set-Cookie"), "__Host-clipsheet_csrf=") || !strings.Contains(res.Header.Get("Set-Cookie"), "Secure") {
		t.Errorf("HTTPS answer: %d HSTS %q cookie %q", res.StatusCode, res.Header.Get("Strict-Transport-Security"), res.Header.Get("Set-Cookie"))
	}
	// Plain HTTP on the TLS port gets no page.
	if res, err := http.Get("http://" + addr + "/login"); err == nil {
		res.Body.Close()
		if res.StatusCode == http.StatusOK {
			t.Error("plain HTTP served a page on the TLS port")
		}
	}
	cancel()
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("shutdown: %v", err)
	}
}
