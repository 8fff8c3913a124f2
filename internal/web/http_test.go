package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"

	"github.com/clipsheet/clipsheet/internal/config"
	"github.com/clipsheet/clipsheet/internal/model"
)

// rawClient neither adds Accept-Encoding nor decodes: the tests see the
// bytes on the wire. It carries the cookies of c (if any).
func rawClient(c *http.Client) *http.Client {
	out := &http.Client{
		Transport:     &http.Transport{DisableCompression: true},
		Timeout:       20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	if c != nil {
		out.Jar = c.Jar
	}
	return out
}

// fetchRaw sends method path with the given headers and returns status,
// headers and the undecoded body.
func (h *harness) fetchRaw(c *http.Client, method, path string, hdr map[string]string) (int, http.Header, []byte) {
	h.t.Helper()
	req, err := http.NewRequest(method, h.srv.URL+path, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := c.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return res.StatusCode, res.Header, b
}

// approveMany stores n approved items with long leads, so pages and feeds
// are well above the compression threshold.
func (h *harness) approveMany(n int) {
	h.t.Helper()
	for i := 0; i < n; i++ {
		it := h.add(fmt.Sprintf("https://example.com/story-%d-%d", time.Now().UnixNano(), i), fmt.Sprintf("Story number %d about the river", i),
			strings.Repeat(fmt.Sprintf("Paragraph %d says the river will crest tonight. ", i), 8), "Top stories")
		if _, err := h.store.UpdateItem(context.Background(), it.ID, func(i *model.Item) error { i.Status = model.StatusApproved; return nil }); err != nil {
			h.t.Fatal(err)
		}
	}
}

// getRoutes are the registered GET routes with a concrete path each.
func getRoutes(t *testing.T, h *harness) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, r := range h.server.Routes() {
		if r.Method != http.MethodGet {
			continue
		}
		path := routeAccess[r.Method+" "+r.Path].path
		if path == "" {
			path = concretePath(r.Path)
		}
		out[r.Path] = path
	}
	if len(out) < 10 {
		t.Fatalf("only %d GET routes found", len(out))
	}
	return out
}

// TestHeadOnEveryGetRoute: HEAD answers wherever GET does, with GET's
// status and headers (Content-Length included) and no body, for every
// registered GET route, anonymous and as admin, with and without gzip.
func TestHeadOnEveryGetRoute(t *testing.T) {
	h := newAccessHarness(t)
	h.approveMany(3)
	volatile := map[string]bool{"Date": true, "Set-Cookie": true}
	for _, who := range []string{"anonymous", "admin"} {
		c := h.newClient()
		if who == "admin" {
			h.login(c, testUsers[model.RoleAdmin])
		}
		h.getWith(c, "/login") // the CSRF cookie, so pages are the same twice
		rc := rawClient(c)
		for route, path := range getRoutes(t, h) {
			for _, ae := range []string{"", "gzip"} {
				hdr := map[string]string{"Accept-Encoding": ae}
				what := fmt.Sprintf("%s HEAD %s (%s, Accept-Encoding %q)", who, path, route, ae)
				// The briefing shows when it was made: a second (or a minute)
				// may pass between the two requests; one retry covers that.
				vol := volatile
				if route == "/metrics" || route == "/admin/status" {
					// The figures count the requests themselves (and the
					// memory moves): two answers differ in length.
					vol = map[string]bool{"Date": true, "Set-Cookie": true, "Content-Length": true}
				}
				problems := headVsGet(h, rc, path, hdr, vol)
				if len(problems) > 0 {
					problems = headVsGet(h, rc, path, hdr, vol)
				}
				for _, p := range problems {
					t.Errorf("%s: %s", what, p)
				}
			}
		}
	}
}

// headVsGet lists how HEAD path differs from GET path.
func headVsGet(h *harness, rc *http.Client, path string, hdr map[string]string, volatile map[string]bool) []string {
	gc, gh, gb := h.fetchRaw(rc, http.MethodGet, path, hdr)
	hc, hh, hb := h.fetchRaw(rc, http.MethodHead, path, hdr)
	if hc != gc {
		return []string{fmt.Sprintf("%d, GET gave %d", hc, gc)}
	}
	var out []string
	if len(hb) != 0 {
		out = append(out, fmt.Sprintf("a body of %d bytes", len(hb)))
	}
	if gh.Get("Content-Length") != "" && gh.Get("Content-Length") != fmt.Sprint(len(gb)) {
		out = append(out, fmt.Sprintf("GET's Content-Length %s for %d bytes", gh.Get("Content-Length"), len(gb)))
	}
	for k := range mergeKeys(gh, hh) {
		if volatile[k] {
			continue
		}
		// The API briefing's "generated" has nanoseconds, printed without
		// trailing zeros: its length moves between any two requests.
		if k == "Content-Length" && path == "/api/v1/briefing" && (gh.Get(k) == "") == (hh.Get(k) == "") {
			continue
		}
		if g, hv := strings.Join(gh.Values(k), ", "), strings.Join(hh.Values(k), ", "); g != hv {
			out = append(out, fmt.Sprintf("%s is %q, GET had %q", k, hv, g))
		}
	}
	return out
}

func mergeKeys(a, b http.Header) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

func decodeBody(t *testing.T, enc string, b []byte) []byte {
	t.Helper()
	var r io.Reader
	switch enc {
	case "":
		return b
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("gzip: %v", err)
		}
		r = zr
	case "br":
		r = brotli.NewReader(bytes.NewReader(b))
	default:
		t.Fatalf("unexpected Content-Encoding %q", enc)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("decode %s: %v", enc, err)
	}
	return out
}

