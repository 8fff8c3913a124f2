package web

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/store"
)

const wildfireLead = "A wind-driven wildfire tore through brushy hills north of Ventura on Tuesday, forcing more than 8,000 people to flee their homes as firefighters struggled to keep the flames from reaching neighborhoods along the coast. The Foothill Fire had burned about 6 square miles by late afternoon and was 0% contained, according to the California Department of Forestry and Fire Protection."

// TestQueueShowsOneCardPerStory: three outlets' copies of one wire story
// make one card listing the other two versions; approving a version from
// the card files the others as its duplicates (audited) and the briefing
// carries the story once.
func TestQueueShowsOneCardPerStory(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	now := time.Now().UTC()
	add := func(url, site, title, lead string, at time.Time) *model.Item {
		it := model.NewItem(model.Extraction{URL: url, SiteName: site, Title: title, Lead: lead, Byline: "Associated Press"}, site, "Top stories", at)
		if _, err := h.store.AddItem(ctx, it); err != nil {
			t.Fatal(err)
		}
		return it
	}
	ap := add("https://apnews.com/article/wildfire-ventura", "AP News", "Wind-driven wildfire forces thousands to flee in Southern California", "VENTURA, Calif. (AP) — "+wildfireLead, now.Add(-time.Hour))
	ktla := add("https://ktla.com/news/foothill-fire", "KTLA", "Foothill Fire: 8,000 evacuated as flames race toward Ventura neighborhoods", wildfireLead, now.Add(-40*time.Minute))
	yahoo := add("https://news.yahoo.com/wildfire-forces-thousands", "Yahoo News", "Wind-driven wildfire forces thousands to flee in Southern California", "VENTURA, Calif. (AP) — "+wildfireLead[:200], now.Add(-20*time.Minute))
	other := h.add("https://example.com/council", "Council passes budget with new money for libraries", "The council voted 5-2 on Monday.", "Top stories")

	_, body, _ := h.get("/queue")
	cards := regexp.MustCompile(`<li class="item" id="item-([0-9a-f]+)"`).FindAllStringSubmatch(body, -1)
	if len(cards) != 2 {
		t.Fatalf("%d cards for one story and one other item", len(cards))
	}
	if !strings.Contains(body, "2 other versions of this story") || strings.Count(body, "text differs by") != 2 {
		t.Errorf("the story's card does not list its two other versions")
	}
	if !strings.Contains(body, `id="item-`+other.ID+`"`) {
		t.Error("the unrelated item has no card")
	}
	csrf := h.csrf()
	code, _ := h.post("/items/"+ktla.ID+"/approve", url.Values{"csrf_token": {csrf}, "version": {"1"}}, nil)
	if code != 303 {
		t.Fatalf("approve a version: %d", code)
	}
	for _, id := range []string{ap.ID, yahoo.ID} {
		it, _ := h.store.GetItem(ctx, id)
		if it.Status != model.StatusRejected || it.DuplicateOf != ktla.ID {
			t.Errorf("%s: %s, duplicate of %q", it.SiteName, it.Status, it.DuplicateOf)
		}
	}
	events, _ := h.store.ListAudit(ctx, store.AuditFilter{Action: model.AuditItemDuplicate})
	if len(events) != 2 {
		t.Errorf("%d duplicates audited, want 2", len(events))
	}
	_, body, _ = h.get("/queue")
	if strings.Contains(body, "Foothill") || strings.Contains(body, "Wind-driven wildfire") {
		t.Error("the story is still in the queue")
	}
	_, brief, _ := h.get("/")
	if n := strings.Count(brief, "Foothill Fire: 8,000 evacuated"); n != 1 || strings.Contains(brief, "Wind-driven wildfire forces thousands") {
		t.Errorf("the briefing carries the story %d times, or another version", n)
	}
	// The approved tab's card names the versions filed as duplicates.
	_, body, _ = h.get("/queue?status=approved")
	if !strings.Contains(body, "2 other versions of this story") || strings.Count(body, "a duplicate") != 2 {
		t.Error("the approved card does not show the duplicates")
	}
}

