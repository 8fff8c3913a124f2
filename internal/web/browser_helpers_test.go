package web

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// startBrowser starts headless Chromium for one test, bounded in time,
// or skips the test when Chromium is not installed.
func startBrowser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("REQUIRE_CHROMIUM") != "" {
			// make test installs Chromium; there a missing browser is a
			// broken set-up, not a reason to pass without the test.
			t.Fatalf("headless Chromium not found at %s and REQUIRE_CHROMIUM is set: %v", chromiumPath, err)
		}
		t.Skipf("headless Chromium not found at %s (`make deps` installs Debian's chromium); skipping the browser test", chromiumPath)
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	t.Cleanup(cancelAlloc)
	ctx, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("browser: start %s: %v", chromiumPath, err)
		}
	case <-time.After(20 * time.Second):
		cancelBrowser()
		t.Fatal("browser: did not start within 20s")
	}
	return ctx
}
