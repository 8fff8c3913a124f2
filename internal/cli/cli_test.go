package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/store"
)

func runCmd(t *testing.T, fn func(context.Context, []string, *bytes.Buffer, *bytes.Buffer) int, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := fn(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func validate(ctx context.Context, args []string, out, errb *bytes.Buffer) int {
	return SourcesValidate(ctx, args, out, errb)
}

func items(ctx context.Context, args []string, out, errb *bytes.Buffer) int {
	return Items(ctx, args, out, errb)
}

func TestSourcesValidateCommand(t *testing.T) {
	code, out, _ := runCmd(t, validate, "--config", "../../sources.yaml")
	if code != 0 || !strings.Contains(out, "OK, 14 sources") {
		t.Fatalf("repo file: %d %q", code, out)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("sections: [A]\nsources:\n  - name: X\n    url: https://x.example/feed\n    section: B\n  - name: X\n    url: notaurl\n"), 0o600)
	code, _, errOut := runCmd(t, validate, "--config", bad)
	if code != 1 {
		t.Fatalf("bad file exit %d", code)
	}
	for _, want := range []string{bad + `:5: source "X": unknown section "B"`, bad + `:6: source "X": duplicate name`, bad + `:7: source "X": url "notaurl"`, "3 problem(s)"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if code, _, _ := runCmd(t, validate, "--help"); code != 0 {
		t.Errorf("--help exit %d", code)
	}
}

func TestItemsCommandJSONLines(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "clipsheet.db"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	pub := time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)
	a := model.NewItem(model.Extraction{URL: "https://example.com/a", Title: "A", Published: pub, Lead: "Lead A."}, "Src", "Cyber", time.Now())
	b := model.NewItem(model.Extraction{URL: "https://example.com/b", Title: "B"}, "Src", "Cyber", time.Now())
	st.AddItem(ctx, a)
	st.AddItem(ctx, b)
	st.UpdateItem(ctx, a.ID, func(it *model.Item) error { it.Status = model.StatusApproved; return nil })
	st.Close()

	code, out, errOut := runCmd(t, items, "--data", dir, "--status", "approved", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 1 {
		t.Fatalf("want 1 JSON line, got %d: %s", len(lines), out)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"url", "canonical_url", "title", "byline", "published", "site_name", "lead", "body", "id", "source", "section", "status", "fetched_at"} {
		if _, ok := got[k]; !ok {
			t.Errorf("JSON lacks key %q", k)
		}
	}
	if got["published"] != "2026-11-24T08:00:00Z" || got["status"] != "approved" || got["id"] != a.ID {
		t.Errorf("values: %v", got)
	}
	if code, _, errOut := runCmd(t, items, "--data", dir, "--status", "maybe"); code != 2 || !strings.Contains(errOut, "unknown status") {
		t.Errorf("bad status: %d %s", code, errOut)
	}
	code, out, _ = runCmd(t, items, "--data", dir)
	if code != 0 || !strings.Contains(out, "2 items") {
		t.Errorf("table: %d %s", code, out)
	}
}
