package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/clipsheet/clipsheet/internal/auth"
	"github.com/clipsheet/clipsheet/internal/curate"
	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/rules"
	"github.com/clipsheet/clipsheet/internal/store"
)

// TestBrowserPagesAreAccessible opens every page of the site in headless
// Chromium, as the role that can see it and with realistic data, plus the
// states that only appear on error, and checks each at 1366 px, at 390 px
// and in dark mode:
//   - axe-core with its default rules reports no violation;
//   - ids are valid and unique, ARIA and label references point at
//     elements that exist, every input states its type, the skip link
//     comes first and leads to <main>;
//   - every element the Tab key reaches shows a focus ring (1366 px);
//   - at 390 px the page does not scroll sideways and no link or button of
//     the site header is cut off.
//
// The page list is derived from the router: a new GET page without a
// visit here fails the test.
func TestBrowserPagesAreAccessible(t *testing.T) {
	axeJS := loadAxe(t)
	ctx := startBrowser(t)
	checkAxeSeesViolations(t, ctx, axeJS)

	w := newA11yWorld(t)
	visits := w.visits()
	checkEveryPageVisited(t, w.env.server, visits)

	shots := os.Getenv("A11Y_SHOTS") // a directory: save full-page screenshots there
	var signedIn string
	for _, v := range visits {
		t.Run(v.name, func(t *testing.T) {
			who := v.base + " " + string(v.role)
			if who != signedIn {
				signedIn = ""
				w.signIn(t, ctx, v.base, v.role)
				signedIn = who
			}
			if v.prepare != nil {
				v.prepare(t)
			}
			steps := append([]chromedp.Action[chromedp.Void]{
				chromedp.EmulateViewport(1366, 900),
				chromedp.Navigate(v.base + v.path),
			}, v.steps...)
			steps = append(steps, waitShown(v.wait))
			if err := doWithin(ctx, 20*time.Second, steps...); err != nil {
				var where string
				_ = doWithin(ctx, 5*time.Second, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
					var err error
					where, err = chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + " (" + document.readyState + ")\n" + document.body.innerText.slice(0, 600)`))
					return err
				}))
				t.Fatalf("browser: open %s and wait for %s: %v; the browser shows %s", v.path, v.wait, err, where)
			}
			browserStep(t, ctx, "inject axe-core", 10*time.Second, chromedp.Evaluate[chromedp.Void](axeJS))
			for _, m := range a11yModes {
				browserStep(t, ctx, "emulate "+m.name, 5*time.Second, m.emulate()...)
				if shots != "" {
					saveShot(t, ctx, filepath.Join(shots, fileSafe(v.name)+"-"+m.name+".png"))
				}
				for _, problem := range runAxe(t, ctx, m.only) {
					t.Errorf("%s, %s: %s", v.path, m.name, problem)
				}
				for _, problem := range browserList(t, ctx, "document checks", domChecksJS) {
					t.Errorf("%s, %s: %s", v.path, m.name, problem)
				}
				if m.phone {
					for _, problem := range browserList(t, ctx, "phone layout", phoneLayoutJS) {
						t.Errorf("%s, %s: %s", v.path, m.name, problem)
					}
				}
				if m.tabWalk {
					for _, problem := range tabWalk(t, ctx) {
						t.Errorf("%s, %s: %s", v.path, m.name, problem)
					}
				}
			}
		})
	}
}

// a11yMode is one way the pages are looked at.
type a11yMode struct {
	name           string
	width, height  int64
	dark           bool
	phone, tabWalk bool
	// only limits axe to these rules: dark mode changes nothing but colours.
	only []string
}

var a11yModes = []a11yMode{
	{name: "1366px", width: 1366, height: 900, tabWalk: true},
	{name: "390px", width: 390, height: 844, phone: true},
	{name: "1366px-dark", width: 1366, height: 900, dark: true, only: []string{"color-contrast", "link-in-text-block"}},
}

func (m a11yMode) emulate() []chromedp.Action[chromedp.Void] {
	scheme := "light"
	if m.dark {
		scheme = "dark"
	}
	viewport := chromedp.EmulateViewport(m.width, m.height)
	if m.phone {
		viewport = chromedp.EmulateViewport(m.width, m.height, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait)
	}
	return []chromedp.Action[chromedp.Void]{
		viewport,
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
			})
			return err
		}),
		// No focus left over from the Tab walk in another mode.
		chromedp.Evaluate[chromedp.Void](`document.activeElement && document.activeElement.blur()`),
		// Two frames: the new layout and styles are applied before anything is measured.
		chromedp.Evaluate[chromedp.Void](`new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))`, chromedp.EvalAwaitPromise),
	}
}

// axePath is where `npm ci` (make deps) installs the pinned axe-core.
const axePath = "../../node_modules/axe-core/axe.min.js"

func loadAxe(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(axePath)
	if err != nil {
		if os.Getenv("REQUIRE_CHROMIUM") != "" {
			t.Fatalf("axe-core not found (%v) and REQUIRE_CHROMIUM is set: run `make deps` (npm ci)", err)
		}
		t.Skipf("axe-core not installed at %s (`make deps` runs npm ci); skipping the accessibility check", axePath)
	}
	return string(b)
}

// axeRunJS runs axe with its default rules on the whole document and
// returns what the report needs.
const axeRunJS = `axe.run(document, OPTIONS).then(r => ({
  passes: r.passes.length,
  violations: r.violations.map(v => ({id: v.id, impact: v.impact || "", help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.map(String).join(" "), summary: n.failureSummary || ""}))}))
}))`

type axeReport struct {
	Passes     int `json:"passes"`
	Violations []struct {
		ID     string `json:"id"`
		Impact string `json:"impact"`
		Help   string `json:"help"`
		Nodes  []struct {
			Target  string `json:"target"`
			Summary string `json:"summary"`
		} `json:"nodes"`
	} `json:"violations"`
}

// runAxe returns one readable line per violation: rule, impact, what it
// means and the selectors of the offending elements.
func runAxe(t *testing.T, ctx context.Context, only []string) []string {
	t.Helper()
	r := axeRun(t, ctx, only)
	if r.Passes == 0 {
		t.Fatal("axe-core passed no rule at all: it did not really run")
	}
	var out []string
	for _, v := range r.Violations {
		var targets []string
		for i, n := range v.Nodes {
			if i == 5 {
				targets = append(targets, fmt.Sprintf("… %d more", len(v.Nodes)-i))
				break
			}
			targets = append(targets, n.Target)
		}
		why := ""
		if len(v.Nodes) > 0 {
			why = "\n\t\t" + strings.ReplaceAll(v.Nodes[0].Summary, "\n", "\n\t\t")
		}
		out = append(out, fmt.Sprintf("axe %s (%s): %s\n\t\tat %s%s", v.ID, v.Impact, v.Help, strings.Join(targets, " | "), why))
	}
	return out
}

func axeRun(t *testing.T, ctx context.Context, only []string) axeReport {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	opts := `{resultTypes: ["violations"]}`
	if len(only) > 0 {
		opts = `{resultTypes: ["violations"], runOnly: {type: "rule", values: ` + jsStrings(only) + `}}`
	}
	raw, err := chromedp.Run(sctx, chromedp.Evaluate[[]byte](strings.Replace(axeRunJS, "OPTIONS", opts, 1), chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("browser: run axe: %v", err)
	}
	var r axeReport
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("axe result: %v: %s", err, raw)
	}
	return r
}

// checkAxeSeesViolations serves a page with known faults under the
// server's own Content-Security-Policy: axe injected through the DevTools
// protocol must run there and report them, and each of the test's own
// checks must catch its fault, or clean reports on the real pages would
// prove nothing.
func checkAxeSeesViolations(t *testing.T, ctx context.Context, axeJS string) {
	t.Helper()
	control := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", contentSecurityPolicy)
		if r.URL.Path == "/control.css" {
			w.Header().Set("Content-Type", "text/css")
			fmt.Fprint(w, `header.site nav { display: flex; flex-wrap: nowrap; overflow-x: auto; white-space: nowrap; gap: 1rem; }
a:focus { outline: none; }
.wide { width: 600px; }`)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><html><head><meta name="viewport" content="width=device-width, initial-scale=1"><title>control</title><link rel="stylesheet" href="/control.css"></head><body>
<header class="site"><nav><a href="#1">First destination</a> <a href="#2">Second destination</a> <a href="#3">Third destination</a> <a href="#4">Audit log</a></nav></header>
<main><h1>Control</h1><img src="/x.png"><input name="q" aria-describedby="err-q"><p id="s-Top stories">text</p><div class="wide">wide</div></main></body></html>`)
	}))
	t.Cleanup(control.Close)
	browserStep(t, ctx, "control page", 10*time.Second,
		chromedp.EmulateViewport(1366, 900),
		chromedp.Navigate(control.URL),
		chromedp.WaitVisible("h1"),
		chromedp.Evaluate[chromedp.Void](axeJS),
	)
	seen := map[string]bool{}
	for _, v := range axeRun(t, ctx, nil).Violations {
		seen[v.ID] = true
	}
	for _, want := range []string{"html-has-lang", "image-alt", "label"} {
		if !seen[want] {
			t.Fatalf("axe missed %s on the control page (saw %v): the check is blind", want, seen)
		}
	}
	mustFind := func(what string, got []string, wants ...string) {
		t.Helper()
		all := strings.Join(got, "\n")
		for _, want := range wants {
			if !strings.Contains(all, want) {
				t.Fatalf("the %s missed %q on the control page; they said: %q", what, want, got)
			}
		}
	}
	mustFind("document checks", browserList(t, ctx, "control document checks", domChecksJS),
		"without a type", `id "s-Top stories" is not a valid HTML id`, `points at id "err-q"`)
	mustFind("Tab walk", tabWalk(t, ctx), `the first Tab lands on <a> "First destination", not on the skip link`, "shows no focus ring")
	browserStep(t, ctx, "control at 390px", 5*time.Second, a11yModes[1].emulate()...)
	mustFind("phone layout checks", browserList(t, ctx, "control phone layout", phoneLayoutJS),
		"the page scrolls sideways", `"Audit log" is cut off by its container <nav>`)
}

