package web

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/clipsheet/clipsheet/internal/config"
	"github.com/clipsheet/clipsheet/internal/fetch"
	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/sourcesfile"
)

// routeRule is the least role a route needs and what an allowed caller
// gets. "any" routes are open to all; "briefing" ones follow
// briefing.public.
type routeRule struct {
	min string
	// path is the concrete path to request (parameters filled with names
	// that do not exist, so allowed requests change nothing).
	path string
	// want is the exact status an allowed caller gets. Denied callers get
	// 302 to /login (anonymous, pages), 401 (anonymous, API and feeds) or
	// 403 (signed in with too weak a role).
	want int
	// signedIn, when set, is what a signed-in caller gets instead of want
	// (the login page sends them on).
	signedIn int
}

// routeAccess must list every registered route: a route added without an
// entry here fails TestEveryRouteEnforcesItsRole, which walks the router's
// own route list.
var routeAccess = map[string]routeRule{
	"GET /healthz":                     {min: "any", want: 200},
	"GET /readyz":                      {min: "any", want: 200},
	"GET /metrics":                     {min: "admin", want: 200},
	"GET /admin/status":                {min: "admin", want: 200},
	"POST /admin/status/compact":       {min: "admin", want: 200}, // the confirmation page
	"GET /static/*filepath":            {min: "any", path: "/static/app.js", want: 200},
	"GET /login":                       {min: "any", want: 200, signedIn: 303},
	"POST /login":                      {min: "any", want: 401}, // wrong password
	"GET /setup":                       {min: "any", want: 404}, // no live setup token
	"POST /setup":                      {min: "any", want: 404},
	"GET /":                            {min: "briefing", want: 200},
	"GET /feed.atom":                   {min: "briefing", want: 200},
	"GET /feed.json":                   {min: "briefing", want: 200},
	"GET /api/v1/briefing":             {min: "briefing", want: 200},
	"GET /feed.rss":                    {min: "briefing", want: 200},
	"GET /editions":                    {min: "briefing", want: 200},
	"GET /editions/:id":                {min: "briefing", want: 404},
	"GET /editions/:id/text":           {min: "briefing", want: 404},
	"GET /items/:id":                   {min: "briefing", want: 404},
	"GET /api/v1/editions":             {min: "briefing", want: 200},
	"GET /api/v1/editions/:id":         {min: "briefing", want: 404},
	"GET /editions/next":               {min: "curator", want: 200},
	"POST /editions/next/move":         {min: "curator", want: 404}, // no such story
	"POST /editions/next/section":      {min: "curator", want: 422}, // no section
	"POST /editions/next/pin":          {min: "curator", want: 404},
	"POST /editions/next/place":        {min: "curator", want: 404},
	"POST /editions/next/publish":      {min: "curator", want: 409}, // nothing approved
	"GET /editions/:id/correct":        {min: "curator", want: 404},
	"POST /editions/:id/correct":       {min: "curator", want: 404},
	"POST /api/v1/editions":            {min: "curator", want: 409},
	"POST /logout":                     {min: "reader", want: 303},
	"GET /account":                     {min: "reader", want: 200},
	"POST /account/password":           {min: "reader", want: 422}, // no current password
	"POST /account/logout-everywhere":  {min: "reader", want: 303},
	"POST /account/tokens":             {min: "reader", want: 200},
	"POST /account/tokens/:id/revoke":  {min: "reader", want: 404},
	"POST /account/feed-token":         {min: "reader", want: 200}, // the confirmation page
	"GET /api/v1/me":                   {min: "reader", want: 200},
	"GET /queue":                       {min: "curator", want: 200},
	"GET /clip":                        {min: "curator", want: 200},
	"POST /clip":                       {min: "curator", want: 422}, // no address
	"POST /api/v1/clip":                {min: "curator", want: 422}, // no address
	"POST /items/:id/approve":          {min: "curator", want: 404},
	"POST /items/:id/reject":           {min: "curator", want: 404},
	"POST /items/:id/requeue":          {min: "curator", want: 404},
	"POST /items/:id/edit":             {min: "curator", want: 404},
	"GET /api/v1/items":                {min: "curator", want: 200},
	"GET /api/v1/items/:id":            {min: "curator", want: 404},
	"PATCH /api/v1/items/:id":          {min: "curator", want: 400}, // empty patch
	"POST /api/v1/items/:id/approve":   {min: "curator", want: 404},
	"POST /api/v1/items/:id/reject":    {min: "curator", want: 404},
	"GET /admin/users":                 {min: "admin", want: 200},
	"POST /admin/users":                {min: "admin", want: 422}, // no password
	"POST /admin/users/:name/role":     {min: "admin", want: 422}, // no role
	"POST /admin/users/:name/password": {min: "admin", want: 422}, // no password
	"POST /admin/users/:name/disable":  {min: "admin", want: 404},
	"POST /admin/users/:name/enable":   {min: "admin", want: 404},
	"POST /admin/users/:name/remove":   {min: "admin", want: 404},
	"GET /admin/audit":                 {min: "admin", want: 200},
	"GET /admin/backup":                {min: "admin", want: 200},
	"GET /admin/backup/download":       {min: "admin", want: 200},
	"GET /api/v1/users":                {min: "admin", want: 200},
	"GET /api/v1/audit":                {min: "admin", want: 200},
	"GET /admin/rules":                 {min: "admin", want: 200},
	"GET /admin/rules/new":             {min: "admin", want: 200},
	"POST /admin/rules/new":            {min: "admin", want: 422}, // no name, no pattern
	"GET /admin/rules/:id":             {min: "admin", want: 404},
	"POST /admin/rules/:id":            {min: "admin", want: 422},
	"POST /admin/rules/:id/delete":     {min: "admin", want: 404},
	"GET /api/v1/rules":                {min: "admin", want: 200},
	"POST /api/v1/rules":               {min: "admin", want: 422}, // no name, no pattern
	"POST /api/v1/rule-test":           {min: "admin", want: 422},
	"GET /api/v1/rules/:id":            {min: "admin", want: 404},
	"PUT /api/v1/rules/:id":            {min: "admin", want: 422},
	"DELETE /api/v1/rules/:id":         {min: "admin", want: 404},

	// Source administration (sources*.go): admin only.
	"GET /admin/sources":                 {min: "admin", want: 200},
	"GET /admin/sources.opml":            {min: "admin", want: 200},
	"GET /admin/sources/new":             {min: "admin", want: 200},
	"POST /admin/sources/new":            {min: "admin", want: 422}, // no URL
	"GET /admin/sources/edit":            {min: "admin", want: 404}, // no such source
	"POST /admin/sources/edit":           {min: "admin", want: 404},
	"POST /admin/sources/delete":         {min: "admin", want: 404},
	"POST /admin/sources/toggle":         {min: "admin", want: 404},
	"POST /admin/sources/moved":          {min: "admin", want: 404},
	"POST /admin/sources/poll":           {min: "admin", want: 404}, // no such source
	"GET /admin/sources/sections":        {min: "admin", want: 200},
	"POST /admin/sources/sections":       {min: "admin", want: 400}, // no action
	"GET /admin/sources/import":          {min: "admin", want: 200},
	"POST /admin/sources/import":         {min: "admin", want: 400}, // no file
	"POST /admin/sources/import/confirm": {min: "admin", want: 422}, // nothing picked
	"GET /api/v1/sources":                {min: "admin", want: 200},
	"POST /api/v1/sources":               {min: "admin", want: 422}, // no name, no URL
	"GET /api/v1/sources/*name":          {min: "admin", want: 404},
	"PUT /api/v1/sources/*name":          {min: "admin", want: 404},
	"DELETE /api/v1/sources/*name":       {min: "admin", want: 404},
	"GET /api/v1/sections":               {min: "admin", want: 200},
	"POST /api/v1/sections":              {min: "admin", want: 422}, // no name
	"GET /api/v1/sections/*name":         {min: "admin", want: 404},
	"PUT /api/v1/sections/*name":         {min: "admin", want: 404},
	"DELETE /api/v1/sections/*name":      {min: "admin", want: 404},
}

