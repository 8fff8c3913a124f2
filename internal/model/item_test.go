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