// domChecksJS finds what axe does not look for: ids that are not valid
// HTML or not unique, references to ids that do not exist, inputs without
// a type, and a missing skip link.
const domChecksJS = `(() => {
  const out = [];
  const desc = el => "<" + el.tagName.toLowerCase() + (el.name ? " name=" + el.name : "") + (el.id ? " id=" + el.id : "") + ">";
  const ids = new Set();
  for (const el of document.querySelectorAll("[id]")) {
    if (el.id === "" || /\s/.test(el.id)) out.push("id " + JSON.stringify(el.id) + " is not a valid HTML id (empty or with spaces) on " + desc(el));
    if (ids.has(el.id)) out.push("id " + JSON.stringify(el.id) + " is used twice");
    ids.add(el.id);
  }
  for (const attr of ["aria-describedby", "aria-labelledby", "aria-controls", "aria-errormessage", "list"]) {
    for (const el of document.querySelectorAll("[" + attr + "]")) {
      for (const ref of el.getAttribute(attr).split(/\s+/).filter(Boolean)) {
        if (!document.getElementById(ref)) out.push(attr + " of " + desc(el) + " points at id " + JSON.stringify(ref) + ", which is not on the page");
      }
    }
  }
  for (const el of document.querySelectorAll("label[for]")) {
    if (!document.getElementById(el.htmlFor)) out.push("label for=" + JSON.stringify(el.htmlFor) + " points at no element");
  }
  for (const el of document.querySelectorAll("input:not([type])")) out.push(desc(el) + " is an input without a type");
  if (document.title !== "control") {
    const first = [...document.querySelectorAll("a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]")].find(el => el.tabIndex >= 0);
    if (!first || !first.matches("a.skip[href='#main']")) out.push("the first element in tab order is " + (first ? desc(first) : "nothing") + ", not the skip link to #main");
    if (!document.querySelector("main#main")) out.push("no <main id=main> for the skip link");
  }
  return out;
})()`

