package web

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/clipsheet/clipsheet/internal/model"
)

// routeRule is the least role a route needs. "any" routes are open to all;
// "briefing" ones follow briefing.public.
type routeRule struct {
	min string
	// path is the concrete path to request (parameters filled with names
	// that do not exist, so allowed requests change nothing).
	path string
	// ok200 asserts exactly 200 for allowed roles (GET pages that render
	// without data).
	ok200 bool
}

// routeAccess must list every registered route: a route added without an
// entry here fails TestEveryRouteEnforcesItsRole.
var routeAccess = map[string]routeRule{
	"GET /healthz":                     {min: "any", ok200: true},
	"GET /static/*filepath":            {min: "any", path: "/static/app.js", ok200: true},
	"HEAD /static/*filepath":           {min: "any", path: "/static/app.js", ok200: true},
	"GET /login":                       {min: "any"},
	"POST /login":                      {min: "any"},
	"GET /setup":                       {min: "any"},
	"POST /setup":                      {min: "any"},
	"GET /":                            {min: "briefing", ok200: true},
	"GET /feed.atom":                   {min: "briefing", ok200: true},
	"GET /feed.json":                   {min: "briefing", ok200: true},
	"GET /api/v1/briefing":             {min: "briefing", ok200: true},
	"POST /logout":                     {min: "reader"},
	"GET /account":                     {min: "reader", ok200: true},
	"POST /account/password":           {min: "reader"},
	"POST /account/logout-everywhere":  {min: "reader"},
	"POST /account/tokens":             {min: "reader"},
	"POST /account/tokens/:id/revoke":  {min: "reader"},
	"POST /account/feed-token":         {min: "reader"},
	"GET /api/v1/me":                   {min: "reader", ok200: true},
	"GET /queue":                       {min: "curator", ok200: true},
	"POST /items/:id/approve":          {min: "curator"},
	"POST /items/:id/reject":           {min: "curator"},
	"POST /items/:id/requeue":          {min: "curator"},
	"POST /items/:id/edit":             {min: "curator"},
	"GET /api/v1/items":                {min: "curator", ok200: true},
	"GET /api/v1/items/:id":            {min: "curator"},
	"PATCH /api/v1/items/:id":          {min: "curator"},
	"POST /api/v1/items/:id/approve":   {min: "curator"},
	"POST /api/v1/items/:id/reject":    {min: "curator"},
	"GET /admin/users":                 {min: "admin", ok200: true},
	"POST /admin/users":                {min: "admin"},
	"POST /admin/users/:name/role":     {min: "admin"},
	"POST /admin/users/:name/password": {min: "admin"},
	"POST /admin/users/:name/disable":  {min: "admin"},
	"POST /admin/users/:name/enable":   {min: "admin"},
	"POST /admin/users/:name/remove":   {min: "admin"},
	"GET /admin/audit":                 {min: "admin", ok200: true},
	"GET /api/v1/users":                {min: "admin", ok200: true},
	"GET /api/v1/audit":                {min: "admin", ok200: true},

	// Source administration (sources*.go): admin only.
	"GET /admin/sources":                 {min: "admin"},
	"GET /admin/sources.opml":            {min: "admin"},
	"GET /admin/sources/new":             {min: "admin"},
	"POST /admin/sources/new":            {min: "admin"},
	"GET /admin/sources/edit":            {min: "admin"},
	"POST /admin/sources/edit":           {min: "admin"},
	"POST /admin/sources/delete":         {min: "admin"},
	"POST /admin/sources/toggle":         {min: "admin"},
	"GET /admin/sources/sections":        {min: "admin"},
	"POST /admin/sources/sections":       {min: "admin"},
	"GET /admin/sources/import":          {min: "admin"},
	"POST /admin/sources/import":         {min: "admin"},
	"POST /admin/sources/import/confirm": {min: "admin"},
	"GET /api/v1/sources":                {min: "admin"},
	"POST /api/v1/sources":               {min: "admin"},
	"GET /api/v1/sources/*name":          {min: "admin"},
	"PUT /api/v1/sources/*name":          {min: "admin"},
	"DELETE /api/v1/sources/*name":       {min: "admin"},
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

func TestEveryRouteEnforcesItsRole(t *testing.T) {
	h := newHarness(t, privateBriefing)
	registered := map[string]bool{}
	for _, r := range h.server.Routes() {
		key := r.Method + " " + r.Path
		registered[key] = true
		if _, ok := routeAccess[key]; !ok {
			t.Errorf("route %s has no entry in routeAccess: decide who may use it", key)
		}
	}
	var keys []string
	for k := range routeAccess {
		if !registered[k] {
			t.Errorf("routeAccess lists %s, which is not a route", k)
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)

	type who struct {
		name string
		rank int
		role model.Role
	}
	people := []who{{"anonymous", 0, ""}, {"reader", 1, model.RoleReader}, {"curator", 2, model.RoleCurator}, {"admin", 3, model.RoleAdmin}}
	checked := 0
	for _, key := range keys {
		rule := routeAccess[key]
		if !registered[key] {
			continue
		}
		method, route, _ := strings.Cut(key, " ")
		path := rule.path
		if path == "" {
			path = concretePath(route)
		}
		min := rule.min
		if min == "briefing" {
			min = "reader" // this harness has briefing.public: false
		}
		for _, p := range people {
			client := h.newClient()
			csrfPage := "/login"
			if p.role != "" {
				h.login(client, testUsers[p.role])
				csrfPage = "/account"
			}
			token := h.csrfOf(client, csrfPage)
			req := h.request(method, path, token)
			res, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			code, loc := res.StatusCode, res.Header.Get("Location")
			toLogin := code == http.StatusFound && strings.HasPrefix(loc, "/login")
			api := strings.HasPrefix(path, "/api/") || strings.HasPrefix(path, "/feed.")
			allowed := p.rank >= roleRank(min)
			switch {
			case allowed && (code == http.StatusUnauthorized && method != http.MethodPost || code == http.StatusForbidden || toLogin):
				t.Errorf("%s as %s: %d %s, want access", key, p.name, code, loc)
			case allowed && rule.ok200 && code != http.StatusOK:
				t.Errorf("%s as %s: %d, want 200", key, p.name, code)
			case !allowed && p.rank == 0 && api && code != http.StatusUnauthorized:
				t.Errorf("%s anonymous: %d, want 401", key, code)
			case !allowed && p.rank == 0 && !api && !toLogin:
				t.Errorf("%s anonymous: %d %q, want 302 to /login", key, code, loc)
			case !allowed && p.rank > 0 && code != http.StatusForbidden:
				t.Errorf("%s as %s: %d, want 403", key, p.name, code)
			}
			checked++
		}
	}
	t.Logf("checked %d route × role pairs", checked)
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
