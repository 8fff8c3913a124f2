package web

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/clipsheet/clipsheet/internal/model"
)

const chromiumPath = "/usr/bin/chromium"

// browserStep runs chromedp steps with their own deadline, so a hung
// browser fails the step that hung instead of the whole test binary.
func browserStep(t *testing.T, ctx context.Context, what string, d time.Duration, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	if err := chromedp.Do(sctx, steps...); err != nil {
		t.Fatalf("browser: %s: %v", what, err)
	}
}

// browserRead runs one reading action (text, value) with a deadline.
func browserRead(t *testing.T, ctx context.Context, what string, a chromedp.Action[string]) string {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	v, err := chromedp.Run(sctx, a)
	if err != nil {
		t.Fatalf("browser: read %s: %v", what, err)
	}
	return v
}

// TestBrowserAddsSourceWithPreviewAndSeesItPolled drives headless
// Chromium through the whole flow an admin follows: sign in, paste a
// site's address, let Clipsheet find its feed, preview what the next poll
// would store, save, and watch the running fetcher poll the new source
// until its stories are in the queue.
func TestBrowserAddsSourceWithPreviewAndSeesItPolled(t *testing.T) {
	ctx := startBrowser(t)
	// No sources yet, so the fetcher polls nothing but what the test adds.
	e := newSourcesEnvWith(t, []byte("# Test newsroom\nsections:\n  - Local news\nsources: []\n"))
	site := newTestSite(t, true)
	runCtx, stopRun := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- e.fetcher.Run(runCtx, e.live.Current) }()
	defer func() { stopRun(); <-ran }()

	base := e.srv.URL
	browserStep(t, ctx, "sign in", 10*time.Second,
		chromedp.Navigate(base+"/login?next=/admin/sources"),
		chromedp.SendKeys(`input[name="name"]`, testUsers["admin"]),
		chromedp.SendKeys(`input[name="password"]`, testPassword),
		chromedp.Click(`form[action="/login"] button[type="submit"]`),
		chromedp.WaitVisible(`a[href="/admin/sources/new"]`),
	)

	browserStep(t, ctx, "add by URL", 15*time.Second,
		chromedp.Click(`a[href="/admin/sources/new"]`),
		chromedp.WaitVisible(`input[name="discover"]`),
		chromedp.SendKeys(`input[name="discover"]`, site.URL("/")),
		chromedp.Click(`#discover button[type="submit"]`),
		chromedp.WaitVisible(`.discovery`),
	)
	feedURL := browserRead(t, ctx, "url", chromedp.Value(`input[name="url"]`))
	name := browserRead(t, ctx, "name", chromedp.Value(`input[name="name"]`))
	if feedURL != site.URL("/feed.xml") || name != "Harbor Gazette — Latest" {
		t.Fatalf("discovery filled url %q name %q", feedURL, name)
	}

	browserStep(t, ctx, "preview", 15*time.Second,
		chromedp.SetValue(`select[name="section"]`, "Local news"),
		chromedp.SetValue(`input[name="interval"]`, "1m"),
		chromedp.Click(`#preview-button`),
		chromedp.WaitVisible(`#preview .preview-items`),
	)
	preview := browserRead(t, ctx, "preview", chromedp.Text(`#preview`))
	for _, want := range []string{"Harbour pilots end strike after overnight talks", "Jane Roe", "Council agrees sale of disused lighthouse"} {
		if !strings.Contains(preview, want) {
			t.Errorf("preview lacks %q:\n%s", want, preview)
		}
	}
	if n, _ := e.store.CountItems(context.Background()); len(n) != 0 {
		t.Fatal("preview stored items")
	}

	browserStep(t, ctx, "save", 10*time.Second,
		chromedp.Click(`#save-button`),
		chromedp.WaitVisible(`p.notice`),
	)
	notice := browserRead(t, ctx, "notice", chromedp.Text(`p.notice`))
	if !strings.Contains(notice, "Added") {
		t.Fatalf("after save: %q", notice)
	}
	if !strings.Contains(e.fileText(), "  - name: Harbor Gazette — Latest\n    url: "+site.URL("/feed.xml")+"\n    type: feed\n    section: Local news\n    interval: 1m\n") {
		t.Errorf("sources.yaml after save:\n%s", e.fileText())
	}

	// The running fetcher picks the new source up; the sources page shows
	// its first successful poll.
	row := `tr[data-source="Harbor Gazette — Latest"]`
	deadline := time.Now().Add(20 * time.Second)
	var rowText string
	for {
		browserStep(t, ctx, "reload sources", 5*time.Second,
			chromedp.Navigate(base+"/admin/sources"),
			chromedp.WaitVisible(row),
		)
		rowText = browserRead(t, ctx, "row", chromedp.Text(row))
		if !strings.Contains(rowText, "pending") && !strings.Contains(rowText, "never") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("source not polled in time; row: %s", rowText)
		}
		time.Sleep(300 * time.Millisecond)
	}
	if !strings.Contains(rowText, "ok") || !strings.Contains(rowText, "6") {
		t.Errorf("row after the poll: %s", rowText)
	}
	browserStep(t, ctx, "queue", 10*time.Second,
		chromedp.Navigate(base+"/queue"),
		chromedp.WaitVisible(`.items`),
	)
	queue := browserRead(t, ctx, "queue", chromedp.Text(`.items`))
	for _, st := range siteStories() {
		if !strings.Contains(queue, st.Title) {
			t.Errorf("queue lacks %q", st.Title)
		}
	}
	if site.feedHits.Load() < 2 {
		t.Errorf("feed fetched %d times; want preview and poll", site.feedHits.Load())
	}
}

