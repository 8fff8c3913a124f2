package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/store"
)

func compact(ctx context.Context, args []string, out, errb *bytes.Buffer) int {
	return Compact(ctx, args, out, errb)
}

// TestCompactCommand: compact rewrites an existing database and says by how
// much; a data directory without one is an error, not a new empty file.
func TestCompactCommand(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "clipsheet.db"))
	if err != nil {
		t.Fatal(err)
	}
	it := model.NewItem(model.Extraction{URL: "https://e.example/1", Title: "Kept"}, "src", "", time.Now())
	if _, err := st.AddItem(context.Background(), it); err != nil {
		t.Fatal(err)
	}
	st.Close()
	code, out, errOut := runCmd(t, compact, "--data", dir)
	if code != 0 || !strings.Contains(out, "compacted ") || !strings.Contains(out, "MiB -> ") {
		t.Fatalf("compact: %d %q %q", code, out, errOut)
	}
	st, err = store.Open(filepath.Join(dir, "clipsheet.db"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := st.GetItem(context.Background(), it.ID); err != nil || got.Title != "Kept" {
		t.Errorf("after compact: %+v %v", got, err)
	}
	st.Close()
	empty := t.TempDir()
	if code, _, errOut := runCmd(t, compact, "--data", empty); code == 0 || !strings.Contains(errOut, "no database at") {
		t.Errorf("compact of a directory without a database: %d %q", code, errOut)
	}
}
