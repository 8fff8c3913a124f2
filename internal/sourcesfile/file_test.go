package sourcesfile

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clipsheet/clipsheet/internal/config"
)

// setup copies the shipped sources.yaml to a temp dir and opens it with a
// live list, as serve does.
func setup(t *testing.T) (*File, *config.Live, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sources.yaml")
	if err := os.WriteFile(path, readTestdata(t, "sources.yaml"), 0o640); err != nil {
		t.Fatal(err)
	}
	live, err := config.NewLive(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Open(path, live, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return f, live, path
}

func addSource(name, url string) func(*Doc) error {
	return func(d *Doc) error {
		return d.AddSource(config.Source{Name: name, URL: url, Type: "feed", Section: "Cyber"})
	}
}

func TestApplyWritesValidatesAndPutsInForce(t *testing.T) {
	f, live, path := setup(t)
	snap, err := f.Read()
	if err != nil {
		t.Fatal(err)
	}
	next, err := f.Apply(snap.Hash, addSource("The Record", "https://therecord.media/feed"))
	if err != nil {
		t.Fatal(err)
	}
	disk, _ := os.ReadFile(path)
	if !bytes.Equal(disk, next.Data) || Hash(disk) != next.Hash {
		t.Fatal("returned snapshot is not what is on disk")
	}
	if _, ok := live.Current().Find("The Record"); !ok {
		t.Error("new source not in force")
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o640 {
		t.Errorf("file mode changed to %v", st.Mode().Perm())
	}
	if !strings.HasPrefix(string(disk), "# Clipsheet sources:") {
		t.Error("leading comment lost")
	}
	// No temp files left behind.
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only sources.yaml", len(entries))
	}

	// An edit that breaks validation is refused and changes nothing.
	_, err = f.Apply(next.Hash, func(d *Doc) error {
		return d.AddSource(config.Source{Name: "Bad", URL: "ftp://x", Type: "feed"})
	})
	var ve *config.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want validation error, got %v", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, disk) {
		t.Error("refused edit changed the file")
	}
}

func TestApplyDetectsHandEditSinceLoad(t *testing.T) {
	f, live, path := setup(t)
	loaded, _ := f.Read()
	// Someone edits the file by hand after the form was loaded.
	hand := strings.Replace(string(loaded.Data), "interval: 2h", "interval: 3h", 1)
	if err := os.WriteFile(path, []byte(hand), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := f.Apply(loaded.Hash, addSource("The Record", "https://therecord.media/feed"))
	var ce *ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("want conflict, got %v", err)
	}
	if string(ce.Current.Data) != hand || ce.Current.Hash != Hash([]byte(hand)) {
		t.Error("conflict does not carry the current version")
	}
	// Nothing lost: the hand edit is on disk untouched.
	if disk, _ := os.ReadFile(path); string(disk) != hand {
		t.Error("hand edit overwritten")
	}
	if _, ok := live.Current().Find("The Record"); ok {
		t.Error("refused edit put in force")
	}
	// Re-applied on the current version, both changes are kept.
	if _, err := f.Apply(ce.Current.Hash, addSource("The Record", "https://therecord.media/feed")); err != nil {
		t.Fatal(err)
	}
	disk, _ := os.ReadFile(path)
	if !strings.Contains(string(disk), "interval: 3h") || !strings.Contains(string(disk), "name: The Record") {
		t.Errorf("an edit was lost:\n%s", disk)
	}
}

func TestConcurrentAppliesSerialise(t *testing.T) {
	f, live, _ := setup(t)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := "Feed " + string(rune('A'+i))
			_, err := f.Apply("", addSource(name, "https://feeds.example.com/"+name))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := len(live.Current().Sources); n != 14+20 {
		t.Errorf("%d sources after 20 concurrent adds to 14, want 34", n)
	}
	// With the same base version, only the first of two editors wins.
	base, _ := f.Read()
	if _, err := f.Apply(base.Hash, addSource("X1", "https://x1.example/feed")); err != nil {
		t.Fatal(err)
	}
	var ce *ConflictError
	if _, err := f.Apply(base.Hash, addSource("X2", "https://x2.example/feed")); !errors.As(err, &ce) {
		t.Fatalf("second editor on a stale version: %v", err)
	}
}

func TestHookBeforeCanRefuse(t *testing.T) {
	f, _, path := setup(t)
	before, _ := os.ReadFile(path)
	boom := errors.New("store down")
	var seen *config.SourcesFile
	_, err := f.ApplyWith("", func(d *Doc) error { return d.RenameSection("Cyber", "Cyber & tech") }, Hook{
		Before: func(next *config.SourcesFile) error { seen = next; return boom },
	})
	if !errors.Is(err, boom) {
		t.Fatalf("got %v", err)
	}
	if seen == nil || seen.Sections[3] != "Cyber & tech" {
		t.Error("hook did not see the validated next list")
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("file written although the hook refused")
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// replaceLikeEditor writes the way vim and many editors do: new content in
// another file, renamed over the original.
func replaceLikeEditor(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".swp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func TestWatchPicksUpHandEditsAndRefusesBadOnes(t *testing.T) {
	f, live, path := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	done, err := f.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); <-done }()
	orig, _ := os.ReadFile(path)

	// A good edit, written in place.
	good := strings.Replace(string(orig), "name: Krebs on Security", "name: Krebs on Security (blog)", 1)
	if err := os.WriteFile(path, []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "good edit in force", func() bool { _, ok := live.Current().Find("Krebs on Security (blog)"); return ok })

	// A bad edit, replaced editor-style: refused, error kept, old list runs.
	bad := strings.Replace(good, "type: page", "type: scrape", 1)
	replaceLikeEditor(t, path, bad)
	waitFor(t, "bad edit reported", func() bool { return f.LastError() != nil })
	if !strings.Contains(f.LastError().Error(), `unknown type "scrape"`) {
		t.Errorf("error does not say what is wrong: %v", f.LastError())
	}
	if s, ok := live.Current().Find("DHS — Press Releases"); !ok || s.Type != "page" {
		t.Error("last good list not kept")
	}

	// Fixing it by hand clears the error.
	replaceLikeEditor(t, path, good)
	waitFor(t, "fix picked up", func() bool { return f.LastError() == nil })

	// Our own writes are not reloaded a second time, and leave no error.
	if _, err := f.Apply("", addSource("The Record", "https://therecord.media/feed")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * settle)
	if f.LastError() != nil {
		t.Errorf("own write produced error %v", f.LastError())
	}
}
