package web

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/clipsheet/clipsheet/internal/model"
)

// signInToQueue signs the browser in as the curator and opens path.
func signInToQueue(t *testing.T, ctx context.Context, base, path string) {
	t.Helper()
	browserStep(t, ctx, "sign in", 10*time.Second,
		chromedp.Navigate(base+"/login?next="+path),
		chromedp.SendKeys(`input[name="name"]`, testUsers[model.RoleCurator]),
		chromedp.SendKeys(`input[name="password"]`, testPassword),
		chromedp.Click(`form[action="/login"] button[type="submit"]`),
		chromedp.WaitVisible(`.desk`),
	)
}

// tabCounts reads the three tab labels, e.g. "Queued (1) Approved (1) Rejected (0)".
var tabCounts = chromedp.Evaluate[string](`Array.from(document.querySelectorAll(".tabs a")).map(function (a) { return a.textContent.trim(); }).join(" ")`)

// waitFor polls a JavaScript condition until it holds.
func waitFor(t *testing.T, ctx context.Context, what, cond string) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := chromedp.Run(sctx, chromedp.Poll[bool](cond)); err != nil {
		t.Fatalf("browser: waiting for %s (%s): %v", what, cond, err)
	}
}

func storedStatus(t *testing.T, h *harness, id string) model.Status {
	t.Helper()
	return mustItem(t, h, id).Status
}

// TestBrowserQueueCountsAndEmptyState: keyboard decisions keep the tab
// counts true without a reload, and the last one leaves the queue's own
// "Queue clear" state with what to do next, focused, instead of a blank
// list.
func TestBrowserQueueCountsAndEmptyState(t *testing.T) {
	h := newHarness(t)
	first := h.add("https://example.com/first", "Bridge inspection closes two lanes", "Crews will inspect the bridge overnight.", "Top stories")
	h.clock.Add(time.Minute)
	second := h.add("https://example.com/second", "Phishing wave targets county payroll", "Staff received fake payslip emails.", "Cyber")
	ctx := startBrowser(t)
	signInToQueue(t, ctx, h.srv.URL, "/queue")
	if got := browserRead(t, ctx, "counts", tabCounts); got != "Queued (2) Approved (0) Rejected (0)" {
		t.Fatalf("counts on load: %q", got)
	}
	if browserRead(t, ctx, "empty state", chromedp.Evaluate[string](`String(document.getElementById("queue-empty").hidden)`)) != "true" {
		t.Errorf("the empty state shows while items are listed")
	}

	browserStep(t, ctx, "press a", 5*time.Second, chromedp.KeyEvent("a"))
	waitFor(t, ctx, "one item left", `document.querySelectorAll(".items > .item").length === 1`)
	if got := browserRead(t, ctx, "counts", tabCounts); got != "Queued (1) Approved (1) Rejected (0)" {
		t.Errorf("counts after approving one: %q", got)
	}
	browserStep(t, ctx, "press r", 5*time.Second, chromedp.KeyEvent("r"))
	waitFor(t, ctx, "empty queue", `document.querySelectorAll(".items > .item").length === 0`)
	if got := browserRead(t, ctx, "counts", tabCounts); got != "Queued (0) Approved (1) Rejected (1)" {
		t.Errorf("counts after the last decision: %q", got)
	}
	waitFor(t, ctx, "empty state", `!document.getElementById("queue-empty").hidden`)
	empty := browserRead(t, ctx, "empty state", chromedp.Text(`#queue-empty`))
	if !strings.Contains(empty, "Queue clear") || !strings.Contains(empty, "read the briefing") {
		t.Errorf("empty state after the last decision: %q", empty)
	}
	if focused := browserRead(t, ctx, "focus", chromedp.Evaluate[string](`document.activeElement.id`)); focused != "queue-empty" {
		t.Errorf("focus after the last decision is on %q, want the empty state", focused)
	}
	if storedStatus(t, h, first.ID) == model.StatusQueued || storedStatus(t, h, second.ID) == model.StatusQueued {
		t.Fatalf("decisions not stored")
	}

	// The server says the same after a reload: the script showed its own
	// empty state, not one of its own making.
	browserStep(t, ctx, "reload", 5*time.Second, chromedp.Navigate(h.srv.URL+"/queue"), chromedp.WaitVisible(`#queue-empty`))
	if again := browserRead(t, ctx, "empty state", chromedp.Text(`#queue-empty`)); again != empty {
		t.Errorf("server's empty state %q differs from the script's %q", again, empty)
	}
	if got := browserRead(t, ctx, "counts", tabCounts); got != "Queued (0) Approved (1) Rejected (1)" {
		t.Errorf("counts after reload: %q", got)
	}
}