// phoneLayoutJS finds sideways scrolling and header links or buttons that
// are cut off by the viewport or by a scrolling or clipping container.
const phoneLayoutJS = `(() => {
  const out = [];
  const de = document.documentElement, vw = de.clientWidth;
  const desc = el => "<" + el.tagName.toLowerCase() + (el.className ? "." + String(el.className).trim().split(/\s+/).join(".") : "") + (el.name ? " name=" + el.name : "") + ">";
  if (de.scrollWidth > vw) {
    const wide = [...document.body.querySelectorAll("*")].filter(el => {
      const r = el.getBoundingClientRect();
      if (r.right <= vw + 0.5 || r.width === 0) return false;
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        if (getComputedStyle(p).overflowX !== "visible") return false;
      }
      return ![...el.children].some(c => c.getBoundingClientRect().right > vw + 0.5);
    }).concat([...document.body.querySelectorAll("*")].filter(el => el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX === "visible" && el.getBoundingClientRect().right + el.scrollWidth - el.clientWidth > vw + 0.5)).slice(0, 4).map(el => desc(el) + " (right edge " + Math.round(el.getBoundingClientRect().right) + "px) " + JSON.stringify((el.textContent || "").trim().slice(0, 40)));
    if (wide.length === 0) {
      const deepest = [...document.body.querySelectorAll("*")].filter(el => el.getBoundingClientRect().right > vw + 0.5 && ![...el.children].some(c => c.getBoundingClientRect().right > vw + 0.5));
      wide.push(...deepest.slice(0, 4).map(el => desc(el) + " (right edge " + Math.round(el.getBoundingClientRect().right) + "px, position " + getComputedStyle(el).position + ")"));
    }
    out.push("the page scrolls sideways: " + de.scrollWidth + "px wide in a " + vw + "px viewport; too wide: " + wide.join(", "));
  }
  for (const el of document.querySelectorAll("header.site a, header.site button")) {
    const r = el.getBoundingClientRect();
    const name = JSON.stringify(el.textContent.trim().replace(/\s+/g, " "));
    if (r.width === 0 || r.height === 0) { out.push("header control " + name + " is not shown"); continue; }
    if (r.left < -0.5 || r.right > vw + 0.5) out.push("header control " + name + " is cut off by the viewport (" + Math.round(r.left) + "–" + Math.round(r.right) + "px of " + vw + "px)");
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const cs = getComputedStyle(p);
      if (cs.overflowX === "visible" && cs.overflowY === "visible") continue;
      const pr = p.getBoundingClientRect();
      if (r.left < pr.left - 0.5 || r.right > pr.right + 0.5 || r.top < pr.top - 0.5 || r.bottom > pr.bottom + 0.5) {
        out.push("header control " + name + " is cut off by its container " + desc(p) + " (overflow " + cs.overflowX + ")");
      }
    }
  }
  return out;
})()`

// focusedJS describes the focused element and whether it shows a focus
// indicator (an outline or a ring drawn with box-shadow) on screen.
const focusedJS = `(() => {
  const el = document.activeElement;
  if (!el || el === document.body) return {key: "", ring: true, onScreen: true, desc: "body"};
  const cs = getComputedStyle(el), r = el.getBoundingClientRect();
  const ring = (cs.outlineStyle !== "none" && parseFloat(cs.outlineWidth) >= 2) || (cs.boxShadow !== "" && cs.boxShadow !== "none");
  const onScreen = r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0 && r.top < innerHeight && r.left < innerWidth;
  const text = (el.getAttribute("aria-label") || el.textContent || el.value || el.name || "").trim().replace(/\s+/g, " ").slice(0, 40);
  const desc = "<" + el.tagName.toLowerCase() + (el.name ? " name=" + el.name : "") + "> " + JSON.stringify(text);
  let path = [];
  for (let e = el; e && e !== document.body; e = e.parentElement) path.unshift(e.tagName + ":" + [...(e.parentElement ? e.parentElement.children : [])].indexOf(e));
  return {key: path.join("/"), ring, onScreen, desc, skip: el.matches("a.skip")};
})()`

type focused struct {
	Key      string `json:"key"`
	Ring     bool   `json:"ring"`
	OnScreen bool   `json:"onScreen"`
	Desc     string `json:"desc"`
	Skip     bool   `json:"skip"`
}