// TestBrowserPickVersionByKey: on a story's card, the key 2 approves the
// second other version; the card leaves the queue, the counts follow, and
// the other versions are filed as its duplicates.
func TestBrowserPickVersionByKey(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	now := time.Now().UTC()
	var ids []string
	for i, v := range []struct{ url, site, title, lead string }{
		{"https://apnews.com/article/wildfire-ventura", "AP News", "Wind-driven wildfire forces thousands to flee in Southern California", "VENTURA, Calif. (AP) — " + wildfireLead},
		{"https://ktla.com/news/foothill-fire", "KTLA", "Foothill Fire: 8,000 evacuated as flames race toward Ventura neighborhoods", wildfireLead},
		{"https://news.yahoo.com/wildfire-forces-thousands", "Yahoo News", "Wind-driven wildfire forces thousands to flee in Southern California", "VENTURA, Calif. (AP) — " + wildfireLead[:200]},
	} {
		it := model.NewItem(model.Extraction{URL: v.url, SiteName: v.site, Title: v.title, Lead: v.lead}, v.site, "Top stories", now.Add(time.Duration(i-3)*time.Minute))
		if _, err := h.store.AddItem(ctx, it); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, it.ID)
	}
	bctx := startBrowser(t)
	signInToQueue(t, bctx, h.srv.URL, "/queue")
	if got := browserRead(t, bctx, "counts", tabCounts); got != "Queued (3) Approved (0) Rejected (0)" {
		t.Fatalf("counts on load: %q", got)
	}
	// The card's item is the newest (Yahoo); its versions list the first
	// item and KTLA, newest first after the first: AP, then KTLA.
	second := browserRead(t, bctx, "second version", chromedp.Evaluate[string](`document.querySelectorAll(".item.current .versions li")[1].getAttribute("data-id")`))
	browserStep(t, bctx, "press 2", 5*time.Second, chromedp.KeyEvent("2"))
	waitFor(t, bctx, "the card to leave", `document.querySelectorAll(".items > .item").length === 0`)
	waitFor(t, bctx, "the counts", `document.querySelector(".tabs").textContent.replace(/\s+/g, " ").indexOf("Queued (0) Approved (1) Rejected (2)") >= 0`)
	for _, id := range ids {
		it := mustItem(t, h, id)
		switch {
		case id == second && it.Status != model.StatusApproved:
			t.Errorf("the version picked is %s", it.Status)
		case id != second && (it.Status != model.StatusRejected || it.DuplicateOf != second):
			t.Errorf("%s: %s, duplicate of %q", it.SiteName, it.Status, it.DuplicateOf)
		}
	}
}

// TestBrowserSlashAndQuestionMarkKeys: "/" puts the cursor in the search
// box and "?" opens the list of every key, which Escape closes.
func TestBrowserSlashAndQuestionMarkKeys(t *testing.T) {
	h := newHarness(t)
	h.add("https://example.com/k1", "Bridge inspection closes two lanes", "Crews will inspect the bridge overnight.", "Top stories")
	bctx := startBrowser(t)
	signInToQueue(t, bctx, h.srv.URL, "/queue")
	browserStep(t, bctx, "press /", 5*time.Second, chromedp.KeyEvent("/"))
	waitFor(t, bctx, "the search box to have the focus", `document.activeElement === document.querySelector('input[name="q"]')`)
	browserStep(t, bctx, "leave the box", 5*time.Second, chromedp.Evaluate[chromedp.Void](`document.activeElement.blur(); document.querySelector(".item").focus()`))
	browserStep(t, bctx, "press ?", 5*time.Second, chromedp.KeyEvent("?"))
	waitFor(t, bctx, "the keys dialog", `document.getElementById("keys-help").open && document.getElementById("keys-help").textContent.indexOf("approve that version of the story instead") >= 0`)
	browserStep(t, bctx, "press Escape", 5*time.Second, chromedp.KeyEvent(kb.Escape))
	waitFor(t, bctx, "the dialog to close", `!document.getElementById("keys-help").open`)
}
