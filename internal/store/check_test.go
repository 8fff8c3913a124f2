package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/clipsheet/clipsheet/internal/model"
)

const damageItems = 600

// damageBase writes a closed database of damageItems items with bodies of
// about a kilobyte (a few megabytes, hundreds of pages), some of them
// decided and some deleted so the file has free pages, and audit events.
func damageBase(t *testing.T) string {
	t.Helper()
	s, path := openTemp(t)
	ctx := context.Background()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for start := 0; start < damageItems; start += 100 {
		var w PollWrite
		for i := start; i < start+100; i++ {
			// Leads and bodies of random words: they do not compress, so
			// the heads and texts fill hundreds of pages.
			lead, body := words(uint64(i), 120), words(uint64(i)+1e6, 40)
			it := model.NewItem(model.Extraction{URL: fmt.Sprintf("https://example.com/story/%d", i), Title: fmt.Sprintf("Headline %d", i), Lead: lead, Body: body}, "src", "Top", now.Add(-time.Duration(i)*time.Minute))
			w.Items = append(w.Items, it)
		}
		if err := s.WritePolls(ctx, []PollWrite{w}); err != nil {
			t.Fatal(err)
		}
	}
	items, err := s.ListItems(ctx, ItemFilter{Limit: 300})
	if err != nil {
		t.Fatal(err)
	}
	for i, it := range items {
		if i%3 == 0 {
			if err := s.DeleteItem(ctx, it.ID); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if _, err := s.UpdateItem(ctx, it.ID, func(x *model.Item) error { x.Status = model.StatusApproved; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 50 {
		must(t, s.AppendAudit(ctx, model.AuditEvent{Time: now.Add(time.Duration(i) * time.Second), Actor: "ann", Action: "item.approve", Target: "t"}))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func words(seed uint64, n int) string {
	r := rand.New(rand.NewPCG(seed, 7))
	var b strings.Builder
	for range n {
		for range 3 + r.IntN(6) {
			b.WriteByte(byte('a' + r.IntN(26)))
		}
		b.WriteByte(' ')
	}
	return b.String()
}

// usedPages lists the pages of the file's trees (not the metas or the
// freelist), with the bucket each belongs to.
func usedPages(t *testing.T, path string) (m meta, pages map[uint64]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	m, _, err = readMetas(f, fi.Size())
	if err != nil {
		t.Fatal(err)
	}
	w := &walker{ctx: context.Background(), r: f, m: m, rep: &Report{}, seen: map[uint64]bool{0: true, 1: true}, free: map[uint64]bool{}, buckets: map[string]*BucketReport{}}
	w.readFreelist()
	pages = map[uint64]string{}
	before := map[uint64]bool{}
	var cur [][]byte
	w.visit.bucket = func(path [][]byte, _ uint64) error {
		for id := range w.seen {
			if !before[id] {
				before[id] = true
				pages[id] = bucketName(cur)
			}
		}
		cur = path
		return nil
	}
	if err := w.bucketTree(nil, m.root, nil, nil); err != nil {
		t.Fatal(err)
	}
	for id := range w.seen {
		if !before[id] {
			pages[id] = bucketName(cur)
		}
	}
	delete(pages, 0)
	delete(pages, 1)
	delete(pages, m.freelist)
	if len(w.rep.Problems) > 0 {
		t.Fatalf("base file damaged: %v", w.rep.Problems)
	}
	return m, pages
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func overwrite(t *testing.T, path string, off int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// TestDamagedFilesRefused damages copies of a real database file the ways
// disks, crashes and careless copies do. Open must refuse each with one
// line naming the file and what to do, without a panic; check must report
// the damage; salvage must copy what is readable into a file that opens
// and checks clean.
func TestDamagedFilesRefused(t *testing.T) {
	base := damageBase(t)
	m, pages := usedPages(t, base)
	ps := int64(m.pageSize)
	// A page of the records, the bulk of the file, about half-way.
	var recordPages []uint64
	for id, b := range pages {
		if b == string(bucketHeads) {
			recordPages = append(recordPages, id)
		}
	}
	slices.Sort(recordPages)
	if len(recordPages) < 40 {
		t.Fatalf("only %d record pages: the base file is too small to damage in the middle", len(recordPages))
	}
	mid := recordPages[len(recordPages)/2]

	tests := []struct {
		name    string
		damage  func(path string)
		salvage bool // records remain to be salvaged
		all     bool // every record remains
		least   int  // percent of the items salvage must keep
		// cut: where the cut falls in the heads depends on where bbolt
		// put them, so all of them may remain.
		cut bool
	}{
		{"random bytes over the freelist", func(p string) { overwrite(t, p, int64(m.freelist)*ps, randomBytes(int(ps), 1)) }, true, true, 100, false},
		{"random bytes over a data page", func(p string) { overwrite(t, p, int64(mid)*ps, randomBytes(int(ps), 2)) }, true, false, 95, false},
		{"random bytes inside a page, header intact", func(p string) { overwrite(t, p, int64(mid)*ps+16, randomBytes(64, 3)) }, true, false, 95, false},
		{"16 KB zeroed mid-file", func(p string) { overwrite(t, p, int64(mid)*ps, make([]byte, 16<<10)) }, true, false, 95, false},
		{"truncated to half", func(p string) {
			if err := os.Truncate(p, int64(m.hwm)*ps/2); err != nil { // half of the pages in use (the file grows ahead of them)
				t.Fatal(err)
			}
		}, true, false, 10, true},
		{"zero-length file", func(p string) {
			if err := os.Truncate(p, 0); err != nil {
				t.Fatal(err)
			}
		}, false, false, 0, false},
		{"both meta pages overwritten", func(p string) { overwrite(t, p, 0, randomBytes(int(2*ps), 4)) }, false, false, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "clipsheet.db")
			copyFile(t, base, path)
			tt.damage(path)
			damaged, _ := os.ReadFile(path)

			s, err := Open(path)
			if err == nil {
				s.Close()
				t.Fatal("Open accepted the damaged file")
			}
			var de *DamagedError
			if !errors.As(err, &de) || !errors.Is(err, ErrDamaged) {
				t.Fatalf("Open: %v, want a DamagedError", err)
			}
			msg := err.Error()
			for _, want := range []string{path, "clipsheet check", "clipsheet restore", "clipsheet salvage"} {
				if !strings.Contains(msg, want) {
					t.Errorf("message lacks %q: %s", want, msg)
				}
			}
			if strings.Contains(msg, "\n") || strings.Contains(msg, "goroutine") {
				t.Errorf("message is not one line: %s", msg)
			}

			rep, err := CheckFile(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK() || rep.Incomplete {
				t.Fatalf("check found nothing: %+v", rep)
			}
			t.Logf("check: %v", rep.Problems)

			out := filepath.Join(dir, "salvaged.db")
			srep, err := Salvage(context.Background(), path, out)
			if !tt.salvage {
				if err == nil || !strings.Contains(err.Error(), "nothing could be read") {
					t.Errorf("salvage of a file with nothing readable: %v", err)
				}
				if _, serr := os.Stat(out); serr == nil {
					t.Error("salvage left a file with nothing in it")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var records int
			for _, b := range srep.Buckets {
				if b.Name == string(bucketHeads) {
					records = b.Records
				}
			}
			// Where the damage falls depends on the file's layout (record
			// sizes vary with the clock): when it hits the heads' root the
			// bucket reads nothing directly and the items come back from
			// pages nothing refers to; the counts below check those.
			if stored := damageItems - 100; records > stored || (records > 0 && !tt.cut && (records == stored) != tt.all) {
				t.Errorf("salvage read %d records of %d (all expected: %v)", records, stored, tt.all)
			}
			if after, _ := os.ReadFile(path); string(after) != string(damaged) {
				t.Error("salvage changed the damaged file")
			}
			crep, err := CheckFile(context.Background(), out)
			if err != nil || !crep.OK() {
				t.Fatalf("salvaged file: %v %v", err, crep.Problems)
			}
			s, err = Open(out)
			if err != nil {
				t.Fatalf("salvaged file does not open: %v", err)
			}
			defer s.Close()
			ctx := context.Background()
			all, err := s.ListItems(ctx, ItemFilter{})
			if err != nil {
				t.Fatalf("list the salvaged items: %v", err)
			}
			counts, err := s.CountItems(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n := counts[model.StatusQueued] + counts[model.StatusApproved] + counts[model.StatusRejected]; n != len(all) || len(all) == 0 {
				t.Errorf("salvaged file lists %d items and counts %d", len(all), n)
			}
			if stored := damageItems - 100; len(all)*100 < stored*tt.least {
				t.Errorf("only %d items of %d salvaged, want at least %d%%", len(all), stored, tt.least)
			} else if len(all) > stored && tt.least >= 95 {
				t.Errorf("%d items salvaged, more than the %d stored: deleted ones came back", len(all), stored)
			}
			t.Logf("salvaged %d items of %d; %v", len(all), damageItems-100, srep.Warnings)
		})
	}
}

// A file that does not exist is a fresh install; Open creates it.
func TestMissingFileIsFreshInstall(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new", "clipsheet.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	rep, err := CheckFile(context.Background(), path)
	if err != nil || !rep.OK() {
		t.Fatalf("fresh file: %v %+v", err, rep)
	}
}

// A sound file checks clean, with the records of each bucket counted; bbolt's
// own check agrees; salvage copies every record and keeps the sequences.
func TestCheckAndSalvageSoundFile(t *testing.T) {
	base := damageBase(t)
	rep, err := CheckFile(context.Background(), base)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Incomplete || len(rep.Warnings) > 0 {
		t.Fatalf("sound file: %+v", rep)
	}
	got := map[string]int{}
	for _, b := range rep.Buckets {
		got[b.Name] = b.Records
	}
	if got[string(bucketItems)] != damageItems-100 || got[string(bucketHeads)] != damageItems-100 || got[string(bucketAudit)] != 50 {
		t.Errorf("bucket counts %v", got)
	}

	db, err := bolt.Open(base, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	err = db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatalf("bbolt's check: %v", err)
	}

	out := filepath.Join(t.TempDir(), "copy.db")
	if _, err := Salvage(context.Background(), base, out); err != nil {
		t.Fatal(err)
	}
	a, err := Open(base)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	wantItems, _ := a.ListItems(ctx, ItemFilter{})
	gotItems, _ := b.ListItems(ctx, ItemFilter{})
	if len(gotItems) != len(wantItems) {
		t.Fatalf("salvage of a sound file: %d items, want %d", len(gotItems), len(wantItems))
	}
	for i := range wantItems {
		if gotItems[i].ID != wantItems[i].ID || gotItems[i].Status != wantItems[i].Status || gotItems[i].Body != wantItems[i].Body {
			t.Fatalf("item %d differs", i)
		}
	}
	// The audit log's sequence goes on where it was, not over old events.
	must(t, b.AppendAudit(ctx, model.AuditEvent{Time: time.Now(), Actor: "bob", Action: "user.login"}))
	events, err := b.ListAudit(ctx, AuditFilter{})
	if err != nil || len(events) != 51 {
		t.Errorf("audit after salvage and one more event: %d events, %v", len(events), err)
	}
	if _, err := Salvage(ctx, base, out); err == nil {
		t.Error("salvage over an existing file was not refused")
	}
}

// The live check reads a consistent snapshot while writers go on.
func TestLiveCheckDuringWrites(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	fillItems(t, s, 500)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			var w PollWrite
			for j := range 50 {
				w.Items = append(w.Items, item(fmt.Sprintf("https://live.example/%d/%d", i, j), time.Time{}))
			}
			if err := s.WritePolls(ctx, []PollWrite{w}); err != nil {
				t.Error(err)
				return
			}
			items, _ := s.ListItems(ctx, ItemFilter{Limit: 5, Offset: i})
			for _, it := range items {
				if err := s.DeleteItem(ctx, it.ID); err != nil {
					t.Error(err)
					return
				}
			}
		}
	}()
	for range 10 {
		rep, err := s.Check(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK() || rep.Incomplete {
			t.Fatalf("live check: %+v", rep)
		}
	}
	close(stop)
	wg.Wait()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if rep, err := s.Check(cancelled); err != nil || !rep.Incomplete {
		t.Errorf("a cancelled check: %v, incomplete %v", err, rep != nil && rep.Incomplete)
	}
}