// tabWalk presses Tab from the top of the page and checks that each
// element it reaches shows where the focus is, starting with a visible
// skip link.
func tabWalk(t *testing.T, ctx context.Context) []string {
	t.Helper()
	const maxStops = 30
	// Focus a throwaway element placed before everything else, as a
	// fresh page load starts there: the next Tab goes to the first
	// element in tab order. (A click to set the start could follow a link.)
	browserStep(t, ctx, "focus to the top", 5*time.Second, chromedp.Evaluate[chromedp.Void](`(() => {
  window.scrollTo(0, 0);
  const start = document.createElement("span");
  start.id = "a11y-tab-start";
  start.tabIndex = -1;
  document.body.prepend(start);
  start.focus();
})()`))
	defer browserStep(t, ctx, "remove the tab start", 5*time.Second, chromedp.Evaluate[chromedp.Void](`document.getElementById("a11y-tab-start").remove()`))
	var out []string
	seen := map[string]bool{}
	for i := range maxStops {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := chromedp.Do(sctx, chromedp.KeyEvent("\t"))
		var f focused
		if err == nil {
			f, err = chromedp.Run(sctx, chromedp.Evaluate[focused](focusedJS))
		}
		cancel()
		if err != nil {
			t.Fatalf("browser: tab %d: %v", i, err)
		}
		if i == 0 && !f.Skip {
			out = append(out, "the first Tab lands on "+f.Desc+", not on the skip link")
		}
		if seen[f.Key] {
			break // wrapped around
		}
		seen[f.Key] = true
		if !f.Ring {
			out = append(out, "Tab stop "+f.Desc+" shows no focus ring")
		}
		if !f.OnScreen {
			out = append(out, "Tab stop "+f.Desc+" is focused but not on screen")
		}
	}
	return out
}

// browserList evaluates a script that returns a list of problems.
func browserList(t *testing.T, ctx context.Context, what, js string) []string {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(sctx, chromedp.Evaluate[[]string](js))
	if err != nil {
		t.Fatalf("browser: %s: %v", what, err)
	}
	return v
}

func saveShot(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("browser: screenshot: %v", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func fileSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return '_'
	}, s)
}

// a11yNotPages are GET routes outside /api, the feeds, /static and
// /healthz that answer with something other than an HTML page.
var a11yNotPages = map[string]string{
	"/admin/sources.opml":    "an OPML download",
	"/readyz":                "JSON for probes",
	"/metrics":               "the Prometheus text format",
	"/editions/:id/text":     "an edition as plain text",
	"/admin/backup/download": "the database file",
}

// checkEveryPageVisited fails for a GET page route that no visit opens,
// so a page added later is checked too.
func checkEveryPageVisited(t *testing.T, s *Server, visits []a11yVisit) {
	t.Helper()
	covered := map[string]bool{}
	for _, v := range visits {
		covered[v.route] = true
	}
	var pages []string
	for _, r := range s.Routes() {
		p := r.Path
		if r.Method != http.MethodGet || strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/static/") || p == "/healthz" || strings.HasPrefix(p, "/feed.") {
			continue
		}
		pages = append(pages, p)
		if _, ok := a11yNotPages[p]; !ok && !covered[p] {
			t.Errorf("page %s is not in the accessibility walk: add a visit for it (or to a11yNotPages if it is not HTML)", p)
		}
	}
	if len(pages) < 10 {
		t.Fatalf("only %d GET page routes found (%v): the route filter is wrong", len(pages), pages)
	}
}

// a11yVisit is one state of one page, as one role meets it.
type a11yVisit struct {
	name    string
	route   string // the router's path pattern it covers; "" for the 404 page
	base    string
	role    model.Role // "" for a visitor who is not signed in
	path    string
	prepare func(t *testing.T)               // before opening path: change the data
	steps   []chromedp.Action[chromedp.Void] // after opening path: reach the state
	wait    string                           // visible once the state is reached
}

// a11yWorld is a running site full of the data each page shows: sections
// with spaces and "&", items in every section and state, a failing, a
// disabled and a healthy source, users, tokens and audit events; and a
// second site without an admin, for the setup page.
type a11yWorld struct {
	env     *sourcesEnv
	edition string // the published edition
	story   string // its pinned lead
	site    *testSite
	setup   *harness
	setupOK string
	opml    string
}

