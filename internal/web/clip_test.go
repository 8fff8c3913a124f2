package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/clipsheet/clipsheet/internal/config"
	"github.com/clipsheet/clipsheet/internal/fetch"
	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/store"
)

// clipSite serves one story page on loopback.
func clipSite(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/news/bridge" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><html lang="en"><head><title>Bridge reopens after repairs | Harbor Gazette</title></head><body><article>
<h1>Bridge reopens after repairs</h1><p class="byline">By Dana Reporter</p>
<p>The harbour bridge reopened to traffic on Monday after six weeks of repairs to its deck, the county said.</p>
<p>Engineers replaced 40 expansion joints and resurfaced both lanes.</p></article></body></html>`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func withClipper(t *testing.T) harnessOpt {
	return func(c *Config) {
		cfg := config.DefaultSettings().Fetch
		cfg.AllowPrivate = true
		f := fetch.New(nil, cfg, 600, slog.New(slog.DiscardHandler))
		t.Cleanup(f.Close)
		c.Clipper = f
	}
}

// TestClipByAddress: a curator clips a story by its address through the
// page form and the API; it is queued under "Clipped" and audited; the
// same story is not stored twice; a bad address or a page that cannot be
// fetched is a clear 422; the account page offers the bookmarklet to
// curators only.
func TestClipByAddress(t *testing.T) {
	site := clipSite(t)
	h := newHarness(t, withClipper(t))
	ctx := context.Background()
	story := site.URL + "/news/bridge"

	code, body, _ := h.get("/clip?url=" + url.QueryEscape(story))
	if code != 200 || !strings.Contains(body, `value="`+story+`"`) {
		t.Fatalf("clip page: %d", code)
	}
	csrf := h.csrf()
	code, _ = h.post("/clip", url.Values{"csrf_token": {csrf}, "url": {story}, "section": {"Top stories"}}, nil)
	if code != 303 {
		t.Fatalf("clip form: %d", code)
	}
	got, _ := h.store.ListItems(ctx, store.ItemFilter{Source: fetch.ClipSource})
	if len(got) != 1 || got[0].Title != "Bridge reopens after repairs" || got[0].Section != "Top stories" || got[0].Status != model.StatusQueued {
		t.Fatalf("clipped: %+v", got)
	}
	if ev, _ := h.store.ListAudit(ctx, store.AuditFilter{Action: model.AuditItemClip}); len(ev) != 1 || ev[0].Target != got[0].ID {
		t.Errorf("audit: %+v", ev)
	}
	for _, bad := range []struct{ url, want string }{
		{"not an address", "not a web address"},
		{site.URL + "/missing", "Could not clip it"},
	} {
		code, body := h.post("/clip", url.Values{"csrf_token": {csrf}, "url": {bad.url}}, nil)
		if code != 422 || !strings.Contains(body, bad.want) {
			t.Errorf("clip %q: %d, want 422 with %q", bad.url, code, bad.want)
		}
	}
	if code, body := h.post("/clip", url.Values{"csrf_token": {csrf}, "url": {story}, "section": {"Nowhere"}}, nil); code != 422 || !strings.Contains(body, "section does not exist") {
		t.Errorf("unknown section: %d", code)
	}

	tok := h.token(model.RoleCurator)
	code, item := h.apiCall(tok, "POST", "/api/v1/clip", `{"url":"`+story+`"}`)
	if code != 200 || item["id"] != got[0].ID {
		t.Errorf("API clip of a story the desk has: %d %v", code, item["id"])
	}
	if code, body := h.apiCall(tok, "POST", "/api/v1/clip", `{"url":"ftp://example.com/x"}`); code != 422 || apiErrCode(body) != "invalid" {
		t.Errorf("API clip of a bad address: %d %v", code, body)
	}
	if n, _ := h.store.CountItems(ctx); n[model.StatusQueued] != 1 {
		t.Errorf("items after clipping one story three times: %v", n)
	}

	_, acct, _ := h.getWith(h.as(model.RoleCurator), "/account")
	if !strings.Contains(acct, `class="bookmarklet" href="javascript:void%28location.href=`) || !strings.Contains(acct, "/clip?url=") {
		i := strings.Index(acct, "bookmarklet")
		t.Errorf("the curator's account page has no bookmarklet: %q", acct[max(0, i-50):min(len(acct), i+200)])
	}
	if _, acct, _ := h.getWith(h.as(model.RoleReader), "/account"); strings.Contains(acct, "bookmarklet") {
		t.Error("a reader is offered the bookmarklet")
	}
}

// TestBrowserBookmarkletOpensClipForm: run on a story's page, the
// account page's bookmarklet opens this desk's clip form with the story's
// address filled in.
func TestBrowserBookmarkletOpensClipForm(t *testing.T) {
	site := clipSite(t)
	h := newHarness(t, withClipper(t))
	bctx := startBrowser(t)
	browserStep(t, bctx, "sign in", 10*time.Second,
		chromedp.Navigate(h.srv.URL+"/login?next=/account"),
		chromedp.SendKeys(`input[name="name"]`, testUsers[model.RoleCurator]),
		chromedp.SendKeys(`input[name="password"]`, testPassword),
		chromedp.Click(`form[action="/login"] button[type="submit"]`),
		chromedp.WaitVisible(`a.bookmarklet`),
	)
	href := browserRead(t, bctx, "bookmarklet", chromedp.Evaluate[string](`document.querySelector("a.bookmarklet").getAttribute("href")`))
	story := site.URL + "/news/bridge"
	// A bookmark runs its javascript: address in the page shown: here, as
	// the browser does, decoded and evaluated in the story's page.
	browserStep(t, bctx, "open the story and click the bookmark", 10*time.Second,
		chromedp.Navigate(story),
		chromedp.WaitVisible(`h1`),
		chromedp.Evaluate[chromedp.Void](`eval(decodeURIComponent(`+strconv.Quote(strings.TrimPrefix(href, "javascript:"))+`))`),
		chromedp.WaitVisible(`.clip-form input[name="url"]`),
	)
	if got := browserRead(t, bctx, "address", chromedp.Evaluate[string](`document.querySelector('.clip-form input[name="url"]').value`)); got != story {
		t.Errorf("the clip form holds %q, want %q", got, story)
	}
}
