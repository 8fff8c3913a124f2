package model

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClampLine(t *testing.T) {
	cases := []struct {
		in   string
		max  int
		want string
	}{
		{"Ann Lee", 200, "Ann Lee"},
		{"Ann Lee, Bob Stone, Cy Young", 20, "Ann Lee, Bob Stone…"},
		{"Ann Lee, Bob Stone, Cy Young", 19, "Ann Lee, Bob Stone…"},
		{"Ann Lee, Bob Stone, Cy Young", 18, "Ann Lee, Bob…"},
		{"Anneliese", 5, "Anne…"},
		{"Zoë Ångström Ølsen", 15, "Zoë Ångström…"},
	}
	for _, c := range cases {
		got := ClampLine(c.in, c.max)
		if got != c.want {
			t.Errorf("ClampLine(%q, %d) = %q, want %q", c.in, c.max, got, c.want)
		}
		if utf8.RuneCountInString(got) > c.max {
			t.Errorf("ClampLine(%q, %d) = %q is longer than %d", c.in, c.max, got, c.max)
		}
	}
	huge := strings.Repeat("Jane Doe, ", 1<<20)
	if got := ClampLine(huge, MaxBylineChars); utf8.RuneCountInString(got) > MaxBylineChars || !strings.HasSuffix(got, "Doe…") {
		t.Errorf("huge byline clamped to %d chars: %q", utf8.RuneCountInString(got), got)
	}
}