func newA11yWorld(t *testing.T) *a11yWorld {
	t.Helper()
	site := newTestSite(t, true)
	yaml := fmt.Sprintf(`sections: [Top stories, Terrorism & security, Disasters & weather, Cyber]
sources:
  - name: Harbor Gazette — Latest
    url: %s
    section: Top stories
    interval: 15m
  - name: County Emergency Wire
    url: http://wire.example.invalid/feed.xml
    section: Disasters & weather
  - name: State Police — Press releases
    url: %s
    type: page
    links: ".teaser h2 a"
    section: Terrorism & security
    enabled: false
`, site.URL("/feed.xml"), site.URL("/latest"))
	e := newSourcesEnvWith(t, []byte(yaml))
	ctx := context.Background()
	// Whole seconds, as feeds give them (the store keeps no more).
	now := time.Now().UTC().Truncate(time.Second)
	if err := e.store.PutSourceState(ctx, &model.SourceState{Name: "County Emergency Wire", URL: "http://wire.example.invalid/feed.xml",
		LastAttempt: now.Add(-10 * time.Minute), ConsecutiveFailures: 4,
		LastError: "fetch http://wire.example.invalid/feed.xml: robots.txt: cannot resolve host wire.example.invalid: dial tcp: lookup wire.example.invalid on 127.0.0.53:53: no such host"}); err != nil {
		t.Fatal(err)
	}
	if err := e.store.PutSourceState(ctx, &model.SourceState{Name: "Harbor Gazette — Latest", URL: site.URL("/feed.xml"),
		LastAttempt: now.Add(-5 * time.Minute), LastSuccess: now.Add(-5 * time.Minute), ItemsFound: 3, LastNewItemAt: now.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}

	stories := []struct {
		section, title, lead string
		status               model.Status
	}{
		{"Top stories", "Bridge inspection closes two lanes on the harbour crossing through Friday night", "Crews will inspect the bridge overnight.\n\nDrivers should expect delays of up to forty minutes.", model.StatusApproved},
		{"Top stories", "Council agrees sale of disused lighthouse", "The council voted 7–2 to sell the lighthouse.", model.StatusQueued},
		{"Terrorism & security", "Airport raises threat level after suspicious package", "Police closed terminal B for three hours.", model.StatusApproved},
		{"Terrorism & security", "Security review of stadium events published", "The review makes twelve recommendations.", model.StatusQueued},
		{"Disasters & weather", "Storm warning for the coast: gusts of 110 km/h expected", "The weather service issued an amber warning.", model.StatusApproved},
		{"Disasters & weather", "River levels fall after week of flooding", "Residents may return from Monday.", model.StatusRejected},
		{"Cyber", "Phishing wave targets county payroll", "Staff received fake payslip emails.", model.StatusApproved},
		{"Cyber", "Ransomware group claims attack on regional hospital", "The hospital says patient care is not affected.", model.StatusQueued},
	}
	for i, s := range stories {
		it := model.NewItem(model.Extraction{URL: fmt.Sprintf("https://news.example/2026/%d", i), Title: s.title, Lead: s.lead,
			SiteName: "Example News", Byline: "Ann Lee", Published: now.Add(-time.Duration(i) * time.Hour)}, "Harbor Gazette — Latest", s.section, now.Add(-time.Duration(i)*time.Minute))
		if i == 3 {
			it.FetchError = "HTTP 403 from the article page"
		}
		if i == 7 {
			it.Why = []string{"rule Cyber words: section Cyber, tagged ransomware"}
		}
		if _, err := e.store.AddItem(ctx, it); err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			title := "Council agrees to sell the disused lighthouse"
			if _, err := e.server.desk.Apply(ctx, it.ID, curate.Edit{Title: &title}, testUsers[model.RoleCurator], nil); err != nil {
				t.Fatal(err)
			}
		}
		if s.status != model.StatusQueued {
			if _, err := e.server.desk.Decide(ctx, it.ID, s.status, testUsers[model.RoleCurator]); err != nil {
				t.Fatal(err)
			}
		}
	}

	// An edition with a pinned lead and a correction, and two stories
	// approved after it, waiting for the next one.
	w := &a11yWorld{env: e, site: site}
	w.publishEdition(t)
	for i, title := range []string{"Harbour ferry timetable changes from Monday", "Coastguard exercise off the point on Thursday"} {
		it := model.NewItem(model.Extraction{URL: fmt.Sprintf("https://news.example/2026/late-%d", i), Title: title, Lead: "Details follow.",
			SiteName: "Example News", Published: now.Add(-time.Duration(i) * time.Minute)}, "Harbor Gazette — Latest", "Top stories", now)
		if _, err := e.store.AddItem(ctx, it); err != nil {
			t.Fatal(err)
		}
		if _, err := e.server.desk.Approve(ctx, it.ID, testUsers[model.RoleCurator]); err != nil {
			t.Fatal(err)
		}
	}

	a := auth.Actor{Name: testUsers[model.RoleAdmin]}
	for _, u := range []struct {
		name string
		role model.Role
	}{{"editor.two", model.RoleCurator}, {"night-desk", model.RoleReader}} {
		if _, err := e.server.Auth().AddUser(ctx, a, u.name, u.role, testPassword); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.server.Auth().SetDisabled(ctx, a, "night-desk", true); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"dispatch dashboard", "morning report script"} {
		if _, _, err := e.server.Auth().AddAPIToken(ctx, a, testUsers[model.RoleAdmin], name); err != nil {
			t.Fatal(err)
		}
	}

	opml := filepath.Join(t.TempDir(), "subscriptions.opml")
	if err := os.WriteFile(opml, fmt.Appendf(nil, `<?xml version="1.0"?>
<opml version="2.0"><head><title>Reader export</title></head><body>
<outline text="Public health"><outline type="rss" text="Health agency news" xmlUrl="https://health.example/feed.xml"/></outline>
<outline text="Top stories"><outline type="rss" text="Harbor Gazette" xmlUrl="%s"/></outline>
</body></opml>`, site.URL("/feed.xml")), 0o644); err != nil {
		t.Fatal(err)
	}

	w.opml = opml
	w.setup, w.setupOK = newSetupHarness(t)
	return w
}