// TestCompressionNegotiated: HTML, JSON, feeds, CSS and JS come gzip- or
// brotli-encoded as the client's Accept-Encoding q-values choose, decode
// to exactly the identity body, carry Vary: Accept-Encoding and a correct
// Content-Length; tiny bodies, 304s and refused encodings stay identity.
func TestCompressionNegotiated(t *testing.T) {
	h := newHarness(t)
	h.approveMany(6)
	rc := rawClient(h.client)
	h.getWith(h.client, "/queue")
	_, page, _ := h.get("/")
	css := regexp.MustCompile(`href="(/static/style\.[0-9a-f]+\.css)"`).FindStringSubmatch(page)
	if css == nil {
		t.Fatalf("no fingerprinted stylesheet on /:\n%s", page)
	}
	bearer := h.token(model.RoleCurator)
	paths := []string{"/", "/queue", "/feed.atom", "/feed.json", "/api/v1/items", "/api/v1/briefing", css[1], "/static/style.css", "/static/app.js"}
	for _, tc := range []struct {
		ae, want string
	}{
		{"", ""},
		{"identity", ""},
		{"gzip", "gzip"},
		{"x-gzip", "gzip"},
		{"br", "br"},
		{"gzip, deflate, br", "br"}, // equal preference: the smaller one
		{"gzip;q=1.0, br;q=0.5", "gzip"},
		{"br;q=1, gzip;q=0.8", "br"},
		{"gzip;q=0, br;q=0", ""},
		{"br;q=0, *", "gzip"},
		{"*;q=0.5, br;q=0.1", "gzip"},
		{"deflate", ""},
	} {
		for _, p := range paths {
			hdr := map[string]string{"Accept-Encoding": tc.ae}
			if strings.HasPrefix(p, "/api/") {
				hdr["Authorization"] = "Bearer " + bearer
			}
			_, _, identity := h.fetchRaw(rc, http.MethodGet, p, map[string]string{"Authorization": hdr["Authorization"]})
			code, rh, raw := h.fetchRaw(rc, http.MethodGet, p, hdr)
			what := fmt.Sprintf("GET %s with Accept-Encoding %q", p, tc.ae)
			if code != http.StatusOK {
				t.Errorf("%s: %d", what, code)
				continue
			}
			if got := rh.Get("Content-Encoding"); got != tc.want {
				t.Errorf("%s: Content-Encoding %q, want %q", what, got, tc.want)
			}
			if !strings.Contains(rh.Get("Vary"), "Accept-Encoding") {
				t.Errorf("%s: Vary %q", what, rh.Get("Vary"))
			}
			if rh.Get("Content-Length") != fmt.Sprint(len(raw)) {
				t.Errorf("%s: Content-Length %q for %d bytes", what, rh.Get("Content-Length"), len(raw))
			}
			body := decodeBody(t, rh.Get("Content-Encoding"), raw)
			// The briefing's time of making moves; compare what does not.
			body, identity = dropTimes(body), dropTimes(identity)
			if !bytes.Equal(body, identity) {
				t.Errorf("%s: decoded body differs from identity (%d vs %d bytes)", what, len(body), len(identity))
			}
			if tc.want != "" && len(raw) >= len(identity) {
				t.Errorf("%s: encoded %d bytes, identity %d", what, len(raw), len(identity))
			}
		}
	}
	// Tiny bodies, 304s and 204-like answers are never encoded.
	for _, p := range []string{"/healthz", "/api/v1/nope"} {
		_, rh, raw := h.fetchRaw(rc, http.MethodGet, p, map[string]string{"Accept-Encoding": "gzip, br"})
		if rh.Get("Content-Encoding") != "" || rh.Get("Content-Length") != fmt.Sprint(len(raw)) {
			t.Errorf("tiny %s: Content-Encoding %q, Content-Length %q for %d bytes", p, rh.Get("Content-Encoding"), rh.Get("Content-Length"), len(raw))
		}
	}
	_, rh, _ := h.fetchRaw(rc, http.MethodGet, "/feed.atom", map[string]string{"Accept-Encoding": "gzip"})
	code, rh304, raw := h.fetchRaw(rc, http.MethodGet, "/feed.atom", map[string]string{"Accept-Encoding": "gzip", "If-None-Match": rh.Get("ETag")})
	if code != http.StatusNotModified || rh304.Get("Content-Encoding") != "" || len(raw) != 0 {
		t.Errorf("304: %d, Content-Encoding %q, %d bytes", code, rh304.Get("Content-Encoding"), len(raw))
	}
	if rh304.Get("ETag") != rh.Get("ETag") || !strings.Contains(rh304.Get("Vary"), "Accept-Encoding") {
		t.Errorf("304 validators: ETag %q (200 had %q), Vary %q", rh304.Get("ETag"), rh.Get("ETag"), rh304.Get("Vary"))
	}
}

