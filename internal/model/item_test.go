package model

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestCanonicalURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://Example.COM:443/a/b?utm_source=rss&utm_medium=feed&id=3#top", "https://example.com/a/b?id=3"},
		{"http://example.com", "http://example.com/"},
		{"https://example.com/x?b=2&a=1&fbclid=zz&gclid=1", "https://example.com/x?a=1&b=2"},
		{"https://example.com:8443/x", "https://example.com:8443/x"},
		{"not a url", "not a url"},
	}
	for _, tt := range tests {
		if got := CanonicalURL(tt.in); got != tt.want {
			t.Errorf("CanonicalURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestItemIDStable(t *testing.T) {
	a := ItemID("https://example.com/story?utm_campaign=x")
	b := ItemID("http://EXAMPLE.com/story#comments")
	c := ItemID("https://example.com/other")
	if a != b || a == c || len(a) != 32 {
		t.Fatalf("ids: %s %s %s", a, b, c)
	}
}

func TestItemIDFromCanonicalURL(t *testing.T) {
	story := func(link, canonical string) *Item {
		return NewItem(Extraction{URL: link, CanonicalURL: canonical}, "Src", "", time.Now())
	}
	// The same story reached through a tracking link and through its
	// canonical URL is one item.
	a := story("https://news.example/r/12345?utm_source=rss&utm_medium=feed", "https://news.example/2026/11/24/storm-warning")
	b := story("https://news.example/2026/11/24/storm-warning?utm_campaign=x&fbclid=abc", "")
	if a.ID != b.ID || a.ID != ItemID("https://news.example/2026/11/24/storm-warning") || a.LinkURL() != "https://news.example/2026/11/24/storm-warning" {
		t.Errorf("canonical and tracking link differ: %s %s", a.ID, b.ID)
	}
	if c := story("https://news.example/2026/11/24/storm-warning?page=2", ""); c.ID == b.ID {
		t.Error("a real query parameter was stripped")
	}
	// A home page (or unusable) canonical on an article is ignored: two
	// stories must stay two items, and the link must go to the story.
	for _, bad := range []string{"https://news.example/", "https://news.example", "/relative/only", "javascript:alert(1)"} {
		x := story("https://news.example/2026/11/24/storm-warning", bad)
		y := story("https://news.example/2026/11/25/flood-watch", bad)
		if x.ID == y.ID || x.LinkURL() != "https://news.example/2026/11/24/storm-warning" {
			t.Errorf("canonical %q: ids %s %s, link %s", bad, x.ID, y.ID, x.LinkURL())
		}
	}
	// A home page is its own canonical.
	if h := story("https://news.example/?utm_source=x", "https://news.example/"); h.ID != ItemID("https://news.example/") {
		t.Errorf("home page id %s", h.ID)
	}
}

func TestItemJSON(t *testing.T) {
	pub := time.Date(2026, 11, 24, 8, 30, 0, 0, time.FixedZone("EST", -5*3600))
	it := NewItem(Extraction{URL: "https://example.com/s", Title: "Headline", Published: pub}, "Src", "Cyber", time.Now())
	b, err := json.Marshal(it)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{`"published":"2026-11-24T08:30:00-05:00"`, `"id":"`, `"status":"queued"`, `"section":"Cyber"`, `"url":"https://example.com/s"`, `"canonical_url":""`, `"fetched_at":"`, `"original":{`} {
		if !strings.Contains(s, want) {
			t.Errorf("JSON lacks %s: %s", want, s)
		}
	}
	var back Item
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !back.Published.Equal(pub) || back.Title != "Headline" || back.Original.Title != "Headline" {
		t.Errorf("round trip lost fields: %+v", back)
	}
	zero := NewItem(Extraction{URL: "https://example.com/z"}, "", "", time.Now())
	b, _ = json.Marshal(zero)
	if !strings.Contains(string(b), `"published":""`) {
		t.Errorf("zero time not empty: %s", b)
	}
}
