package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/store"
)

// genVersion names the generator's output: a change to what it writes must
// bump it, so that cached stores of the old kind are not measured as new.
const genVersion = 1

// buildMeta describes a built store; it is kept beside the cached file.
type buildMeta struct {
	Items           int            `json:"items"`
	Schema          int            `json:"schema"`
	Gen             int            `json:"gen"`
	BuiltAt         time.Time      `json:"built_at"`
	BuildSeconds    float64        `json:"build_seconds"`
	InsertSeconds   float64        `json:"insert_seconds"` // time inside WritePolls only
	InsertPerSec    float64        `json:"insert_per_sec"`
	Updates         int            `json:"updates"`
	UpdatePerSec    float64        `json:"update_per_sec"`
	Counts          map[string]int `json:"counts"`
	CommonShare     float64        `json:"common_share"`
	RareShare       float64        `json:"rare_share"`
	BriefingPlanned int            `json:"briefing_planned"`
	FileBytes       int64          `json:"file_bytes"`
}

// cacheDir is where a store of n items of the current schema and
// generator is kept.
func cacheDir(root string, n int) string {
	return filepath.Join(root, fmt.Sprintf("items-%d-schema%d-gen%d", n, store.SchemaVersion, genVersion))
}

// loadCached returns the meta of a complete cached store, or nil.
func loadCached(dir string) *buildMeta {
	b, err := os.ReadFile(filepath.Join(dir, "meta.json"))
	if err != nil {
		return nil
	}
	var m buildMeta
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, "clipsheet.db")); err != nil {
		return nil
	}
	return &m
}

// buildOptions tune a build.
type buildOptions struct {
	batch         int // items per WritePolls transaction
	briefingItems int // approvals planned in the last 48 hours
	maxUpdates    int // edits applied through UpdateItem; the rest are stored edited
	seed          uint64
	progress      func(done int)
}

// buildStore writes a store of n items into dir (replacing it), through
// the store API as the fetcher and the desk write: WritePolls for the
// fetched items, UpdateItem for recent approvals and some edits.
func buildStore(ctx context.Context, dir string, n int, o buildOptions) (*buildMeta, error) {
	tmp := dir + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return nil, err
	}
	start := time.Now()
	dbPath := filepath.Join(tmp, "clipsheet.db")
	st, err := store.Open(dbPath)
	if err != nil {
		return nil, err
	}
	defer func() {
		if st != nil {
			st.Close()
		}
	}()
	now := time.Now().UTC().Truncate(time.Second)
	g := newGenerator(n, now, o.briefingItems, o.seed)
	type pending struct {
		id string
		p  plan
	}
	var approvals, edits []pending
	var insert time.Duration
	common, rare := 0, 0
	states := map[string]*model.SourceState{}
	for lo := 0; lo < n; lo += o.batch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hi := min(n, lo+o.batch)
		bySource := map[string]*store.PollWrite{}
		var order []string
		for i := lo; i < hi; i++ {
			p := g.plan(i)
			it := g.item(i, p)
			text := strings.ToLower(it.Title + "\n" + it.Lead + "\n" + it.Byline + "\n" + it.SiteName)
			if strings.Contains(text, searchCommon) {
				common++
			}
			if strings.Contains(text, searchRare) {
				rare++
			}
			if p.recentApproval {
				approvals = append(approvals, pending{it.ID, p})
			} else {
				decide(it, p)
			}
			if p.edit {
				if len(edits) < o.maxUpdates && !p.recentApproval {
					edits = append(edits, pending{it.ID, p})
				} else {
					edit(it, p.decided)
				}
			}
			w := bySource[it.Source]
			if w == nil {
				w = &store.PollWrite{}
				bySource[it.Source] = w
				order = append(order, it.Source)
			}
			w.Items = append(w.Items, it)
			w.SeenIDs = append(w.SeenIDs, it.ID)
		}
		ws := make([]store.PollWrite, 0, len(order))
		for _, name := range order {
			w := bySource[name]
			last := w.Items[len(w.Items)-1].FetchedAt
			s := states[name]
			if s == nil {
				s = &model.SourceState{Name: name, URL: "https://" + hostOf(g, name) + "/feed"}
				states[name] = s
			}
			s.LastAttempt, s.LastSuccess, s.LastNewItemAt = last, last, last
			s.ItemsFound, s.LastNewItems, s.HTTPStatus = len(w.Items), len(w.Items), 200
			s.NextPoll = last.Add(30 * time.Minute)
			w.State = s
			ws = append(ws, *w)
		}
		t0 := time.Now()
		if err := st.WritePolls(ctx, ws); err != nil {
			return nil, fmt.Errorf("build %d items: %w", n, err)
		}
		insert += time.Since(t0)
		if o.progress != nil {
			o.progress(hi)
		}
	}
	t0 := time.Now()
	for _, a := range approvals {
		_, err := st.UpdateItem(ctx, a.id, func(it *model.Item) error {
			decide(it, a.p)
			if a.p.edit {
				edit(it, a.p.decided)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("approve %s: %w", a.id, err)
		}
	}
	for _, e := range edits {
		if _, err := st.UpdateItem(ctx, e.id, func(it *model.Item) error { edit(it, e.p.decided); return nil }); err != nil {
			return nil, fmt.Errorf("edit %s: %w", e.id, err)
		}
	}
	updates := len(approvals) + len(edits)
	upd := time.Since(t0)
	counts, err := st.CountItems(ctx)
	if err != nil {
		return nil, err
	}
	err = st.Close()
	st = nil
	if err != nil {
		return nil, err
	}
	m := &buildMeta{Items: n, Schema: store.SchemaVersion, Gen: genVersion, BuiltAt: now,
		BuildSeconds: time.Since(start).Seconds(), InsertSeconds: insert.Seconds(),
		InsertPerSec: float64(n) / insert.Seconds(), Updates: updates,
		Counts: map[string]int{}, CommonShare: float64(common) / float64(n), RareShare: float64(rare) / float64(n),
		BriefingPlanned: len(approvals)}
	if upd > 0 {
		m.UpdatePerSec = float64(updates) / upd.Seconds()
	}
	for k, v := range counts {
		m.Counts[string(k)] = v
	}
	if fi, err := os.Stat(dbPath); err == nil {
		m.FileBytes = fi.Size()
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(tmp, "meta.json"), b, 0o600); err != nil {
		return nil, err
	}
	if err := os.RemoveAll(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return nil, err
	}
	return m, nil
}

func hostOf(g *generator, name string) string {
	for _, s := range g.sources {
		if s.name == name {
			return s.host
		}
	}
	return "unknown.example"
}