var timeRe = regexp.MustCompile(`\d{1,2}:\d{2} [A-Z]+|"generated":"[^"]*"`)

func dropTimes(b []byte) []byte { return timeRe.ReplaceAll(b, []byte("T")) }

func TestCompressibleTypes(t *testing.T) {
	for ct, want := range map[string]bool{
		"text/html; charset=utf-8":           true,
		"application/json; charset=utf-8":    true,
		"application/feed+json":              true,
		"application/atom+xml":               true,
		"text/css; charset=utf-8":            true,
		"text/javascript; charset=utf-8":     true,
		"application/javascript":             true,
		"image/svg+xml":                      true,
		"text/x-opml; charset=utf-8":         true,
		"image/png":                          false,
		"image/jpeg":                         false,
		"font/woff2":                         false,
		"application/gzip":                   false,
		"application/zip":                    false,
		"application/octet-stream":           false,
		"":                                   false,
		"multipart/form-data; boundary=abcd": false,
	} {
		if got := compressible(ct); got != want {
			t.Errorf("compressible(%q) = %v, want %v", ct, got, want)
		}
	}
}

var assetLinkRe = regexp.MustCompile(`(?:href|src)="(/static/[^"]+)"`)

// TestStaticFingerprints: every asset link on the pages carries the
// content hash and is immutable; the plain URL revalidates with ETag and
// Last-Modified; a wrong hash is never immutable.
func TestStaticFingerprints(t *testing.T) {
	h := newAccessHarness(t)
	admin := h.as(model.RoleAdmin)
	rc := rawClient(admin)
	seen := map[string]bool{}
	for _, page := range []string{"/", "/login", "/queue", "/account", "/admin/users", "/admin/audit", "/admin/sources", "/admin/sources/new", "/admin/sources/sections", "/admin/sources/import", "/no/such/page"} {
		c := admin
		if page == "/login" {
			c = h.newClient()
		}
		_, body, _ := h.getWith(c, page)
		links := assetLinkRe.FindAllStringSubmatch(body, -1)
		if len(links) == 0 {
			t.Errorf("%s links no assets", page)
		}
		for _, m := range links {
			if !regexp.MustCompile(`^/static/[a-z]+\.[0-9a-f]{12}\.(css|js)$`).MatchString(m[1]) {
				t.Errorf("%s links %s, not a fingerprinted URL", page, m[1])
			}
			seen[m[1]] = true
		}
	}
	if len(seen) < 3 {
		t.Errorf("assets linked: %v", seen)
	}
	for u := range seen {
		code, hdr, body := h.fetchRaw(rc, http.MethodGet, u, nil)
		if code != 200 || hdr.Get("Cache-Control") != "public, max-age=31536000, immutable" {
			t.Errorf("%s: %d Cache-Control %q", u, code, hdr.Get("Cache-Control"))
		}
		plain := regexp.MustCompile(`\.[0-9a-f]{12}\.`).ReplaceAllString(u, ".")
		pcode, phdr, pbody := h.fetchRaw(rc, http.MethodGet, plain, nil)
		if pcode != 200 || !bytes.Equal(body, pbody) {
			t.Errorf("%s: %d, differs from %s", plain, pcode, u)
		}
		if strings.Contains(phdr.Get("Cache-Control"), "immutable") || phdr.Get("ETag") == "" || phdr.Get("Last-Modified") == "" {
			t.Errorf("%s: Cache-Control %q ETag %q Last-Modified %q", plain, phdr.Get("Cache-Control"), phdr.Get("ETag"), phdr.Get("Last-Modified"))
		}
		for name, cond := range map[string]map[string]string{
			"If-None-Match":     {"If-None-Match": phdr.Get("ETag")},
			"If-Modified-Since": {"If-Modified-Since": phdr.Get("Last-Modified")},
		} {
			if code, _, b := h.fetchRaw(rc, http.MethodGet, plain, cond); code != http.StatusNotModified || len(b) != 0 {
				t.Errorf("%s with %s: %d, %d bytes", plain, name, code, len(b))
			}
		}
		// If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2).
		if code, _, _ := h.fetchRaw(rc, http.MethodGet, plain, map[string]string{"If-None-Match": `"other"`, "If-Modified-Since": phdr.Get("Last-Modified")}); code != http.StatusOK {
			t.Errorf("%s with a stale If-None-Match and a fresh If-Modified-Since: %d", plain, code)
		}
		wrong := regexp.MustCompile(`\.[0-9a-f]{12}\.`).ReplaceAllString(u, ".0123456789ab.")
		wcode, whdr, _ := h.fetchRaw(rc, http.MethodGet, wrong, nil)
		if wcode == http.StatusOK && strings.Contains(whdr.Get("Cache-Control"), "immutable") {
			t.Errorf("%s (wrong hash): served as immutable", wrong)
		}
	}
	if code, _, _ := h.fetchRaw(rc, http.MethodGet, "/static/", nil); code != http.StatusNotFound {
		t.Errorf("/static/ lists the directory: %d", code)
	}
}

