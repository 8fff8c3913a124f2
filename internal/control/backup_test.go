package control

import (
	"context"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/clipsheet/clipsheet/internal/store"
)

// Through the socket a backup is a sound copy of the served database, and
// the check reports on the served file.
func TestBackupAndCheckThroughSocket(t *testing.T) {
	st := testStore(t)
	path := SocketPath(t.TempDir())
	serve(t, path, st)
	c := dial(t, path)
	ctx := context.Background()

	dir := t.TempDir()
	file := filepath.Join(dir, "backup.db")
	var n int64
	err := store.WriteBackupFile(ctx, file, func(w io.Writer) error {
		var err error
		n, err = c.Backup(ctx, w)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 4096 {
		t.Errorf("backup of %d bytes", n)
	}
	restored := filepath.Join(dir, "data", "clipsheet.db")
	if _, err := store.Restore(ctx, file, restored, time.Now()); err != nil {
		t.Fatal(err)
	}
	b, err := store.Open(restored)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	want, _ := st.ListItems(ctx, store.ItemFilter{})
	got, err := b.ListItems(ctx, store.ItemFilter{})
	if err != nil || jsonOf(t, got) != jsonOf(t, want) {
		t.Errorf("items of the backup differ from the served ones (%v)", err)
	}

	rep, err := c.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Incomplete || len(rep.Buckets) == 0 {
		t.Errorf("check through the socket: %+v", rep)
	}
}
