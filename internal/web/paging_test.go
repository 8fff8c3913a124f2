package web

import (
	"fmt"
	"html"
	"regexp"
	"testing"
	"time"

	"github.com/clipsheet/clipsheet/internal/model"
)

// TestAPIPagesByCursor: following next through the API list gives every
// item once, newest first; a bad cursor is a 400.
func TestAPIPagesByCursor(t *testing.T) {
	h := newHarness(t)
	tok := h.token(model.RoleCurator)
	for i := range 7 {
		h.add(fmt.Sprintf("https://example.com/p%d", i), fmt.Sprint("Story ", i), "Lead.", "Top stories")
		time.Sleep(time.Millisecond) // distinct fetch times: a known order
	}
	seen := map[string]bool{}
	var order []string
	path := "/api/v1/items?status=queued&limit=3"
	for pages := 0; path != ""; pages++ {
		if pages > 5 {
			t.Fatal("pages never end")
		}
		code, body := h.apiCall(tok, "GET", path, "")
		if code != 200 {
			t.Fatalf("%s: %d %v", path, code, body)
		}
		for _, it := range body["items"].([]any) {
			title := it.(map[string]any)["title"].(string)
			if seen[title] {
				t.Fatalf("%s listed twice", title)
			}
			seen[title] = true
			order = append(order, title)
		}
		path = ""
		if next, ok := body["next"].(string); ok {
			path = "/api/v1/items?status=queued&limit=3&after=" + next
		}
	}
	if len(order) != 7 || order[0] != "Story 6" || order[6] != "Story 0" {
		t.Errorf("paged order: %v", order)
	}
	if code, body := h.apiCall(tok, "GET", "/api/v1/items?after=zz", ""); code != 400 || apiErrCode(body) != "bad_request" {
		t.Errorf("bad cursor: %d %v", code, body)
	}
}

// TestQueuePagesByCursor: "Older items" leads through the whole queue one
// page at a time and "Newest items" back to the start.
func TestQueuePagesByCursor(t *testing.T) {
	h := newHarness(t)
	c := h.as(model.RoleCurator)
	n := queuePageSize*2 + 5
	for i := range n {
		h.add(fmt.Sprintf("https://example.com/q%d", i), fmt.Sprintf("Queued story %03d", i), "Lead.", "Top stories")
	}
	older := regexp.MustCompile(`<a href="(\?[^"]*after=[0-9a-f]{32})">Older items</a>`)
	heading := regexp.MustCompile(`Queued story \d{3}`)
	path, seen := "/queue", map[string]bool{}
	for pages := 0; ; pages++ {
		if pages > 3 {
			t.Fatal("pages never end")
		}
		code, body, _ := h.getWith(c, path)
		if code != 200 {
			t.Fatalf("%s: %d", path, code)
		}
		for _, m := range heading.FindAllString(body, -1) {
			seen[m] = true
		}
		if pages > 0 && !regexp.MustCompile(`>Newest items</a>`).MatchString(body) {
			t.Errorf("page %d has no way back to the newest", pages+1)
		}
		m := older.FindStringSubmatch(body)
		if m == nil {
			break
		}
		path = "/queue" + html.UnescapeString(m[1])
	}
	if len(seen) != n {
		t.Errorf("%d of %d queued stories reached through the pages", len(seen), n)
	}
	if code, _, _ := h.getWith(c, "/queue?after=nonsense"); code != 200 {
		t.Errorf("a mangled cursor: %d, want the newest page", code)
	}
}

// TestAPISearch: q goes through the search index (words, phrases,
// accents), order=relevance is accepted, and a q with nothing to look for
// or an unknown order is a 400.
func TestAPISearch(t *testing.T) {
	h := newHarness(t)
	tok := h.token(model.RoleCurator)
	h.add("https://example.com/s1", "Café owners in Zürich protest rent rises", "Owners said the increase was unfair.", "Top stories")
	h.add("https://example.com/s2", "Wildfire season review", "The county reviews its wildfire season.", "Top stories")
	for q, want := range map[string]int{"cafe+zurich": 1, "%22wildfire+season%22": 1, "wildfire": 1, "zeppelin": 0, "owners+-rent": 0} {
		code, body := h.apiCall(tok, "GET", "/api/v1/items?q="+q, "")
		if items, _ := body["items"].([]any); code != 200 || len(items) != want {
			t.Errorf("q=%s: %d, %d items, want %d", q, code, len(items), want)
		}
	}
	if code, _ := h.apiCall(tok, "GET", "/api/v1/items?q=wildfire&order=relevance", ""); code != 200 {
		t.Errorf("order=relevance: %d", code)
	}
	for _, q := range []string{"q=%21%21%21", "q=wildfire&order=best"} {
		if code, body := h.apiCall(tok, "GET", "/api/v1/items?"+q, ""); code != 400 || apiErrCode(body) != "bad_request" {
			t.Errorf("%s: %d %v", q, code, body)
		}
	}
}
