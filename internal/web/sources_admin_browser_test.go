package web

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/store"
)

// signIn signs the browser in as name and waits for the page it lands on.
func signIn(t *testing.T, ctx context.Context, base, name, next, waitFor string) {
	t.Helper()
	browserStep(t, ctx, "sign in as "+name, 10*time.Second,
		chromedp.Navigate(base+"/login?next="+next),
		chromedp.SendKeys(`input[name="name"]`, name),
		chromedp.SendKeys(`input[name="password"]`, testPassword),
		chromedp.Click(`form[action="/login"] button[type="submit"]`),
		chromedp.WaitVisible(waitFor),
	)
}

// browserEval evaluates a JavaScript expression with a deadline.
func browserEval[T any](t *testing.T, ctx context.Context, what, expr string) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	v, err := chromedp.Run(sctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("browser: evaluate %s: %v", what, err)
	}
	return v
}

// pageFits reports the document's scroll width and the viewport width at
// the given window width, with every <details> open (what is shown on
// demand must fit too).
func pageFits(t *testing.T, ctx context.Context, url string, width int64, waitFor string) (scroll, viewport int) {
	t.Helper()
	browserStep(t, ctx, fmt.Sprintf("load %s at %d px", url, width), 10*time.Second,
		chromedp.EmulateViewport(width, 900),
		chromedp.Navigate(url),
		chromedp.WaitVisible(waitFor),
	)
	dims := browserEval[[]int](t, ctx, "widths", `document.querySelectorAll("details").forEach(d => { d.open = true; }),
		[document.documentElement.scrollWidth, document.documentElement.clientWidth]`)
	t.Logf("%s at %d px: scrollWidth %d, clientWidth %d", url, width, dims[0], dims[1])
	return dims[0], dims[1]
}

// failingSources is a sources.yaml with four sources, all on addresses
// whose errors are long unbroken strings.
const failingSources = `sections: [Local]
sources:
  - name: Harbor Gazette
    url: SITE
    section: Local
    interval: 1h
  - name: Port Authority notices with a rather long name for the column
    url: https://www.example.org/news/press-releases/2026/port-authority/notices-and-announcements/feed.xml?format=rss&category=harbour-and-shipping-notices&utm_source=clipsheet-newsroom-monitor
    section: Local
  - name: Quay Radio
    url: https://news.example.net/rss/articles/CBMiSWh0dHBzOi8vd3d3LmV4YW1wbGUub3JnL25ld3MvMjAyNi8wMy9wb3J0LWF1dGhvcml0eS1ub3RpY2VzLWFuZC1hbm5vdW5jZW1lbnRz0gEA?oc=5
    section: Local
  - name: Lighthouse Trust
    url: https://lighthouse-trust.example.com/updates/feed
    section: Local
`