// TestFeedAndBriefingValidators: the feeds and the briefing carry ETag and
// Last-Modified and answer 304 on a match; If-None-Match wins over
// If-Modified-Since; a change makes the old validators fail; per-user
// pages never share an ETag; public feeds may be kept by shared caches,
// private answers only by the user's own.
func TestFeedAndBriefingValidators(t *testing.T) {
	for _, public := range []bool{true, false} {
		t.Run(map[bool]string{true: "public", false: "private"}[public], func(t *testing.T) {
			h := newHarness(t, func(c *Config) { c.Settings.Briefing.Public = public })
			h.approveMany(2)
			rdr, _ := h.store.GetUser(context.Background(), testUsers[model.RoleReader])
			tok, _ := h.server.Auth().FeedToken(context.Background(), rdr)
			rc := rawClient(h.client)
			feedQ := ""
			if !public {
				feedQ = "?token=" + url.QueryEscape(tok)
			}
			for _, p := range []string{"/", "/feed.atom" + feedQ, "/feed.json" + feedQ} {
				code, hdr, _ := h.fetchRaw(rc, http.MethodGet, p, nil)
				etag, lm := hdr.Get("ETag"), hdr.Get("Last-Modified")
				if code != 200 || etag == "" || lm == "" {
					t.Fatalf("%s: %d ETag %q Last-Modified %q", p, code, etag, lm)
				}
				wantCC := "private, no-cache"
				if public && p != "/" {
					wantCC = "public, no-cache"
				}
				if hdr.Get("Cache-Control") != wantCC {
					t.Errorf("%s: Cache-Control %q, want %q", p, hdr.Get("Cache-Control"), wantCC)
				}
				for _, tc := range []struct {
					name string
					hdr  map[string]string
					want int
				}{
					{"matching If-None-Match", map[string]string{"If-None-Match": etag}, 304},
					{"If-None-Match list", map[string]string{"If-None-Match": `"x", ` + etag}, 304},
					{"If-None-Match *", map[string]string{"If-None-Match": "*"}, 304},
					{"If-Modified-Since", map[string]string{"If-Modified-Since": lm}, 304},
					{"stale If-None-Match wins", map[string]string{"If-None-Match": `W/"stale"`, "If-Modified-Since": lm}, 200},
					{"older If-Modified-Since", map[string]string{"If-Modified-Since": "Mon, 02 Jan 2006 15:04:05 GMT"}, 200},
				} {
					code, rh, body := h.fetchRaw(rc, http.MethodGet, p, tc.hdr)
					if code != tc.want {
						t.Errorf("%s with %s: %d, want %d", p, tc.name, code, tc.want)
					}
					if code == 304 && (len(body) != 0 || rh.Get("ETag") != etag || rh.Get("Cache-Control") != wantCC) {
						t.Errorf("%s with %s: 304 with %d bytes, ETag %q, Cache-Control %q", p, tc.name, len(body), rh.Get("ETag"), rh.Get("Cache-Control"))
					}
				}
				// A change (a second later) invalidates both validators.
				h.clock.Add(61 * time.Second)
				h.approveMany(1)
				for name, cond := range map[string]map[string]string{"If-None-Match": {"If-None-Match": etag}, "If-Modified-Since": {"If-Modified-Since": lm}} {
					if code, _, _ := h.fetchRaw(rc, http.MethodGet, p, cond); code != 200 {
						t.Errorf("%s with the old %s after a change: %d", p, name, code)
					}
				}
			}
			// A stale session cookie is cleared: that answer is no one
			// else's to keep.
			req, _ := http.NewRequest(http.MethodGet, h.srv.URL+"/feed.atom"+feedQ, nil)
			req.AddCookie(&http.Cookie{Name: sessionCookie, Value: "stale"})
			res, err := rawClient(nil).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != 200 || res.Header.Get("Set-Cookie") == "" || res.Header.Get("Cache-Control") != "private, no-cache" {
				t.Errorf("feed clearing a stale cookie: %d Set-Cookie %q Cache-Control %q", res.StatusCode, res.Header.Get("Set-Cookie"), res.Header.Get("Cache-Control"))
			}
			// Per-user content: the briefing of two users differs, so do
			// their ETags, and one's ETag is no 304 for the other.
			var tags []string
			for _, role := range []model.Role{model.RoleReader, model.RoleCurator} {
				_, hdr, _ := h.fetchRaw(rawClient(h.as(role)), http.MethodGet, "/", nil)
				tags = append(tags, hdr.Get("ETag"))
			}
			if tags[0] == tags[1] {
				t.Errorf("reader and curator share the briefing's ETag %s", tags[0])
			}
			if code, _, _ := h.fetchRaw(rawClient(h.as(model.RoleReader)), http.MethodGet, "/", map[string]string{"If-None-Match": tags[1]}); code != 200 {
				t.Errorf("the curator's ETag answered the reader with %d", code)
			}
		})
	}
}