func (w *a11yWorld) visits() []a11yVisit {
	main, setup := w.env.srv.URL, w.setup.srv.URL
	fill := func(form string, values map[string]string) []chromedp.Action[chromedp.Void] {
		keys := make([]string, 0, len(values))
		for k := range values {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		// The server's own checks are what the error states show, so the
		// browser's constraint validation is switched off for the form.
		steps := []chromedp.Action[chromedp.Void]{chromedp.Evaluate[chromedp.Void](`document.querySelector(` + jsString(form) + `).noValidate = true`)}
		for _, k := range keys {
			steps = append(steps, chromedp.SetValue(form+` [name="`+k+`"]`, values[k]))
		}
		return steps
	}
	submit := func(form string, values map[string]string) []chromedp.Action[chromedp.Void] {
		return append(fill(form, values), chromedp.Click(form+` button[type="submit"]`))
	}
	anon, reader, curator, admin := model.Role(""), model.RoleReader, model.RoleCurator, model.RoleAdmin
	harbor := "/admin/sources/edit?name=" + url.QueryEscape("Harbor Gazette — Latest")
	return []a11yVisit{
		{name: "setup", route: "/setup", base: setup, role: anon, path: "/setup?token=" + w.setupOK, wait: `form[action="/setup"]`},
		{name: "setup-error", route: "/setup", base: setup, role: anon, path: "/setup?token=" + w.setupOK, wait: `p.error`,
			steps: submit(`form[action="/setup"]`, map[string]string{"name": "chief", "password": testPassword, "confirm": "another long password"})},
		{name: "login-no-admin-yet", route: "/login", base: setup, role: anon, path: "/login", wait: `.hint`},

		{name: "login", route: "/login", base: main, role: anon, path: "/login", wait: `form[action="/login"]`},
		{name: "login-bad-password", route: "/login", base: main, role: anon, path: "/login", wait: `p.error`,
			steps: submit(`form[action="/login"]`, map[string]string{"name": "nobody", "password": "not the password at all"})},
		{name: "briefing-public", route: "/", base: main, role: anon, path: "/", wait: `.briefing .section`},
		{name: "not-found", base: main, role: anon, path: "/no/such/page", wait: `h1`},
		{name: "briefing-no-edition-yet", route: "/", base: setup, role: anon, path: "/", wait: `#no-edition-yet`},
		{name: "edition", route: "/editions/:id", base: main, role: anon, path: "/editions/" + w.edition, wait: `.briefing.edition .corrections`},
		{name: "item", route: "/items/:id", base: main, role: anon, path: "/items/" + w.story, wait: `.story-page .related`},
		{name: "archive", route: "/editions", base: main, role: anon, path: "/editions", wait: `.archive-day`},
		{name: "archive-search", route: "/editions", base: main, role: anon, path: "/editions?q=storm", wait: `.hits`},
		{name: "archive-search-none", route: "/editions", base: main, role: anon, path: "/editions?q=zeppelin", wait: `.archive .empty`},

		{name: "account-reader", route: "/account", base: main, role: reader, path: "/account", wait: `#password`},

		{name: "queue", route: "/queue", base: main, role: curator, path: "/queue", wait: `.desk .item.current`},
		{name: "queue-approved", route: "/queue", base: main, role: curator, path: "/queue?status=approved", wait: `.desk .item`},
		{name: "queue-rejected", route: "/queue", base: main, role: curator, path: "/queue?status=rejected", wait: `.desk .item`},
		{name: "queue-no-match", route: "/queue", base: main, role: curator, path: "/queue?q=zeppelin", wait: `.desk .empty`},
		{name: "queue-edit-open", route: "/queue", base: main, role: curator, path: "/queue?q=lighthouse", wait: `.desk details.edit[open] .original`,
			steps: []chromedp.Action[chromedp.Void]{chromedp.WaitVisible(`.desk .item`), chromedp.Click(`.desk details.edit summary`)}},

		{name: "edition-next", route: "/editions/next", base: main, role: curator, path: "/editions/next", wait: `.next-edition .next-item`},
		{name: "edition-next-error", route: "/editions/next", base: main, role: curator, path: "/editions/next", wait: `#next-problem`,
			steps: []chromedp.Action[chromedp.Void]{chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector(".move-section select"); s.add(new Option("Sports")); s.value = "Sports"; })()`),
				chromedp.Click(`.move-section button[type="submit"]`)}},
		{name: "edition-curator", route: "/editions/:id", base: main, role: curator, path: "/editions/" + w.edition, wait: `.correct-link`},
		{name: "item-curator", route: "/items/:id", base: main, role: curator, path: "/items/" + w.story, wait: `.story .correct-link`},
		{name: "edition-correct", route: "/editions/:id/correct", base: main, role: curator, path: "/editions/" + w.edition + "/correct?item=" + w.story, wait: `.correct-form form`},
		{name: "edition-correct-error", route: "/editions/:id/correct", base: main, role: curator, path: "/editions/" + w.edition + "/correct?item=" + w.story, wait: `.correct-form p.error`,
			steps: submit(`.correct-form form`, map[string]string{"title": " "})},

		{name: "briefing-admin", route: "/", base: main, role: admin, path: "/", wait: `.briefing .section`},
		{name: "account-admin", route: "/account", base: main, role: admin, path: "/account", wait: `#tokens table`},
		{name: "account-new-token", route: "/account", base: main, role: admin, path: "/account", wait: `.new-token`,
			steps: submit(`form[action="/account/tokens"]`, map[string]string{"name": "wall display"})},
		{name: "account-password-error", route: "/account", base: main, role: admin, path: "/account", wait: `p.error`,
			steps: submit(`form[action="/account/password"]`, map[string]string{"current": testPassword, "password": "a new long password", "confirm": "a different long password"})},
		{name: "queue-admin-empty", route: "/queue", base: main, role: admin, path: "/queue?status=rejected&section=Cyber", wait: `.desk .empty`},
		{name: "users", route: "/admin/users", base: main, role: admin, path: "/admin/users", wait: `table.users`},
		{name: "users-error", route: "/admin/users", base: main, role: admin, path: "/admin/users", wait: `p.error`,
			steps: submit(`form[action="/admin/users"]`, map[string]string{"name": "Bad Name!", "password": "short"})},
		{name: "audit", route: "/admin/audit", base: main, role: admin, path: "/admin/audit", wait: `table.audit`},
		{name: "backup", route: "/admin/backup", base: main, role: admin, path: "/admin/backup", wait: `#download-backup`},
		{name: "audit-empty", route: "/admin/audit", base: main, role: admin, path: "/admin/audit?actor=no-such-user", wait: `.empty`},
		{name: "sources", route: "/admin/sources", base: main, role: admin, path: "/admin/sources", wait: `table.source-list`},
		{name: "sources-none-match", route: "/admin/sources", base: main, role: admin, path: "/admin/sources?q=zeppelin", wait: `.empty`},
		{name: "source-new", route: "/admin/sources/new", base: main, role: admin, path: "/admin/sources/new", wait: `#source-form`},
		{name: "source-new-discovered", route: "/admin/sources/new", base: main, role: admin, path: "/admin/sources/new", wait: `.discovery`,
			steps: append(fill(`#discover form`, map[string]string{"discover": w.site.URL("/")}), chromedp.Click(`#discover button[type="submit"]`))},
		{name: "source-new-errors", route: "/admin/sources/new", base: main, role: admin, path: "/admin/sources/new", wait: `.field-error`,
			steps: append(fill(`#source-form`, map[string]string{"name": "Bad source", "url": "ftp://example.org/feed", "interval": "5s", "links": "h2 >>> a"}), chromedp.Click(`#save-button`))},
		{name: "source-edit", route: "/admin/sources/edit", base: main, role: admin, path: harbor, wait: `#source-form`},
		{name: "source-edit-preview", route: "/admin/sources/edit", base: main, role: admin, path: harbor, wait: `#preview .preview-items`,
			steps: []chromedp.Action[chromedp.Void]{chromedp.Click(`#preview-button`)}},
		{name: "sections", route: "/admin/sources/sections", base: main, role: admin, path: "/admin/sources/sections", wait: `table.section-list`},
		{name: "sections-error", route: "/admin/sources/sections", base: main, role: admin, path: "/admin/sources/sections", wait: `p.error`,
			steps: append(fill(`form.filters`, map[string]string{"new_name": "Cyber"}), chromedp.Click(`form.filters button[value="add"]`))},
		{name: "import", route: "/admin/sources/import", base: main, role: admin, path: "/admin/sources/import", wait: `input[name="opml"]`},
		{name: "import-plan", route: "/admin/sources/import", base: main, role: admin, path: "/admin/sources/import", wait: `table.import-plan`,
			steps: []chromedp.Action[chromedp.Void]{chromedp.SetUploadFiles(`input[name="opml"]`, []string{w.opml}), chromedp.Click(`.opml-import button[type="submit"]`)}},
		// Destructive actions ask first on a page of their own.
		{name: "confirm-remove-user", route: "/admin/users", base: main, role: admin, path: "/admin/users", wait: `#confirm`,
			steps: []chromedp.Action[chromedp.Void]{chromedp.Click(`form[action="/admin/users/editor.two/remove"] button[type="submit"]`)}},
		{name: "confirm-delete-section", route: "/admin/sources/sections", base: main, role: admin, path: "/admin/sources/sections", wait: `#confirm`,
			steps: []chromedp.Action[chromedp.Void]{chromedp.Click(`button[name="action"][value="delete"]`)}},
		{name: "rules-empty", route: "/admin/rules", base: main, role: admin, path: "/admin/rules", wait: `.rules .empty`},
		{name: "rule-new", route: "/admin/rules/new", base: main, role: admin, path: "/admin/rules/new", wait: `#rule-form`},
		{name: "rule-new-tested", route: "/admin/rules/new", base: main, role: admin, path: "/admin/rules/new", wait: `#rule-test`,
			steps: append(fill(`#rule-form`, map[string]string{"name": "Harbour words", "include": "lighthouse, bridge", "tags": "harbour"}), chromedp.Click(`#test-button`))},
		{name: "rule-new-errors", route: "/admin/rules/new", base: main, role: admin, path: "/admin/rules/new", wait: `.field-error`,
			steps: append(fill(`#rule-form`, map[string]string{"name": "Broken", "kind": "regexp", "include": "bridge(", "priority": "high"}), chromedp.Click(`#save-button`))},
		{name: "rules", route: "/admin/rules", base: main, role: admin, path: "/admin/rules", wait: `.rule-list`, prepare: w.addRule},
		{name: "rule-edit", route: "/admin/rules/:id", base: main, role: admin, path: "/admin/rules/1", wait: `#rule-form`},
		{name: "confirm-delete-rule", route: "/admin/rules", base: main, role: admin, path: "/admin/rules", wait: `#confirm`,
			steps: []chromedp.Action[chromedp.Void]{chromedp.Click(`form[action="/admin/rules/1/delete"] button[type="submit"]`)}},
		{name: "status", route: "/admin/status", base: main, role: admin, path: "/admin/status", wait: `dl.figures`},
		{name: "confirm-compact", route: "/admin/status", base: main, role: admin, path: "/admin/status", wait: `#confirm`,
			steps: []chromedp.Action[chromedp.Void]{chromedp.Click(`form[action="/admin/status/compact"] button[type="submit"]`)}},
		{name: "not-found-admin", base: main, role: admin, path: "/admin/nothing-here", wait: `h1`},
		{name: "clip", route: "/clip", base: main, role: curator, path: "/clip?url=https%3A%2F%2Fnews.example%2Fstory", wait: `.clip-form`},
		// A story carried by two outlets: one card with its other version.
		{name: "queue-story-versions", route: "/queue", base: main, role: curator, path: "/queue?q=Foothill", wait: `.desk .versions li`, prepare: w.addStory},
		// Last, as it decides every queued item: the queue with nothing left.
		{name: "queue-clear", route: "/queue", base: main, role: curator, path: "/queue", wait: `.desk .empty`, prepare: w.decideAll},
		{name: "edition-next-empty", route: "/editions/next", base: main, role: curator, path: "/editions/next", wait: `#next-empty`, prepare: w.publishNext},
	}
}

// publishEdition publishes the approved stories as an edition, with the
// newest pinned as its lead and a correction.
func (w *a11yWorld) publishEdition(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	press := w.env.server.press
	next, err := press.Next(ctx)
	if err != nil || len(next.Items) < 3 {
		t.Fatalf("next edition: %v, %d stories", err, len(next.Items))
	}
	w.story = next.Items[len(next.Items)-1].ID
	if _, err := press.Pin(ctx, w.story); err != nil {
		t.Fatal(err)
	}
	e, err := press.Publish(ctx, testUsers[model.RoleCurator])
	if err != nil {
		t.Fatal(err)
	}
	w.edition = e.ID
	title := e.Items[0].Title + " (corrected)"
	if _, err := press.Correct(ctx, e.ID, curate.Correction{ItemID: w.story, Title: &title, Note: "wording"}, testUsers[model.RoleCurator]); err != nil {
		t.Fatal(err)
	}
}

// publishNext publishes whatever waits for the next edition.
func (w *a11yWorld) publishNext(t *testing.T) {
	t.Helper()
	if _, err := w.env.server.press.Publish(context.Background(), testUsers[model.RoleCurator]); err != nil {
		t.Fatal(err)
	}
}

// addStory stores two outlets' copies of one wire story.
func (w *a11yWorld) addStory(t *testing.T) {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Second)
	lead := "A wind-driven wildfire tore through brushy hills north of Ventura on Tuesday, forcing more than 8,000 people to flee their homes as firefighters struggled to keep the Foothill Fire from reaching neighborhoods along the coast."
	for i, v := range [][3]string{
		{"https://apnews.example/wildfire-ventura", "AP News", "Wind-driven Foothill Fire forces thousands to flee"},
		{"https://ktla.example/foothill-fire", "KTLA", "Foothill Fire: 8,000 evacuated as flames race toward Ventura"},
	} {
		it := model.NewItem(model.Extraction{URL: v[0], SiteName: v[1], Title: v[2], Lead: lead, Byline: "Associated Press"}, "Harbor Gazette — Latest", "Disasters & weather", now.Add(time.Duration(i)*time.Minute))
		if _, err := w.env.store.AddItem(context.Background(), it); err != nil {
			t.Fatal(err)
		}
	}
}