// TestBrowserSourcesPageFailingSources: with every source failing on long
// Go error chains, /admin/sources fits a 1366 px screen and a 390 px
// phone without sideways scrolling; each row says in a plain sentence what
// is wrong and keeps the raw error behind "Details"; admins see a
// failing-sources badge in the navigation on every page; "Poll now" polls
// the source at once through the running fetcher and shows the outcome;
// a curator on a thin queue is told how many sources fail.
func TestBrowserSourcesPageFailingSources(t *testing.T) {
	ctx := startBrowser(t)
	site := newTestSite(t, true)
	e := newSourcesEnvWith(t, []byte(strings.Replace(failingSources, "SITE", site.URL("/feed.xml"), 1)))
	bg := context.Background()
	now := e.clock.Now()
	for _, src := range e.live.Current().Sources {
		host := strings.SplitN(strings.TrimPrefix(strings.TrimPrefix(src.URL, "https://"), "http://"), "/", 2)[0]
		raw := fmt.Sprintf("fetch %s: robots.txt: cannot resolve host %s: dial tcp: lookup %s on 10.255.255.53:53: no such host", src.URL, host, host)
		// Backed off for an hour, so the running fetcher leaves them be
		// until asked.
		if err := e.store.PutSourceState(bg, &model.SourceState{Name: src.Name, URL: src.URL, LastAttempt: now.Add(-time.Minute),
			LastError: raw, ConsecutiveFailures: 4, NextPoll: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	runCtx, stopRun := context.WithCancel(bg)
	ran := make(chan error, 1)
	go func() { ran <- e.fetcher.Run(runCtx, e.live.Current) }()
	defer func() { stopRun(); <-ran }()

	base := e.srv.URL
	signIn(t, ctx, base, testUsers[model.RoleAdmin], "/admin/sources", `table.source-list`)
	for _, w := range []int64{1366, 390} {
		if scroll, vp := pageFits(t, ctx, base+"/admin/sources", w, `table.source-list`); scroll > vp {
			t.Errorf("at %d px the sources page is %d px wide (viewport %d): it scrolls sideways", w, scroll, vp)
		}
	}
	browserStep(t, ctx, "back to desktop width", 10*time.Second,
		chromedp.EmulateViewport(1366, 900),
		chromedp.Navigate(base+"/admin/sources"),
		chromedp.WaitVisible(`table.source-list`),
	)

	row := `tr[data-source="Port Authority notices with a rather long name for the column"]`
	plain := browserRead(t, ctx, "plain error", chromedp.Text(row+` .error-plain`))
	if want := "The address www.example.org could not be found"; !strings.HasPrefix(plain, want) {
		t.Errorf("row says %q, want it to start %q", plain, want)
	}
	if strings.Contains(plain, "dial tcp") {
		t.Errorf("the plain sentence carries the raw chain: %q", plain)
	}
	if browserEval[bool](t, ctx, "details closed", `document.querySelector('`+row+` .error-detail code').checkVisibility()`) {
		t.Error("the raw error is shown before asking for it")
	}
	browserStep(t, ctx, "open details", 5*time.Second,
		chromedp.Click(row+` .error-detail summary`),
		chromedp.WaitVisible(row+` .error-detail code`),
	)
	if raw := browserRead(t, ctx, "raw", chromedp.Text(row+` .error-detail code`)); !strings.Contains(raw, "lookup www.example.org on 10.255.255.53:53: no such host") {
		t.Errorf("details read %q", raw)
	}

	// The badge is on every page an admin opens.
	for _, path := range []string{"/admin/users", "/queue", "/"} {
		browserStep(t, ctx, "badge on "+path, 10*time.Second,
			chromedp.Navigate(base+path),
			chromedp.WaitVisible(`#failing-badge`),
		)
		if b := browserRead(t, ctx, "badge", chromedp.Text(`#failing-badge`)); b != "4 failing" {
			t.Errorf("badge on %s reads %q", path, b)
		}
	}
	browserStep(t, ctx, "follow the badge", 10*time.Second,
		chromedp.Click(`#failing-badge`),
		chromedp.WaitVisible(`table.source-list`),
	)
	if sum := browserRead(t, ctx, "filter", chromedp.Text(`.health-summary [aria-current]`)); !strings.HasPrefix(sum, "failing (4)") {
		t.Errorf("the badge leads to %q", sum)
	}

	gazette := `tr[data-source="Harbor Gazette"]`
	browserStep(t, ctx, "poll now", 30*time.Second,
		chromedp.Navigate(base+"/admin/sources"),
		chromedp.WaitVisible(gazette),
		chromedp.Click(gazette+` button.poll-now`),
		chromedp.WaitVisible(`p.notice[role="status"]`),
	)
	if done := browserRead(t, ctx, "done", chromedp.Text(`p.notice[role="status"]`)); done != `Polled "Harbor Gazette" just now: 6 new items.` {
		t.Errorf("after Poll now: %q", done)
	}
	if r := browserRead(t, ctx, "row", chromedp.Text(gazette)); strings.Contains(r, "failing") || strings.Contains(r, "could not be found") {
		t.Errorf("row after a good poll: %s", r)
	}
	if b := browserRead(t, ctx, "badge", chromedp.Text(`#failing-badge`)); b != "3 failing" {
		t.Errorf("badge after the poll reads %q", b)
	}
	evs, err := e.store.ListAudit(bg, store.AuditFilter{Action: "source.poll"})
	if err != nil || len(evs) != 1 || evs[0].Target != "Harbor Gazette" || evs[0].Detail != "polled now: 6 new items" {
		t.Errorf("audit: %+v %v", evs, err)
	}

	// A curator, whose queue holds only those six, is told why.
	browserStep(t, ctx, "sign out", 10*time.Second,
		chromedp.Click(`form[action="/logout"] button`),
		chromedp.WaitVisible(`form[action="/login"]`),
	)
	signIn(t, ctx, base, testUsers[model.RoleCurator], "/queue", `.desk`)
	why := browserRead(t, ctx, "why", chromedp.Text(`#failing-sources`))
	if !strings.HasPrefix(why, "3 of 4 sources are failing") {
		t.Errorf("curator reads %q", why)
	}
	if browserEval[int](t, ctx, "badges", `document.querySelectorAll('#failing-badge').length`) != 0 {
		t.Error("curator sees the admin badge")
	}
}

// TestBrowserPreviewMarksStoredItems: the source form's preview lays each
// item out on its own full-width row (not the queue's two-column grid),
// says how many items are new, and marks those stored already; "Find
// feeds" on a site whose feed is polled already marks it with a link to
// that source, offers no "Use this feed" for it and fills nothing in.
func TestBrowserPreviewMarksStoredItems(t *testing.T) {
	ctx := startBrowser(t)
	site := newTestSite(t, true)
	e := newSourcesEnvWith(t, []byte("sections: [Local]\nsources:\n  - name: Harbor Gazette\n    url: "+site.URL("/feed.xml")+"\n    section: Local\n"))
	bg := context.Background()
	stories := siteStories()
	for i, status := range []model.Status{model.StatusQueued, model.StatusApproved} {
		it := model.NewItem(model.Extraction{URL: site.URL("/news/2026/03/" + stories[i].Slug), Title: stories[i].Title}, "Harbor Gazette", "Local", e.clock.Now())
		it.Status = status
		if _, err := e.store.AddItem(bg, it); err != nil {
			t.Fatal(err)
		}
	}
	base := e.srv.URL
	signIn(t, ctx, base, testUsers[model.RoleAdmin], "/admin/sources/edit?name=Harbor%20Gazette", `#preview-button`)
	// The checkbox that keeps a source polled has a real label and a hint.
	if l := browserEval[string](t, ctx, "label", `[...document.getElementById("source-enabled").labels].map(l => l.textContent.trim()).join("|")`); l != "Poll this source" {
		t.Errorf("the enabled checkbox is labelled %q", l)
	}
	if hint := browserEval[string](t, ctx, "hint", `document.getElementById(document.getElementById("source-enabled").getAttribute("aria-describedby")).textContent`); !strings.Contains(hint, "stop polling") {
		t.Errorf("the enabled checkbox's hint reads %q", hint)
	}
	browserStep(t, ctx, "untick by the label", 5*time.Second, chromedp.Click(`label[for="source-enabled"]`))
	if browserEval[bool](t, ctx, "checked", `document.getElementById("source-enabled").checked`) {
		t.Error("clicking the label does not untick the box")
	}
	browserStep(t, ctx, "preview", 20*time.Second,
		chromedp.Click(`#preview-button`),
		chromedp.WaitVisible(`#preview .preview-items`),
	)
	if sum := browserRead(t, ctx, "summary", chromedp.Text(`#preview-summary`)); !strings.HasPrefix(sum, "3 of these 5 items are new: the next poll would store those 3; the others are already stored.") {
		t.Errorf("summary reads %q", sum)
	}
	marks := browserEval[[]string](t, ctx, "marks", `[...document.querySelectorAll("#preview .preview-item .stored-mark")].map(m => m.textContent)`)
	if want := []string{"already in the queue", "already stored (approved)", "new", "new", "new"}; strings.Join(marks, "|") != strings.Join(want, "|") {
		t.Errorf("marks %q, want %q", marks, want)
	}
	// Every part of an item starts at the item's left edge and the lead
	// takes its full width.
	cramped := browserEval[[]string](t, ctx, "layout", `[...document.querySelectorAll("#preview .preview-item")].flatMap(li => {
		const box = li.getBoundingClientRect(), out = [];
		for (const el of li.children) {
			const r = el.getBoundingClientRect();
			if (Math.abs(r.left - li.children[0].getBoundingClientRect().left) > 1) out.push(el.tagName + " of " + li.querySelector("h3").textContent + " starts at " + Math.round(r.left - box.left) + " px");
			if (el.classList.contains("lead") && r.width < 0.85 * box.width) out.push("lead of " + li.querySelector("h3").textContent + " is " + Math.round(r.width) + " of " + Math.round(box.width) + " px");
		}
		return out;
	})`)
	if len(cramped) > 0 {
		t.Errorf("preview rows are cramped:\n%s", strings.Join(cramped, "\n"))
	}

	// The form and its preview fit a phone and a laptop screen.
	for _, w := range []int64{390, 1366} {
		browserStep(t, ctx, fmt.Sprintf("preview at %d px", w), 20*time.Second,
			chromedp.EmulateViewport(w, 900),
			chromedp.Navigate(base+"/admin/sources/edit?name=Harbor%20Gazette"),
			chromedp.WaitVisible(`#preview-button`),
			chromedp.Click(`#preview-button`),
			chromedp.WaitVisible(`#preview .preview-items`),
		)
		dims := browserEval[[]int](t, ctx, "widths", `[document.documentElement.scrollWidth, document.documentElement.clientWidth]`)
		if dims[0] > dims[1] {
			t.Errorf("at %d px the source form with its preview is %d px wide (viewport %d): it scrolls sideways", w, dims[0], dims[1])
		}
	}

	browserStep(t, ctx, "find feeds", 20*time.Second,
		chromedp.EmulateViewport(390, 900),
		chromedp.Navigate(base+"/admin/sources/new"),
		chromedp.WaitVisible(`input[name="discover"]`),
		chromedp.SendKeys(`input[name="discover"]`, site.URL("/")),
		chromedp.Click(`#discover button[type="submit"]`),
		chromedp.WaitVisible(`.discovery`),
	)
	if dims := browserEval[[]int](t, ctx, "widths", `[document.documentElement.scrollWidth, document.documentElement.clientWidth]`); dims[0] > dims[1] {
		t.Errorf("at 390 px the discovery results are %d px wide (viewport %d)", dims[0], dims[1])
	}
	feeds := browserRead(t, ctx, "feeds", chromedp.Text(`.discovery .feeds`))
	if !strings.Contains(feeds, "already polled as Harbor Gazette") || strings.Contains(feeds, "Use this feed") {
		t.Errorf("discovered feeds read %q", feeds)
	}
	if href := browserEval[string](t, ctx, "link", `document.querySelector(".discovery .polled a").getAttribute("href")`); href != "/admin/sources/edit?name=Harbor%20Gazette" {
		t.Errorf("polled link goes to %q", href)
	}
	if u := browserRead(t, ctx, "url", chromedp.Value(`input[name="url"]`)); u != "" {
		t.Errorf("the form was filled with %q, a feed polled already", u)
	}
	if note := browserRead(t, ctx, "note", chromedp.Text(`#discover-note`)); !strings.Contains(note, "polled already") {
		t.Errorf("note reads %q", note)
	}
}