type atomIDs struct {
	ID    string `xml:"id"`
	Links []struct {
		Rel  string `xml:"rel,attr"`
		Href string `xml:"href,attr"`
	} `xml:"link"`
}

func (a atomIDs) self() string {
	for _, l := range a.Links {
		if l.Rel == "self" {
			return l.Href
		}
	}
	return ""
}

// TestFeedIDsIgnoreHost: atom:id and the self links come from base_url or
// the configured address, never from Host or X-Forwarded-Host (RFC 4287
// §4.2.6: an id does not change).
func TestFeedIDsIgnoreHost(t *testing.T) {
	for _, base := range []string{"", "https://news.example.org/clips/"} {
		// The test client is a trusted proxy: even its X-Forwarded-* must
		// not move the ids.
		h := newHarness(t, func(c *Config) { c.Settings.BaseURL = base; c.Settings.TrustedProxies = []string{"127.0.0.1"} })
		h.approveMany(1)
		wantBase := strings.TrimRight(base, "/")
		if base == "" {
			wantBase = "http://" + h.server.cfg.Settings.Addr
		}
		rc := rawClient(nil)
		for _, hdr := range []map[string]string{nil, {"Host": "evil.example"}, {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"}} {
			req, _ := http.NewRequest(http.MethodGet, h.srv.URL+"/feed.atom", nil)
			if hdr != nil {
				for k, v := range hdr {
					req.Header.Set(k, v)
				}
				req.Host = hdr["Host"]
			}
			res, err := rc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var f atomIDs
			err = xml.NewDecoder(res.Body).Decode(&f)
			res.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if f.ID != wantBase+"/" || f.self() != wantBase+"/feed.atom" {
				t.Errorf("base_url %q, headers %v: id %q self %q, want %s/", base, hdr, f.ID, f.self(), wantBase)
			}
			req, _ = http.NewRequest(http.MethodGet, h.srv.URL+"/feed.json", nil)
			for k, v := range hdr {
				req.Header.Set(k, v)
			}
			req.Host = hdr["Host"]
			res, err = rc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var jf jsonFeed
			err = json.NewDecoder(res.Body).Decode(&jf)
			res.Body.Close()
			if err != nil || jf.FeedURL != wantBase+"/feed.json" || jf.HomePageURL != wantBase+"/" {
				t.Errorf("base_url %q, headers %v: JSON feed_url %q home %q (%v)", base, hdr, jf.FeedURL, jf.HomePageURL, err)
			}
		}
	}
}

// TestPrivateFeedChallengeAndSelfLinks: a 401 on a private feed names its
// scheme in WWW-Authenticate, and the self link and feed_url of a private
// feed keep the token, so following them works. The server has no
// base_url: the links use its configured address, on which it listens.
func TestPrivateFeedChallengeAndSelfLinks(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, privateBriefing, func(c *Config) { c.Settings.Addr = ln.Addr().String() })
	srv := &http.Server{Handler: h.server, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	h.approveMany(1)
	anon := rawClient(nil)
	for _, p := range []string{"/feed.atom", "/feed.json", "/feed.atom?token=rdr.nonsense"} {
		code, hdr, _ := h.fetchRaw(anon, http.MethodGet, p, nil)
		if code != http.StatusUnauthorized || !strings.Contains(hdr.Get("WWW-Authenticate"), `realm="clipsheet"`) {
			t.Errorf("%s: %d WWW-Authenticate %q", p, code, hdr.Get("WWW-Authenticate"))
		}
	}
	rdr, _ := h.store.GetUser(context.Background(), testUsers[model.RoleReader])
	tok, _ := h.server.Auth().FeedToken(context.Background(), rdr)
	follow := func(link string) []byte {
		t.Helper()
		if !strings.HasPrefix(link, "http://"+ln.Addr().String()+"/") {
			t.Fatalf("link %q is not on the configured address %s", link, ln.Addr())
		}
		res, err := anon.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 {
			t.Errorf("following %s: %d", link, res.StatusCode)
		}
		return b
	}
	_, _, body := h.fetchRaw(anon, http.MethodGet, "/feed.atom?token="+url.QueryEscape(tok), nil)
	var f atomIDs
	if err := xml.Unmarshal(body, &f); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(f.ID, tok) {
		t.Errorf("atom:id %q holds the token", f.ID)
	}
	if again := follow(f.self()); !bytes.Equal(again, body) {
		t.Errorf("the self link %s gives another document", f.self())
	}
	_, _, body = h.fetchRaw(anon, http.MethodGet, "/feed.json?token="+url.QueryEscape(tok), nil)
	var jf jsonFeed
	if err := json.Unmarshal(body, &jf); err != nil {
		t.Fatal(err)
	}
	if again := follow(jf.FeedURL); !bytes.Equal(again, body) {
		t.Errorf("feed_url %s gives another document", jf.FeedURL)
	}
}

// routeMatches reports whether a gin route pattern matches a concrete path.
func routeMatches(pattern, path string) bool {
	ps, cs := strings.Split(pattern, "/"), strings.Split(path, "/")
	for i, seg := range ps {
		if strings.HasPrefix(seg, "*") {
			return i < len(cs)
		}
		if i >= len(cs) || (!strings.HasPrefix(seg, ":") && seg != cs[i]) || (strings.HasPrefix(seg, ":") && cs[i] == "") {
			return false
		}
	}
	return len(ps) == len(cs)
}

// TestMethodNotAllowedCarriesAllow: every path answers a method it lacks
// with 405 and an Allow header listing exactly the methods it has (HEAD
// with GET); API paths in the JSON error shape. No redirect to a
// trailing slash first.
func TestMethodNotAllowedCarriesAllow(t *testing.T) {
	h := newAccessHarness(t)
	admin := h.as(model.RoleAdmin)
	csrf := h.csrfOf(admin, "/account")
	methods := []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}
	paths := map[string]bool{"/api/v1/sources": true, "/api/v1/sections": true}
	for _, r := range h.server.Routes() {
		p := routeAccess[r.Method+" "+r.Path].path
		if p == "" {
			p = concretePath(r.Path)
		}
		paths[p] = true
	}
	checked := 0
	for p := range paths {
		var allowed []string
		has := map[string]bool{}
		for _, r := range h.server.Routes() {
			if routeMatches(r.Path, p) && !has[r.Method] {
				has[r.Method] = true
				allowed = append(allowed, r.Method)
			}
		}
		if has[http.MethodGet] && !has[http.MethodHead] {
			has[http.MethodHead] = true
			allowed = append(allowed, http.MethodHead)
		}
		sort.Strings(allowed)
		for _, m := range methods {
			if has[m] {
				continue
			}
			req, _ := http.NewRequest(m, h.srv.URL+p, strings.NewReader(`{}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(csrfHeader, csrf)
			res, err := admin.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			got := strings.Split(strings.ReplaceAll(res.Header.Get("Allow"), " ", ""), ",")
			sort.Strings(got)
			if res.StatusCode != http.StatusMethodNotAllowed || strings.Join(got, ",") != strings.Join(allowed, ",") {
				t.Errorf("%s %s: %d Allow %q, want 405 Allow %v (Location %q)", m, p, res.StatusCode, res.Header.Get("Allow"), allowed, res.Header.Get("Location"))
			}
			if strings.HasPrefix(p, "/api/") && !strings.Contains(string(body), `"code":"method_not_allowed"`) {
				t.Errorf("%s %s: not the JSON error shape: %s", m, p, body)
			}
			checked++
		}
	}
	t.Logf("checked %d path × method pairs", checked)
	// API paths that do not exist answer in the API's shape, with no
	// detour through a trailing-slash redirect.
	bearer := h.token(model.RoleAdmin)
	for _, p := range []string{"/api/v1", "/api/v1/", "/api/v1/items/", "/api/v1/nope", "/api"} {
		code, body := h.apiCall(bearer, http.MethodGet, p, "")
		if code != http.StatusNotFound || apiErrCode(body) != "not_found" {
			t.Errorf("GET %s: %d %v", p, code, body)
		}
	}
	// Pages keep their trailing-slash redirect.
	code, _, hdr := h.getWith(admin, "/queue/")
	if code != http.StatusMovedPermanently || hdr.Get("Location") != "/queue" {
		t.Errorf("/queue/: %d %q", code, hdr.Get("Location"))
	}
}

// TestOversizedBodyIs413: a form or JSON body over the limit is refused
// with 413 and a message that says so (a page for pages, JSON for the
// API), not as a missing CSRF token; also when sent without a length.
func TestOversizedBodyIs413(t *testing.T) {
	h := newHarness(t)
	a := h.add("https://example.com/a", "T", "L", "Top stories")
	csrf := h.csrf()
	big := strings.Repeat("x", maxBody+10)
	form := url.Values{"csrf_token": {csrf}, "note": {big}}.Encode()
	bearer := h.token(model.RoleCurator)
	for _, chunked := range []bool{false, true} {
		for _, tc := range []struct {
			path, ctype, body, want string
		}{
			{"/items/" + a.ID + "/edit", "application/x-www-form-urlencoded", form, "larger than the 1 MB"},
			{"/api/v1/items/" + a.ID, "application/json", `{"note":"` + big + `"}`, `"code":"too_large"`},
		} {
			var body io.Reader = strings.NewReader(tc.body)
			if chunked {
				body = io.MultiReader(body) // hides the length: sent chunked
			}
			method := http.MethodPost
			if strings.HasPrefix(tc.path, "/api/") {
				method = http.MethodPatch
			}
			req, _ := http.NewRequest(method, h.srv.URL+tc.path, body)
			req.Header.Set("Content-Type", tc.ctype)
			if strings.HasPrefix(tc.path, "/api/") {
				req.Header.Set("Authorization", "Bearer "+bearer)
			}
			res, err := h.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(b), tc.want) {
				t.Errorf("%s (chunked %v): %d %.300s", tc.path, chunked, res.StatusCode, b)
			}
			if ct := res.Header.Get("Content-Type"); strings.HasPrefix(tc.path, "/api/") != strings.HasPrefix(ct, "application/json") {
				t.Errorf("%s: Content-Type %q", tc.path, ct)
			}
		}
	}
	if it := mustItem(t, h, a.ID); it.Note != "" {
		t.Error("the oversized edit was applied")
	}
}

// TestSetupAfterSetupIsThe404Page: once an admin exists, /setup is the
// site's ordinary 404 page, for GET and POST, with or without a token.
func TestSetupAfterSetupIsThe404Page(t *testing.T) {
	h := newHarness(t)
	c := h.newClient()
	csrf := h.csrfOf(c, "/login")
	_, want, _ := h.getWith(c, "/no/such/page")
	for _, tc := range []struct {
		method, path string
		form         url.Values
	}{
		{http.MethodGet, "/setup", nil},
		{http.MethodGet, "/setup?token=guess", nil},
		{http.MethodHead, "/setup", nil},
		{http.MethodPost, "/setup", url.Values{"csrf_token": {csrf}, "token": {"guess"}, "name": {"x"}, "password": {testPassword}, "confirm": {testPassword}}},
		{http.MethodPost, "/setup", url.Values{"token": {"guess"}}},
	} {
		req, _ := http.NewRequest(tc.method, h.srv.URL+tc.path, strings.NewReader(tc.form.Encode()))
		if tc.form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
			t.Errorf("%s %s: %d %s", tc.method, tc.path, res.StatusCode, res.Header.Get("Content-Type"))
		}
		if tc.method != http.MethodHead && string(b) != want {
			t.Errorf("%s %s is not the 404 page:\n%s", tc.method, tc.path, b)
		}
	}
}

// TestSetupFormNeedsCSRF: while the setup link is live its form needs the
// CSRF token like any other (the access table skips /setup, which is the
// 404 page there).
func TestSetupFormNeedsCSRF(t *testing.T) {
	h, tok := newSetupHarness(t)
	c := h.newClient()
	csrf := h.csrfOf(c, "/setup?token="+tok)
	form := url.Values{"token": {tok}, "name": {"chief"}, "password": {testPassword}, "confirm": {testPassword}}
	for name, token := range map[string]string{"missing": "", "wrong": strings.Repeat("x", len(csrf))} {
		f := url.Values{"csrf_token": {token}}
		for k, v := range form {
			f[k] = v
		}
		if code, _ := h.postWith(c, "/setup", f, nil); code != http.StatusForbidden {
			t.Errorf("setup with a %s CSRF token: %d, want 403", name, code)
		}
	}
	form.Set("csrf_token", csrf)
	if code, _ := h.postWith(c, "/setup", form, nil); code != http.StatusSeeOther {
		t.Fatalf("setup: %d", code)
	}
	_, want, _ := h.getWith(h.newClient(), "/no/such/page")
	for _, tok := range []string{"", tok} {
		code, body, _ := h.getWith(h.newClient(), "/setup?token="+tok)
		if code != http.StatusNotFound || body != want {
			t.Errorf("/setup?token=%s after setup: %d, not the 404 page", tok, code)
		}
	}
}

func TestFeedBase(t *testing.T) {
	for _, tc := range []struct{ addr, base, cert, want string }{
		{"127.0.0.1:8080", "", "", "http://127.0.0.1:8080"},
		{":8080", "", "", "http://localhost:8080"},
		{"0.0.0.0:80", "", "", "http://localhost"},
		{"[::]:8443", "", "c.pem", "https://localhost:8443"},
		{"[::1]:443", "", "c.pem", "https://[::1]"},
		{"desk.internal:8080", "", "", "http://desk.internal:8080"},
		{"127.0.0.1:8080", "https://news.example.org/", "", "https://news.example.org"},
	} {
		s := &Server{cfg: Config{Settings: config.DefaultSettings()}}
		s.cfg.Settings.Addr, s.cfg.Settings.BaseURL, s.cfg.Settings.TLS.Cert = tc.addr, tc.base, tc.cert
		if got := s.feedBase(); got != tc.want {
			t.Errorf("addr %q base_url %q cert %q: %q, want %q", tc.addr, tc.base, tc.cert, got, tc.want)
		}
	}
}

func TestETagListMatches(t *testing.T) {
	for _, tc := range []struct {
		list, etag string
		want       bool
	}{
		{`W/"abc"`, `W/"abc"`, true},
		{`"abc"`, `W/"abc"`, true}, // weak comparison
		{`W/"abc"`, `"abc"`, true},
		{`"x", W/"abc"`, `W/"abc"`, true},
		{`"a,b", "abc"`, `"abc"`, true},
		{`"a,b"`, `"b"`, false},
		{`*`, `"abc"`, true},
		{`"abcd"`, `"abc"`, false},
		{`abc`, `"abc"`, false},
		{``, `"abc"`, false},
	} {
		if got := etagListMatches(tc.list, tc.etag); got != tc.want {
			t.Errorf("etagListMatches(%q, %q) = %v", tc.list, tc.etag, got)
		}
	}
}

// TestEvery401NamesAChallenge: RFC 9110 §11.6.1 requires WWW-Authenticate
// on every 401, whichever way the caller fell short: anonymous on each GET
// route of a private site (pages asked for JSON by a script, the API,
// feeds), a malformed or unknown bearer token, and a wrong password.
func TestEvery401NamesAChallenge(t *testing.T) {
	h := newAccessHarness(t, privateBriefing)
	rc := rawClient(h.newClient())
	type probe struct {
		what string
		path string
		hdr  map[string]string
	}
	var probes []probe
	for route, path := range getRoutes(t, h) {
		probes = append(probes, probe{"anonymous GET " + route + " (Accept: application/json)", path, map[string]string{"Accept": "application/json"}})
	}
	probes = append(probes,
		probe{"Basic credentials on the API", "/api/v1/me", map[string]string{"Authorization": "Basic YTpi"}},
		probe{"unknown bearer token", "/api/v1/me", map[string]string{"Authorization": "Bearer cst_nope"}},
		probe{"bad feed token", "/feed.json?token=nope", nil},
	)
	seen := 0
	for _, p := range probes {
		code, hdr, _ := h.fetchRaw(rc, http.MethodGet, p.path, p.hdr)
		if code != http.StatusUnauthorized {
			continue
		}
		seen++
		if hdr.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: 401 without WWW-Authenticate", p.what)
		}
	}
	if seen < 5 {
		t.Fatalf("only %d probes answered 401; the test no longer reaches the cases it is about", seen)
	}
	code, hdr := h.tryLogin(h.newClient(), testUsers[model.RoleCurator], "not the password")
	if code != http.StatusUnauthorized || hdr.Get("WWW-Authenticate") == "" {
		t.Errorf("wrong password: %d with WWW-Authenticate %q, want 401 with a challenge", code, hdr.Get("WWW-Authenticate"))
	}
}