// addRule stores one rule (ID 1) for the rules list and edit visits.
func (w *a11yWorld) addRule(t *testing.T) {
	t.Helper()
	five := 5
	r := rules.Rule{Name: "Cyber words", Scope: "section:Cyber", Include: "ransomware, phishing", Enabled: true,
		Actions: rules.Actions{Tags: []string{"ransomware"}, Priority: &five}}
	r.Normalize()
	if _, err := w.env.store.PutRule(context.Background(), r, 0); err != nil {
		t.Fatal(err)
	}
}

// decideAll approves every queued item.
func (w *a11yWorld) decideAll(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	queued, err := w.env.store.ListItems(ctx, store.ItemFilter{Status: model.StatusQueued})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range queued {
		if _, err := w.env.server.desk.Decide(ctx, it.ID, model.StatusApproved, testUsers[model.RoleCurator]); err != nil {
			t.Fatal(err)
		}
	}
}

// signIn gives the browser a session for role on the site at base (none
// for ""), starting from no cookies at all.
func (w *a11yWorld) signIn(t *testing.T, ctx context.Context, base string, role model.Role) {
	t.Helper()
	browserStep(t, ctx, "clear cookies", 5*time.Second, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{})
		return err
	}))
	if role == "" {
		return
	}
	browserStep(t, ctx, "sign in as "+string(role), 10*time.Second,
		chromedp.Navigate(base+"/login"),
		chromedp.SendKeys(`input[name="name"]`, testUsers[role]),
		chromedp.SendKeys(`input[name="password"]`, testPassword),
		chromedp.Click(`form[action="/login"] button[type="submit"]`),
		chromedp.WaitVisible(`form[action="/logout"]`),
	)
}

// waitShown waits until the page has loaded and shows an element matching
// sel. It asks the page itself, again and again: an evaluation that fails
// while a form's answer replaces the page is simply repeated.
func waitShown(sel string) chromedp.Action[chromedp.Void] {
	js := `(() => {
  const el = document.querySelector(` + jsString(sel) + `);
  if (document.readyState !== "complete" || !el) return false;
  const r = el.getBoundingClientRect();
  return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== "hidden";
})()`
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		for {
			if shown, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js)); err == nil && shown {
				return nil
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("%s not shown: %w", sel, ctx.Err())
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
}

// doWithin runs browser steps with a deadline and returns their error,
// for callers that add to the report before failing.
func doWithin(ctx context.Context, d time.Duration, steps ...chromedp.Action[chromedp.Void]) error {
	c, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return chromedp.Do(c, steps...)
}

func jsStrings(s []string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
