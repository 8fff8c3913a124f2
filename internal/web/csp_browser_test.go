package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/clipsheet/clipsheet/internal/model"
)

// TestBrowserPagesRunUnderTheCSP signs in as admin in headless Chromium and
// opens every page with the server's real Content-Security-Policy: the
// browser must report no violation and no script error. A control page
// with an inline script, served with the same policy, proves the browser
// reports violations to the test at all.
func TestBrowserPagesRunUnderTheCSP(t *testing.T) {
	h := newAccessHarness(t)
	ctx := context.Background()
	for i, status := range []model.Status{model.StatusQueued, model.StatusApproved} {
		it := h.add("https://news.example/"+string(rune('a'+i)), "Story", "Lead text of the story.", "Top stories")
		if _, err := h.store.UpdateItem(ctx, it.ID, func(i *model.Item) error { i.Status = status; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	control := http.NewServeMux()
	control.HandleFunc("/inline", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", contentSecurityPolicy)
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(`<!doctype html><p>control</p><script>document.title = "ran"</script>`))
	})
	cs := httptest.NewServer(control)
	t.Cleanup(cs.Close)
	controlSrv := cs.URL

	bctx := startBrowser(t)
	var mu sync.Mutex
	var messages []chromedp.ConsoleMessage
	listen, stop := context.WithCancel(bctx)
	done := make(chan struct{})
	msgs := chromedp.Console(listen)
	go func() {
		defer close(done)
		for m, err := range msgs {
			if err != nil {
				return
			}
			mu.Lock()
			messages = append(messages, m)
			mu.Unlock()
		}
	}()
	browserStep(t, bctx, "control page", 5*time.Second, chromedp.Navigate(controlSrv+"/inline"))
	browserStep(t, bctx, "sign in", 5*time.Second,
		chromedp.Navigate(h.srv.URL+"/login"),
		chromedp.SendKeys(`input[name="name"]`, testUsers[model.RoleAdmin]),
		chromedp.SendKeys(`input[name="password"]`, testPassword),
		chromedp.Click(`form[action="/login"] button[type="submit"]`),
		chromedp.WaitVisible(`form[action="/logout"]`),
	)
	admin := h.as(model.RoleAdmin)
	pages := 0
	for _, key := range sortedRoutes() {
		method, route, _ := strings.Cut(key, " ")
		rule := routeAccess[key]
		if method != http.MethodGet || rule.want != http.StatusOK || isMachinePath(route) || strings.HasPrefix(route, "/static/") || route == "/healthz" || route == "/login" {
			continue
		}
		path := rule.path
		if path == "" {
			path = concretePath(route)
		}
		if _, _, hdr := h.getWith(admin, path); !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") {
			continue // a download such as the OPML export
		}
		browserStep(t, bctx, "open "+path, 5*time.Second, chromedp.Navigate(h.srv.URL+path), chromedp.WaitReady("body"))
		pages++
	}
	// Let the last page's scripts run, then stop listening.
	browserStep(t, bctx, "settle", 5*time.Second, chromedp.Navigate(h.srv.URL+"/account"), chromedp.WaitVisible("h1"))
	stop()
	<-done

	mu.Lock()
	defer mu.Unlock()
	controlSeen := false
	for _, m := range messages {
		if strings.HasPrefix(m.URL, controlSrv) || strings.Contains(m.Text, controlSrv) {
			controlSeen = controlSeen || strings.Contains(m.Text, "Content Security Policy")
			continue
		}
		if m.Type == chromedp.ConsoleError || m.IsException() || strings.Contains(m.Text, "Content Security Policy") {
			t.Errorf("browser reported on a Clipsheet page: %s (%s)", m, m.URL)
		}
	}
	if !controlSeen {
		t.Fatalf("the control page's inline script drew no CSP report; the check saw nothing (%d messages: %v)", len(messages), messages)
	}
	t.Logf("opened %d pages, %d browser messages", pages, len(messages))
}