// concretePath fills route parameters with values that match nothing.
func concretePath(route string) string {
	var out []string
	for _, seg := range strings.Split(route, "/") {
		switch {
		case strings.HasPrefix(seg, ":"), strings.HasPrefix(seg, "*"):
			seg = "no-such-" + strings.Trim(seg, ":*")
		}
		out = append(out, seg)
	}
	return strings.Join(out, "/")
}

func roleRank(r string) int {
	switch r {
	case "any":
		return 0
	case "reader":
		return 1
	case "curator":
		return 2
	case "admin":
		return 3
	}
	panic("unknown rule " + r)
}

// caller is one kind of visitor in the access table.
type caller struct {
	name string
	rank int
	role model.Role
}

var callers = []caller{{"anonymous", 0, ""}, {"reader", 1, model.RoleReader}, {"curator", 2, model.RoleCurator}, {"admin", 3, model.RoleAdmin}}

// newAccessHarness is the harness with everything a route needs to answer
// for real: an editable sources.yaml (so the source pages answer rather
// than saying they are unavailable) and a real fetcher behind preview.
func newAccessHarness(t *testing.T, opts ...harnessOpt) *harness {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sources.yaml")
	data := "sections: [Top stories, Cyber]\nsources:\n  - name: Example\n    url: http://127.0.0.1:9/feed.xml\n    section: Top stories\n"
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
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
	opts = append(opts, func(c *Config) {
		c.Sources = live.Current
		c.SourceAdmin = SourceAdmin{File: file, Tester: &lazyTester{env: env}}
	})
	h := newHarness(t, opts...)
	fc := config.DefaultSettings().Fetch
	fc.AllowPrivate = true
	fc.Timeout = 5 * time.Second
	env.fetcher = fetch.New(h.store, fc, 400, slog.New(slog.DiscardHandler))
	t.Cleanup(env.fetcher.Close)
	return h
}

