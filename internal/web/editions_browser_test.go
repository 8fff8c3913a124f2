package web

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/clipsheet/clipsheet/internal/model"
)

// pollTrue evaluates cond in the page until it is true, across the page
// loads a form's answer causes (an evaluation that fails meanwhile is
// simply repeated).
func pollTrue(t *testing.T, ctx context.Context, what, cond string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		sctx, cancel := context.WithTimeout(ctx, time.Second)
		ok, err := chromedp.Run(sctx, chromedp.Evaluate[bool](`(() => { try { return document.readyState === "complete" && !!(`+cond+`); } catch (e) { return false; } })()`))
		cancel()
		if err == nil && ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	var where string
	sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	where, _ = chromedp.Run(sctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText.slice(0, 500)`))
	cancel()
	t.Fatalf("browser: waiting for %s (%s); the browser shows %s", what, cond, where)
}

const nextOrderJS = `Array.from(document.querySelectorAll(".next-item")).map(function (li) { return li.getAttribute("data-id"); }).join(",")`

// TestBrowserArrangeNextEditionByKeyboard: on the preview a curator
// selects with j, moves a story down with J and back up with Alt+Up, pins
// the lead with p, drags a story before another, and publishes with the
// keyboard; the edition keeps
// that order and "/" shows it.
func TestBrowserArrangeNextEditionByKeyboard(t *testing.T) {
	h := newHarness(t)
	var items []*model.Item
	for i, title := range []string{"Bridge inspection closes two lanes", "Council sells the lighthouse", "Storm warning for the coast"} {
		items = append(items, h.addApproved(fmt.Sprint("k", i), title, "Lead paragraph.", "Top stories"))
		time.Sleep(1100 * time.Millisecond) // distinct decision times, so a stable default order
	}
	initial, err := h.server.press.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ids := func(n []model.EditionItem) []string {
		var out []string
		for _, it := range n {
			out = append(out, it.ID)
		}
		return out
	}
	order := ids(initial.Items)

	ctx := startBrowser(t)
	browserStep(t, ctx, "sign in", 15*time.Second,
		chromedp.Navigate(h.srv.URL+"/login?next=/editions/next"),
		chromedp.SendKeys(`input[name="name"]`, testUsers[model.RoleCurator]),
		chromedp.SendKeys(`input[name="password"]`, testPassword),
		chromedp.Click(`form[action="/login"] button[type="submit"]`),
		chromedp.WaitVisible(`.next-edition .next-item`),
	)
	if got := browserRead(t, ctx, "order", chromedp.Evaluate[string](nextOrderJS)); got != strings.Join(order, ",") {
		t.Fatalf("preview order %s, want %s", got, strings.Join(order, ","))
	}
	// j selects the second story; J moves it down.
	browserStep(t, ctx, "j then J", 5*time.Second, chromedp.KeyEvent("j"), chromedp.KeyEvent("J"))
	moved := []string{order[0], order[2], order[1]}
	pollTrue(t, ctx, "the story moved down", nextOrderJS+` === `+jsString(strings.Join(moved, ",")))
	pollTrue(t, ctx, "the moved story selected", `document.querySelector(".next-item.current") && document.querySelector(".next-item.current").getAttribute("data-id") === `+jsString(order[1]))
	if got, _ := h.server.press.Next(context.Background()); strings.Join(ids(got.Items), ",") != strings.Join(moved, ",") {
		t.Fatalf("stored order after J: %v", ids(got.Items))
	}
	// Alt+Up moves it back up.
	browserStep(t, ctx, "Alt+Up", 5*time.Second, chromedp.KeyEvent(kb.ArrowUp, chromedp.KeyModifiers(chromedp.ModifierAlt)))
	pollTrue(t, ctx, "the story moved up", nextOrderJS+` === `+jsString(strings.Join(order, ",")))
	// p pins the selected story as the lead: it goes first.
	browserStep(t, ctx, "p", 5*time.Second, chromedp.KeyEvent("p"))
	pinned := []string{order[1], order[0], order[2]}
	pollTrue(t, ctx, "the story pinned", nextOrderJS+` === `+jsString(strings.Join(pinned, ","))+` && document.querySelector(".next-item.is-lead")`)
	// Drag (the enhancement): the last story dropped on the second goes
	// before it. The browser's own drag gestures cannot be driven headless,
	// so the page gets the events a drag sends.
	dragged := []string{order[1], order[2], order[0]}
	browserStep(t, ctx, "drag", 5*time.Second, chromedp.Evaluate[chromedp.Void](`(() => {
  const rows = document.querySelectorAll(".next-item");
  const from = rows[2], to = rows[1], dt = new DataTransfer();
  from.dispatchEvent(new DragEvent("dragstart", {bubbles: true, dataTransfer: dt}));
  to.dispatchEvent(new DragEvent("dragover", {bubbles: true, cancelable: true, dataTransfer: dt}));
  to.dispatchEvent(new DragEvent("drop", {bubbles: true, cancelable: true, dataTransfer: dt}));
})()`))
	pollTrue(t, ctx, "the dragged story placed", nextOrderJS+` === `+jsString(strings.Join(dragged, ",")))
	// Publish by keyboard: focus the button, press Enter.
	browserStep(t, ctx, "publish", 5*time.Second, chromedp.Focus(`#publish-now`), chromedp.KeyEvent(kb.Enter))
	pollTrue(t, ctx, "the edition page", `document.querySelector(".briefing.edition")`)
	e, err := h.store.LatestEdition(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range e.Items {
		got = append(got, it.ID)
	}
	if strings.Join(got, ",") != strings.Join(dragged, ",") || e.Lead != order[1] || e.PublishedBy != testUsers[model.RoleCurator] {
		t.Errorf("published %v lead %s by %s, want %v lead %s", got, e.Lead, e.PublishedBy, dragged, order[1])
	}
	browserStep(t, ctx, "front page", 5*time.Second, chromedp.Navigate(h.srv.URL+"/"), chromedp.WaitVisible(`.briefing.edition`))
	lead := browserRead(t, ctx, "lead", chromedp.TextContent(`.lead-block .headline`))
	if strings.TrimSpace(lead) != items[indexOf(items, order[1])].Title {
		t.Errorf("front page lead %q", lead)
	}
	// Share: the copy buttons show with the script; "Copy edition as
	// text" puts the edition's text on the clipboard, "Copy link" a
	// story's page.
	for _, name := range []string{"clipboard-read", "clipboard-write"} {
		if _, err := chromedp.CallBrowser(ctx, browser.SetPermission, browser.SetPermissionParams{
			Permission: &browser.PermissionDescriptor{Name: name, AllowWithoutSanitization: true}, Setting: browser.PermissionSettingGranted, Origin: h.srv.URL}); err != nil {
			t.Fatalf("grant %s: %v", name, err)
		}
	}
	clipboard := chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise)
	browserStep(t, ctx, "copy edition", 5*time.Second, chromedp.Click(`button[data-copy-from]`))
	pollTrue(t, ctx, "copied", `document.getElementById("share-status").textContent === "Edition text copied."`)
	text := browserRead(t, ctx, "clipboard", clipboard)
	if !strings.HasPrefix(text, "Clipsheet briefing — ") || !strings.Contains(text, items[0].Title+"\nExample News · Ann Lee\nLead paragraph.\nhttps://news.example/k0\n") {
		t.Errorf("clipboard after Copy edition as text:\n%s", text)
	}
	browserStep(t, ctx, "copy link", 5*time.Second, chromedp.Click(`.lead-block button[data-copy]`))
	pollTrue(t, ctx, "link copied", `document.getElementById("share-status").textContent === "Link copied."`)
	if got := browserRead(t, ctx, "clipboard", clipboard); got != h.server.feedBase()+"/items/"+order[1] {
		t.Errorf("clipboard after Copy link: %q", got)
	}
	// Nothing is left: the preview says so.
	browserStep(t, ctx, "preview again", 5*time.Second, chromedp.Navigate(h.srv.URL+"/editions/next"), chromedp.WaitVisible(`#next-empty`))
}

func indexOf(items []*model.Item, id string) int {
	for i, it := range items {
		if it.ID == id {
			return i
		}
	}
	return -1
}
