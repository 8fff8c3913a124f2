package web

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/clipsheet/clipsheet/internal/model"
)

// selectedItem reads the data-id of the queue item the script selected.
var selectedItem = chromedp.Evaluate[string](`(document.querySelector(".item.current") || {getAttribute: function () { return ""; }}).getAttribute("data-id")`)

// TestBrowserKeyboardTriage drives the curator's morning path in a real
// browser: sign in, open the queue, move down with j, approve with a, and
// see the story leave the queue without a reload and appear on the
// briefing. It exercises app.js against the server's JSON answer, CSRF
// header and CSP together, which the HTTP tests cannot.
func TestBrowserKeyboardTriage(t *testing.T) {
	h := newHarness(t)
	first := h.add("https://example.com/first", "Bridge inspection closes two lanes", "Crews will inspect the bridge overnight.", "Top stories")
	h.clock.Add(time.Minute)
	second := h.add("https://example.com/second", "Phishing wave targets county payroll", "Staff received fake payslip emails.", "Cyber")
	ctx := startBrowser(t)
	base := h.srv.URL

	browserStep(t, ctx, "sign in", 5*time.Second,
		chromedp.Navigate(base+"/login?next=/queue"),
		chromedp.SendKeys(`input[name="name"]`, testUsers[model.RoleCurator]),
		chromedp.SendKeys(`input[name="password"]`, testPassword),
		chromedp.Click(`form[action="/login"] button[type="submit"]`),
		chromedp.WaitVisible(`.desk .items > .item.current`),
	)
	// The script selects the first item on load; j moves to the next one.
	before := browserRead(t, ctx, "selected item", selectedItem)
	browserStep(t, ctx, "press j", 3*time.Second,
		chromedp.KeyEvent("j"),
		chromedp.Query(`.item.current:not([data-id="`+before+`"])`),
	)
	picked := browserRead(t, ctx, "moved selection", selectedItem)
	if picked != first.ID && picked != second.ID {
		t.Fatalf("selected item %q is neither test item", picked)
	}
	other := first
	approved := second
	if picked == first.ID {
		other, approved = second, first
	}
	if focused := browserRead(t, ctx, "focus", chromedp.Evaluate[string](`document.activeElement && document.activeElement.getAttribute("data-id") || ""`)); focused != picked {
		t.Errorf("keyboard focus is on %q, want the selected item %q", focused, picked)
	}
	// The selected item must be visibly marked, not only focused: the
	// stylesheet draws a ring around it (items have no outline of their own).
	if ring := browserRead(t, ctx, "focus ring", chromedp.Evaluate[string](`getComputedStyle(document.querySelector(".item.current")).boxShadow`)); ring == "" || ring == "none" {
		t.Errorf("the selected, focused item has no visible ring (box-shadow %q)", ring)
	}

	// Editing with the mouse: clicking into a field of an item keeps the
	// focus in that field (the item's click handler must not steal it).
	browserStep(t, ctx, "click into edit form", 5*time.Second,
		chromedp.Click(`#item-`+other.ID+` details.edit summary`),
		chromedp.WaitVisible(`#item-`+other.ID+` input[name="byline"]`),
		chromedp.Click(`#item-`+other.ID+` input[name="byline"]`),
	)
	if name := browserRead(t, ctx, "focused field", chromedp.Evaluate[string](`document.activeElement.name || document.activeElement.tagName`)); name != "byline" {
		t.Errorf("after clicking the byline field, focus is on %q", name)
	}
	browserStep(t, ctx, "back to the picked item", 5*time.Second,
		chromedp.KeyEvent("\x1b"),
		chromedp.Click(`#item-`+picked+` .meta`),
	)

	browserStep(t, ctx, "press a", 5*time.Second,
		chromedp.KeyEvent("a"),
		chromedp.Query(`#item-`+approved.ID, chromedp.NodeNotPresent),
		chromedp.WaitVisible(`#live`),
	)
	if toast := browserRead(t, ctx, "announcement", chromedp.Text(`#live`)); toast != "Approved" {
		t.Errorf("announcement after a: %q", toast)
	}
	if now := browserRead(t, ctx, "selection after approve", selectedItem); now != other.ID {
		t.Errorf("after approving, selection is on %q; want the remaining item %q", now, other.ID)
	}
	if it, err := h.store.GetItem(context.Background(), approved.ID); err != nil || it.Status != model.StatusApproved {
		t.Fatalf("stored item after a: %+v, %v", it, err)
	}

	// A reload agrees: the item left the queue for good.
	browserStep(t, ctx, "reload queue", 5*time.Second,
		chromedp.Navigate(base+"/queue"),
		chromedp.WaitVisible(`.desk .items`),
	)
	queue := browserRead(t, ctx, "queue", chromedp.Text(`.desk`))
	if strings.Contains(queue, approved.Title) || !strings.Contains(queue, other.Title) {
		t.Errorf("queue after approve:\n%s", queue)
	}

	browserStep(t, ctx, "briefing", 5*time.Second,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(`#item-`+approved.ID),
	)
	briefing := browserRead(t, ctx, "briefing", chromedp.Text(`main`))
	if !strings.Contains(briefing, approved.Title) || strings.Contains(briefing, other.Title) {
		t.Errorf("briefing after approve:\n%s", briefing)
	}
}