// TestBrowserKeysActByTab: on the Approved tab a only says the item is
// approved already, r rejects and u moves it back to the queue; on the
// Rejected tab r only says so; the key help and buttons offer what the
// tab's keys do.
func TestBrowserKeysActByTab(t *testing.T) {
	h := newHarness(t)
	a := h.add("https://example.com/a", "Flood warning for river towns", "The river crests at 6 pm.", "Top stories")
	b := h.add("https://example.com/b", "Patch Tuesday fixes sixty flaws", "Two are exploited.", "Cyber")
	for _, it := range []*model.Item{a, b} {
		if _, err := h.store.UpdateItem(context.Background(), it.ID, func(i *model.Item) error { i.Status = model.StatusApproved; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	ctx := startBrowser(t)
	signInToQueue(t, ctx, h.srv.URL, "/queue?status=approved")
	keys := browserRead(t, ctx, "key help", chromedp.TextContent(`.keys`))
	if strings.Contains(keys, "approve") || !strings.Contains(keys, "r reject") || !strings.Contains(keys, "u back to queue") {
		t.Errorf("key help on the Approved tab: %q", keys)
	}
	if n := browserRead(t, ctx, "approve buttons", chromedp.Evaluate[string](`String(document.querySelectorAll(".items button.approve").length)`)); n != "0" {
		t.Errorf("the Approved tab offers %s Approve buttons", n)
	}
	cur := browserRead(t, ctx, "selected", selectedItem)

	browserStep(t, ctx, "press a", 5*time.Second, chromedp.KeyEvent("a"), chromedp.WaitVisible(`#live`))
	if toast := browserRead(t, ctx, "announcement", chromedp.Text(`#live`)); toast != "Already approved" {
		t.Errorf("a on the Approved tab announces %q", toast)
	}
	if n := browserRead(t, ctx, "items", chromedp.Evaluate[string](`String(document.querySelectorAll(".items > .item").length)`)); n != "2" {
		t.Errorf("a on the Approved tab left %s items listed, want 2", n)
	}
	if got := mustItem(t, h, cur); got.Status != model.StatusApproved || got.DecidedBy != "" {
		t.Errorf("a on the Approved tab decided again: %+v", got)
	}

	browserStep(t, ctx, "press r", 5*time.Second, chromedp.KeyEvent("r"))
	waitFor(t, ctx, "one item left", `document.querySelectorAll(".items > .item").length === 1`)
	if storedStatus(t, h, cur) != model.StatusRejected {
		t.Errorf("r on the Approved tab did not reject")
	}
	if got := browserRead(t, ctx, "counts", tabCounts); got != "Queued (0) Approved (1) Rejected (1)" {
		t.Errorf("counts after r: %q", got)
	}
	rest := browserRead(t, ctx, "selected", selectedItem)
	browserStep(t, ctx, "press u", 5*time.Second, chromedp.KeyEvent("u"))
	waitFor(t, ctx, "empty tab", `!document.getElementById("queue-empty").hidden`)
	if storedStatus(t, h, rest) != model.StatusQueued {
		t.Errorf("u on the Approved tab did not requeue")
	}
	if got := browserRead(t, ctx, "counts", tabCounts); got != "Queued (1) Approved (0) Rejected (1)" {
		t.Errorf("counts after u: %q", got)
	}
	if empty := browserRead(t, ctx, "empty state", chromedp.Text(`#queue-empty`)); !strings.Contains(empty, "No approved items") {
		t.Errorf("empty Approved tab: %q", empty)
	}

	// The Rejected tab: r only says so, a approves.
	browserStep(t, ctx, "rejected tab", 5*time.Second, chromedp.Navigate(h.srv.URL+"/queue?status=rejected"), chromedp.WaitVisible(`.item.current`))
	keys = browserRead(t, ctx, "key help", chromedp.TextContent(`.keys`))
	if strings.Contains(keys, "reject") || !strings.Contains(keys, "a approve") || !strings.Contains(keys, "u back to queue") {
		t.Errorf("key help on the Rejected tab: %q", keys)
	}
	browserStep(t, ctx, "press r", 5*time.Second, chromedp.KeyEvent("r"), chromedp.WaitVisible(`#live`))
	if toast := browserRead(t, ctx, "announcement", chromedp.Text(`#live`)); toast != "Already rejected" {
		t.Errorf("r on the Rejected tab announces %q", toast)
	}
	browserStep(t, ctx, "press a", 5*time.Second, chromedp.KeyEvent("a"))
	waitFor(t, ctx, "empty tab", `!document.getElementById("queue-empty").hidden`)
	if storedStatus(t, h, cur) != model.StatusApproved {
		t.Errorf("a on the Rejected tab did not approve")
	}

	// The Queued tab: u only says so.
	browserStep(t, ctx, "queued tab", 5*time.Second, chromedp.Navigate(h.srv.URL+"/queue"), chromedp.WaitVisible(`.item.current`))
	keys = browserRead(t, ctx, "key help", chromedp.TextContent(`.keys`))
	if strings.Contains(keys, "back to queue") || !strings.Contains(keys, "a approve") || !strings.Contains(keys, "r reject") {
		t.Errorf("key help on the Queued tab: %q", keys)
	}
	browserStep(t, ctx, "press u", 5*time.Second, chromedp.KeyEvent("u"), chromedp.WaitVisible(`#live`))
	if toast := browserRead(t, ctx, "announcement", chromedp.Text(`#live`)); toast != "Already in the queue" {
		t.Errorf("u on the Queued tab announces %q", toast)
	}
	if got := mustItem(t, h, rest); got.Status != model.StatusQueued || got.Version != 3 {
		t.Errorf("u on the Queued tab changed the item: %+v", got)
	}
}

// rejectAsDemo records another curator's reject two minutes before the
// server's clock, as if made from another desk.
func rejectAsDemo(t *testing.T, h *harness, id string) {
	t.Helper()
	_, err := h.store.UpdateItem(context.Background(), id, func(i *model.Item) error {
		i.Status, i.DecidedBy, i.DecidedAt = model.StatusRejected, "demo", h.clock.Now().Add(-2*time.Minute).UTC()
		i.UpdatedAt = i.DecidedAt
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestBrowserStaleDecisionAsksFirst: another curator rejects the item
// while this page shows it queued; a keeps their decision, says "Already
// rejected by demo 2 min ago — approve anyway?" and focuses the button
// that approves on the current version.
func TestBrowserStaleDecisionAsksFirst(t *testing.T) {
	h := newHarness(t)
	it := h.add("https://example.com/stale", "Bridge inspection closes two lanes", "Crews will inspect the bridge overnight.", "Top stories")
	ctx := startBrowser(t)
	signInToQueue(t, ctx, h.srv.URL, "/queue")
	browserStep(t, ctx, "page shows the item", 5*time.Second, chromedp.WaitVisible(`#item-`+it.ID+`.current`))
	rejectAsDemo(t, h, it.ID)

	browserStep(t, ctx, "press a", 5*time.Second, chromedp.KeyEvent("a"), chromedp.WaitVisible(`#item-`+it.ID+` .stale-notice`))
	notice := browserRead(t, ctx, "notice", chromedp.Text(`#item-`+it.ID+` .stale-notice p`))
	if notice != "Already rejected by demo 2 min ago — approve anyway?" {
		t.Errorf("stale notice: %q", notice)
	}
	if got := mustItem(t, h, it.ID); got.Status != model.StatusRejected || got.DecidedBy != "demo" {
		t.Fatalf("the stale approve overwrote demo's reject: %+v", got)
	}
	if got := browserRead(t, ctx, "counts", tabCounts); got != "Queued (0) Approved (0) Rejected (1)" {
		t.Errorf("counts after the refusal: %q", got)
	}
	if focused := browserRead(t, ctx, "focus", chromedp.Evaluate[string](`document.activeElement.textContent`)); focused != "Approve anyway" {
		t.Fatalf("focus after the refusal is on %q, want the Approve anyway button", focused)
	}
	// Keyboard only: Enter on the focused button approves on demo's version.
	browserStep(t, ctx, "press Enter", 5*time.Second, chromedp.KeyEvent("\r"))
	waitFor(t, ctx, "empty queue", `!document.getElementById("queue-empty").hidden`)
	if got := mustItem(t, h, it.ID); got.Status != model.StatusApproved || got.DecidedBy != "cur" {
		t.Errorf("approve anyway: %+v", got)
	}
	if got := browserRead(t, ctx, "counts", tabCounts); got != "Queued (0) Approved (1) Rejected (0)" {
		t.Errorf("counts after approve anyway: %q", got)
	}
}

// TestBrowserStaleFormAsksFirst: the same without the keyboard path: the
// Approve button's form on a stale page comes back as the queue with the
// notice, and its "Approve anyway" approves.
func TestBrowserStaleFormAsksFirst(t *testing.T) {
	h := newHarness(t)
	it := h.add("https://example.com/stale-form", "Phishing wave targets county payroll", "Staff received fake payslip emails.", "Cyber")
	ctx := startBrowser(t)
	signInToQueue(t, ctx, h.srv.URL, "/queue")
	browserStep(t, ctx, "page shows the item", 5*time.Second, chromedp.WaitVisible(`#item-`+it.ID))
	rejectAsDemo(t, h, it.ID)

	browserStep(t, ctx, "click Approve", 5*time.Second,
		chromedp.Click(`#item-`+it.ID+` button.approve`),
		chromedp.WaitVisible(`#stale-notice`),
	)
	notice := browserRead(t, ctx, "notice", chromedp.Text(`#stale-notice p`))
	if notice != "Phishing wave targets county payroll: Already rejected by demo 2 min ago — approve anyway?" {
		t.Errorf("stale form notice: %q", notice)
	}
	if storedStatus(t, h, it.ID) != model.StatusRejected {
		t.Fatalf("the stale form overwrote demo's reject")
	}
	browserStep(t, ctx, "click Approve anyway", 5*time.Second,
		chromedp.Click(`#stale-notice button`),
		chromedp.WaitNotPresent(`#stale-notice`),
		chromedp.WaitVisible(`#queue-empty`),
	)
	if got := mustItem(t, h, it.ID); got.Status != model.StatusApproved || got.DecidedBy != "cur" {
		t.Errorf("approve anyway: %+v", got)
	}
	if loc := browserRead(t, ctx, "location", chromedp.Location()); !strings.HasSuffix(loc, "/queue") {
		t.Errorf("after approve anyway the browser is at %s, want the queue", loc)
	}
}