// TestBrowserUpdatesMovedSource: in headless Chromium an admin sees the
// notice beside a source that moved permanently, clicks its one button,
// and is back on the list with the URL updated and the notice gone.
func TestBrowserUpdatesMovedSource(t *testing.T) {
	ctx := startBrowser(t)
	const oldURL, newURL = "http://news.example/rss", "https://feeds.news.example/all.xml"
	e := newSourcesEnvWith(t, []byte(strings.Replace(movedSources, "OLD", oldURL, 1)))
	if err := e.store.PutSourceState(context.Background(), &model.SourceState{Name: "Harbor Gazette", URL: oldURL, MovedTo: newURL,
		LastAttempt: e.clock.Now(), LastSuccess: e.clock.Now(), ItemsFound: 3}); err != nil {
		t.Fatal(err)
	}
	row := `tr[data-source="Harbor Gazette"]`
	browserStep(t, ctx, "sign in", 10*time.Second,
		chromedp.Navigate(e.srv.URL+"/login?next=/admin/sources"),
		chromedp.SendKeys(`input[name="name"]`, testUsers["admin"]),
		chromedp.SendKeys(`input[name="password"]`, testPassword),
		chromedp.Click(`form[action="/login"] button[type="submit"]`),
		chromedp.WaitVisible(row+` .moved`),
	)
	notice := browserRead(t, ctx, "notice", chromedp.Text(row+` .moved`))
	if !strings.Contains(notice, "Moved permanently to "+newURL) {
		t.Errorf("notice reads %q", notice)
	}
	browserStep(t, ctx, "update the URL", 10*time.Second,
		chromedp.Click(row+` form[action="/admin/sources/moved"] button`),
		chromedp.WaitVisible(`p.notice[role="status"]`),
	)
	if done := browserRead(t, ctx, "done", chromedp.Text(`p.notice[role="status"]`)); !strings.Contains(done, "Updated the URL") {
		t.Errorf("after the click: %q", done)
	}
	if left := browserRead(t, ctx, "row", chromedp.Text(row)); strings.Contains(left, "Moved permanently") {
		t.Errorf("notice still shown: %s", left)
	}
	if !strings.Contains(e.fileText(), "    url: "+newURL+" # first address\n") {
		t.Errorf("sources.yaml after the click:\n%s", e.fileText())
	}
}
