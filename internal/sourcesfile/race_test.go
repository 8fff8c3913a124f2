package sourcesfile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clipsheet/clipsheet/internal/config"
)

// TestHandEditInTheLastMomentIsNotOverwritten lands a hand edit in the
// narrowest window there is: after Apply's last look at the file and
// before the new version replaces it. Both ways people and tools write
// (replace by rename, rewrite in place) must end in a conflict with the
// hand edit on disk, nothing of it lost, and the refused change not in
// force; applying again on the current version keeps both.
func TestHandEditInTheLastMomentIsNotOverwritten(t *testing.T) {
	for _, how := range []string{"rename", "in place"} {
		t.Run(how, func(t *testing.T) {
			f, live, path := setup(t)
			base, _ := f.Read()
			hand := strings.Replace(string(base.Data), "name: Krebs on Security", "name: Krebs on Security (hand)", 1)
			fired := 0
			f.beforeReplace = func() {
				fired++
				if fired > 1 {
					return
				}
				if how == "rename" {
					replaceLikeEditor(t, path, hand)
					return
				}
				if err := os.WriteFile(path, []byte(hand), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := f.Apply(base.Hash, addSource("The Record", "https://therecord.media/feed"))
			var ce *ConflictError
			if !errors.As(err, &ce) {
				t.Fatalf("want a conflict, got %v", err)
			}
			if string(ce.Current.Data) != hand {
				t.Error("conflict does not carry the hand edit")
			}
			if disk, _ := os.ReadFile(path); string(disk) != hand {
				t.Fatalf("hand edit lost; on disk:\n%s", disk)
			}
			if _, ok := live.Current().Find("The Record"); ok {
				t.Error("refused change put in force")
			}
			if _, err := f.Apply(ce.Current.Hash, addSource("The Record", "https://therecord.media/feed")); err != nil {
				t.Fatal(err)
			}
			disk, _ := os.ReadFile(path)
			if !strings.Contains(string(disk), "name: Krebs on Security (hand)") || !strings.Contains(string(disk), "name: The Record") {
				t.Errorf("an edit was lost:\n%s", disk)
			}
			if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
				t.Errorf("%d entries left in the directory, want only sources.yaml", len(entries))
			}
		})
	}
}

// TestApplyCreatesMissingFileButNotOverAnAppearingOne: editing starts from
// no file at all; a file that appears before the write is not replaced.
func TestApplyCreatesMissingFileButNotOverAnAppearingOne(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sources.yaml")
	f, err := Open(path, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	snap, err := f.Read()
	if err != nil || len(snap.Data) != 0 {
		t.Fatalf("missing file reads as %q, %v", snap.Data, err)
	}
	other := "sections: [Elsewhere]\nsources: []\n"
	f.beforeReplace = func() {
		if err := os.WriteFile(path, []byte(other), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	addSection := func(d *Doc) error { return d.AddSection("News") }
	var ce *ConflictError
	if _, err := f.Apply(snap.Hash, addSection); !errors.As(err, &ce) {
		t.Fatalf("want a conflict, got %v", err)
	}
	if disk, _ := os.ReadFile(path); string(disk) != other {
		t.Fatalf("file that appeared was replaced:\n%s", disk)
	}
	f.beforeReplace = nil
	os.Remove(path)
	if _, err := f.Apply(snap.Hash, addSection); err != nil {
		t.Fatal(err)
	}
	if disk, _ := os.ReadFile(path); string(disk) != "sections:\n  - News\n" {
		t.Errorf("created file:\n%s", disk)
	}
}

func TestDescribe(t *testing.T) {
	list := shipped(t)
	edited := *list
	edited.Sources = append([]config.Source(nil), list.Sources...)
	edited.Sources[0].Interval = config.Duration(2 * time.Duration(edited.Sources[0].Interval))
	edited.Sources = append(edited.Sources[:3], edited.Sources[4:]...)
	edited.Sources = append(edited.Sources, config.Source{Name: "New one", URL: "https://new.example/feed"})
	edited.Sections = append([]string{"Elections"}, list.Sections...)
	reordered := *list
	reordered.Sections = append([]string(nil), list.Sections...)
	reordered.Sections[0], reordered.Sections[1] = reordered.Sections[1], reordered.Sections[0]
	for _, c := range []struct {
		name          string
		before, after *config.SourcesFile
		want          string
	}{
		{"same", list, list, "no change to sources or sections"},
		{"edits", list, &edited, `sources added 1: "New one"; removed 1: "The Guardian — World"; changed 1: "Washington Post — World"; sections added 1: "Elections"`},
		{"reorder", list, &reordered, "sections reordered"},
		{"from nothing", nil, &config.SourcesFile{Sections: []string{"A"}}, `sections added 1: "A"`},
	} {
		if got := Describe(c.before, c.after); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
}

// TestWatchReportsHandEdits: every hand edit Watch picks up is reported
// once, put in force or refused, with the lists before and after; writes
// through Apply are not reported as hand edits.
func TestWatchReportsHandEdits(t *testing.T) {
	f, _, path := setup(t)
	got := make(chan HandEdit, 10)
	f.OnHandEdit(func(ev HandEdit) { got <- ev })
	ctx, cancel := context.WithCancel(context.Background())
	done, err := f.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); <-done }()
	next := func(what string) HandEdit {
		t.Helper()
		select {
		case ev := <-got:
			return ev
		case <-time.After(5 * time.Second):
			t.Fatalf("no report of %s", what)
		}
		return HandEdit{}
	}
	orig, _ := os.ReadFile(path)
	good := strings.Replace(string(orig), "    interval: 2h\n", "    interval: 4h\n", 1)
	replaceLikeEditor(t, path, good)
	ev := next("good edit")
	if ev.Err != nil || Describe(ev.Before, ev.After) != `changed 1: "Krebs on Security"` {
		t.Errorf("good edit reported as %v / %s", ev.Err, Describe(ev.Before, ev.After))
	}
	replaceLikeEditor(t, path, strings.Replace(good, "    interval: 4h\n", "    interval: 4 hours\n", 1))
	if ev := next("bad edit"); ev.Err == nil || !strings.Contains(ev.Err.Error(), `"4 hours"`) || ev.After != ev.Before {
		t.Errorf("bad edit reported as %+v", ev)
	}
	replaceLikeEditor(t, path, good)
	if ev := next("fix"); ev.Err != nil || Describe(ev.Before, ev.After) != "no change to sources or sections" {
		t.Errorf("fix reported as %v / %s", ev.Err, Describe(ev.Before, ev.After))
	}
	if _, err := f.Apply("", addSource("The Record", "https://therecord.media/feed")); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-got:
		t.Errorf("own write reported as a hand edit: %+v", ev)
	case <-time.After(4 * settle):
	}
}

func TestLineDiff(t *testing.T) {
	before := "a\nb\nc\nd\ne\nf\ng\nh\ni\n"
	after := "a\nb\nc\nD\ne\nf\ng\nh\ni\nj\n"
	var got []string
	for _, d := range LineDiff([]byte(before), []byte(after)) {
		got = append(got, fmt.Sprintf("%c%d %s", d.Op, d.Line, d.Text))
	}
	want := []string{" 2 b", " 3 c", "-4 d", "+4 D", " 5 e", " 6 f", " 8 h", " 9 i", "+10 j"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("diff:\n got %v\nwant %v", got, want)
	}
	if d := LineDiff([]byte(before), []byte(before)); len(d) != 0 {
		t.Errorf("diff of equal texts: %v", d)
	}
}

func TestVersionsRemembersWhatWasReadAndWritten(t *testing.T) {
	f, _, _ := setup(t)
	snap, _ := f.Read()
	if data, ok := f.Version(snap.Hash); !ok || string(data) != string(snap.Data) {
		t.Fatal("version read not remembered")
	}
	next, err := f.Apply(snap.Hash, addSource("The Record", "https://therecord.media/feed"))
	if err != nil {
		t.Fatal(err)
	}
	if data, ok := f.Version(next.Hash); !ok || string(data) != string(next.Data) {
		t.Error("version written not remembered")
	}
	if _, ok := f.Version(Hash([]byte("never seen"))); ok {
		t.Error("unknown version found")
	}
	for i := range maxVersions + 5 {
		f.seen.remember(fmt.Sprint(i), nil)
	}
	if _, ok := f.Version(snap.Hash); ok || len(f.seen.data) != maxVersions {
		t.Errorf("versions not bounded: %d kept", len(f.seen.data))
	}
}