// checkRegistered fails for a registered route without a rule and a rule
// without a route.
func checkRegistered(t *testing.T, h *harness) {
	t.Helper()
	registered := map[string]bool{}
	for _, r := range h.server.Routes() {
		key := r.Method + " " + r.Path
		registered[key] = true
		if _, ok := routeAccess[key]; !ok {
			t.Errorf("route %s has no entry in routeAccess: decide who may use it", key)
		}
	}
	for k := range routeAccess {
		if !registered[k] {
			t.Errorf("routeAccess lists %s, which is not a route", k)
		}
	}
}

func sortedRoutes() []string {
	var keys []string
	for k := range routeAccess {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// isMachinePath is where anonymous callers get 401 instead of a redirect.
func isMachinePath(path string) bool {
	return strings.HasPrefix(path, "/api/") || strings.HasPrefix(path, "/feed.") || path == "/metrics"
}

// expectStatus is what caller p should get from the route under rule, and
// where a 302 must point.
func expectStatus(rule routeRule, path string, p caller, public bool) (int, string) {
	min := rule.min
	if min == "briefing" {
		min = "reader"
		if public {
			min = "any"
		}
	}
	switch {
	case p.rank >= roleRank(min):
		if p.rank > 0 && rule.signedIn != 0 {
			return rule.signedIn, ""
		}
		return rule.want, ""
	case p.rank > 0:
		return http.StatusForbidden, ""
	case isMachinePath(path):
		return http.StatusUnauthorized, ""
	default:
		return http.StatusFound, "/login?next="
	}
}

// TestEveryRouteEnforcesItsRole sends every registered route to every
// role signed in with a browser session, with a valid CSRF token so that
// what the table sees is the role gate, and asserts the exact status:
// 2xx/3xx/4xx of the handler for allowed roles, 302 to the login page or
// 401 for anonymous callers, 403 for signed-in users below the route's
// role. It runs with a private and with a public briefing.
func TestEveryRouteEnforcesItsRole(t *testing.T) {
	for _, public := range []bool{false, true} {
		t.Run(map[bool]string{false: "private", true: "public"}[public], func(t *testing.T) {
			h := newAccessHarness(t, func(c *Config) { c.Settings.Briefing.Public = public })
			checkRegistered(t, h)
			checked := 0
			for _, key := range sortedRoutes() {
				rule := routeAccess[key]
				if rule.want == 0 {
					t.Fatalf("%s: no expected status", key)
				}
				method, route, _ := strings.Cut(key, " ")
				path := rule.path
				if path == "" {
					path = concretePath(route)
				}
				for _, p := range callers {
					client := h.newClient()
					csrfPage := "/login"
					if p.role != "" {
						h.login(client, testUsers[p.role])
						csrfPage = "/account"
					}
					token := h.csrfOf(client, csrfPage)
					res, err := client.Do(h.request(method, path, token))
					if err != nil {
						t.Fatal(err)
					}
					res.Body.Close()
					want, loc := expectStatus(rule, path, p, public)
					if res.StatusCode != want || !strings.HasPrefix(res.Header.Get("Location"), loc) {
						t.Errorf("%s as %s: %d %q, want %d %q", key, p.name, res.StatusCode, res.Header.Get("Location"), want, loc)
					}
					checked++
				}
			}
			t.Logf("checked %d route × role pairs", checked)
		})
	}
}

// TestEveryRouteWithTokens is the same table for callers without a browser
// session: API routes with each role's bearer token, feeds with each
// role's feed token. Tokens open nothing else: a bearer token on a page
// or a feed token on the API is as good as nothing.
func TestEveryRouteWithTokens(t *testing.T) {
	h := newAccessHarness(t, privateBriefing)
	ctx := context.Background()
	bearer, feed := map[model.Role]string{}, map[model.Role]string{}
	for role, name := range testUsers {
		bearer[role] = h.token(role)
		u, err := h.store.GetUser(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if feed[role], err = h.server.Auth().FeedToken(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	noCookies := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	// do sends req; every API error must come in the API's error shape.
	do := func(req *http.Request) (int, string) {
		t.Helper()
		res, err := noCookies.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if strings.HasPrefix(req.URL.Path, "/api/") && res.StatusCode >= 400 {
			var e struct {
				Error struct {
					Code    string `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
			}
			if err := json.NewDecoder(res.Body).Decode(&e); err != nil || e.Error.Code == "" || e.Error.Message == "" ||
				!strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
				t.Errorf("%s %s: %d is not a JSON API error (%v, %+v)", req.Method, req.URL.Path, res.StatusCode, err, e)
			}
		}
		return res.StatusCode, res.Header.Get("Location")
	}
	checked := 0
	for _, key := range sortedRoutes() {
		rule := routeAccess[key]
		method, route, _ := strings.Cut(key, " ")
		path := rule.path
		if path == "" {
			path = concretePath(route)
		}
		for _, p := range callers {
			switch {
			case strings.HasPrefix(path, "/api/") || path == "/metrics":
				// /metrics is for scrapers: an admin's API token reads it.
				req := h.request(method, path, "")
				req.Header.Del(csrfHeader)
				if p.role != "" {
					req.Header.Set("Authorization", "Bearer "+bearer[p.role])
				}
				want, _ := expectStatus(rule, path, p, false)
				if code, _ := do(req); code != want {
					t.Errorf("%s with %s's bearer token: %d, want %d", key, p.name, code, want)
				}
				if p.role != "" {
					// The feed token is no API credential.
					req := h.request(method, path+"?token="+url.QueryEscape(feed[p.role]), "")
					req.Header.Del(csrfHeader)
					if code, _ := do(req); code != http.StatusUnauthorized {
						t.Errorf("%s with %s's feed token: %d, want 401", key, p.name, code)
					}
				}
			case strings.HasPrefix(path, "/feed."):
				q := ""
				if p.role != "" {
					q = "?token=" + url.QueryEscape(feed[p.role])
				}
				want, _ := expectStatus(rule, path, p, false)
				if code, _ := do(h.request(method, path+q, "")); code != want {
					t.Errorf("%s with %s's feed token: %d, want %d", key, p.name, code, want)
				}
			default:
				if rule.min == "any" || p.role == "" {
					continue
				}
				// A page with a bearer token is an anonymous request.
				req := h.request(method, path, "")
				req.Header.Set("Authorization", "Bearer "+bearer[p.role])
				if code, loc := do(req); code != http.StatusFound || !strings.HasPrefix(loc, "/login") {
					t.Errorf("page %s with %s's bearer token: %d %q, want 302 to /login", key, p.name, code, loc)
				}
			}
			checked++
		}
	}
	t.Logf("checked %d route × credential pairs", checked)
}

// request builds a request carrying a valid CSRF token, so that what the
// table sees is the role gate, not the CSRF check.
func (h *harness) request(method, path, csrf string) *http.Request {
	var req *http.Request
	switch {
	case strings.HasPrefix(path, "/api/") && (method == http.MethodPatch || method == http.MethodPost || method == http.MethodPut):
		req, _ = http.NewRequest(method, h.srv.URL+path, strings.NewReader(`{}`))
		req.Header.Set("Content-Type", "application/json")
	case method == http.MethodPost:
		form := url.Values{"csrf_token": {csrf}, "name": {"table-check"}}
		req, _ = http.NewRequest(method, h.srv.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	default:
		req, _ = http.NewRequest(method, h.srv.URL+path, nil)
	}
	req.Header.Set(csrfHeader, csrf)
	return req
}

func TestPublicBriefingNeedsNoLogin(t *testing.T) {
	h := newHarness(t)
	anon := h.newClient()
	for _, p := range []string{"/", "/feed.atom", "/feed.json", "/api/v1/briefing"} {
		if code, _, _ := h.getWith(anon, p); code != http.StatusOK {
			t.Errorf("public %s: %d", p, code)
		}
	}
	if code, _, _ := h.getWith(anon, "/queue"); code != http.StatusFound {
		t.Errorf("queue must still need a login: %d", code)
	}
}

func TestNavFollowsRole(t *testing.T) {
	h := newHarness(t)
	for role, want := range map[model.Role][2]bool{
		model.RoleReader:  {false, false},
		model.RoleCurator: {true, false},
		model.RoleAdmin:   {true, true},
	} {
		_, body, _ := h.getWith(h.as(role), "/")
		if got := strings.Contains(body, `href="/queue"`); got != want[0] {
			t.Errorf("%s: queue link shown %v", role, got)
		}
		if got := strings.Contains(body, `href="/admin/users"`); got != want[1] {
			t.Errorf("%s: admin link shown %v", role, got)
		}
		if !strings.Contains(body, `action="/logout"`) {
			t.Errorf("%s: no sign-out form", role)
		}
	}
	_, body, _ := h.getWith(h.newClient(), "/")
	if strings.Contains(body, `href="/queue"`) || !strings.Contains(body, `href="/login"`) {
		t.Error("anonymous nav wrong")
	}
}

// TestEveryStateChangeNeedsCSRF sends every state-changing route, as a
// caller allowed to use it with a browser session, without a CSRF token,
// with a wrong one, with another session's and with a foreign Origin: each
// must be refused with 403 before the handler runs.
func TestEveryStateChangeNeedsCSRF(t *testing.T) {
	h := newAccessHarness(t, privateBriefing)
	checked := 0
	for _, key := range sortedRoutes() {
		rule := routeAccess[key]
		method, route, _ := strings.Cut(key, " ")
		// POST /setup is the 404 page while no setup link is live, before
		// any CSRF check; TestSetupFormNeedsCSRF covers it live.
		if !unsafeMethod(method) || key == "POST /setup" {
			continue
		}
		path := rule.path
		if path == "" {
			path = concretePath(route)
		}
		// The least role allowed, and anonymous for the sign-in forms.
		var who caller
		for _, p := range callers {
			if p.rank == roleRank(rule.min) {
				who = p
			}
		}
		client, other := h.newClient(), h.newClient()
		csrfPage := "/login"
		if who.role != "" {
			h.login(client, testUsers[who.role])
			h.login(other, testUsers[who.role])
			csrfPage = "/account"
		}
		good := h.csrfOf(client, csrfPage)
		foreign := h.csrfOf(other, csrfPage)
		for _, forged := range []struct{ name, token, origin string }{
			{"missing", "", ""},
			{"wrong", strings.Repeat("x", len(good)), ""},
			{"foreign", foreign, ""},
			{"cross-origin", good, "https://evil.example"},
		} {
			if who.role == "" && forged.name == "foreign" {
				continue // before sign-in the token is the browser's own cookie
			}
			req := h.request(method, path, forged.token)
			if forged.token == "" {
				req.Header.Del(csrfHeader)
			}
			if forged.origin != "" {
				req.Header.Set("Origin", forged.origin)
			}
			res, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusForbidden {
				t.Errorf("%s as %s, %s CSRF token: %d, want 403", key, who.name, forged.name, res.StatusCode)
			}
			checked++
		}
		// And the right token passes the check (the table above asserts
		// the exact answer).
		res, err := client.Do(h.request(method, path, good))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode == http.StatusForbidden {
			t.Errorf("%s as %s with the right token: 403", key, who.name)
		}
	}
	if checked < 40 {
		t.Fatalf("only %d checks: did the table lose its state-changing routes?", checked)
	}
	t.Logf("checked %d forged requests", checked)
}
