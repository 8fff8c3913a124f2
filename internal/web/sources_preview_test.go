package web

import "testing"

// TestPreviewSummaryCounts: the preview says how many items are new, in
// the singular and the plural, including when none or all are.
func TestPreviewSummaryCounts(t *testing.T) {
	for _, tc := range []struct {
		n, fresh int
		want     string
	}{
		{1, 1, "1 new item: the next poll would store it."},
		{5, 5, "5 new items: the next poll would store all of them."},
		{1, 0, "Nothing new: this item is already stored, so the next poll would store nothing from it."},
		{2, 0, "Nothing new: all 2 items are already stored, so the next poll would store none of them."},
		{5, 1, "1 of these 5 items is new: the next poll would store it; the others are already stored."},
		{5, 3, "3 of these 5 items are new: the next poll would store those 3; the others are already stored."},
	} {
		p := &previewResult{Items: make([]previewItem, tc.n), New: tc.fresh}
		if got := p.Summary(); got != tc.want {
			t.Errorf("%d of %d new: %q, want %q", tc.fresh, tc.n, got, tc.want)
		}
	}
	for n, want := range map[int]string{0: "nothing new", 1: "1 new item", 6: "6 new items"} {
		if got := countNew(n); got != want {
			t.Errorf("countNew(%d) = %q, want %q", n, got, want)
		}
	}
}
