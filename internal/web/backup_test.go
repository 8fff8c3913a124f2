package web

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/store"
)

// An admin downloads a consistent copy of the database, named for the
// moment, which restores to the same items; the download is in the audit
// log. Curators and readers cannot download it.
func TestBackupDownload(t *testing.T) {
	backups := t.TempDir()
	os.WriteFile(filepath.Join(backups, "clipsheet-20260301-030000.db"), make([]byte, 3<<20), 0o600)
	os.WriteFile(filepath.Join(backups, "notes.txt"), nil, 0o600)
	h := newHarness(t, func(c *Config) { c.Settings.Backup.Dir = backups })
	for i := range 20 {
		h.add(fmt.Sprintf("https://example.com/%d", i), fmt.Sprintf("Story %d", i), "Lead", "Top stories")
	}
	admin := h.as(model.RoleAdmin)
	code, body, _ := h.getWith(admin, "/admin/backup")
	if code != http.StatusOK || !strings.Contains(body, `id="download-backup"`) || !strings.Contains(body, "Every day into") ||
		!strings.Contains(body, "clipsheet-20260301-030000.db") || !strings.Contains(body, "3.0 MB") || strings.Contains(body, "notes.txt") {
		t.Fatalf("backup page: %d\n%s", code, body)
	}

	res, err := admin.Get(h.srv.URL + "/admin/backup/download")
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("download: %d %v", res.StatusCode, err)
	}
	if cd := res.Header.Get("Content-Disposition"); !regexp.MustCompile(`^attachment; filename="clipsheet-\d{8}-\d{6}\.db"$`).MatchString(cd) {
		t.Errorf("Content-Disposition %q", cd)
	}
	if res.Header.Get("Content-Type") != "application/octet-stream" || res.Header.Get("Content-Encoding") != "" ||
		res.Header.Get("Content-Length") != strconv.Itoa(len(data)) || res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("headers %v for %d bytes", res.Header, len(data))
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "download.db")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	restored := filepath.Join(dir, "data", "clipsheet.db")
	if _, err := store.Restore(context.Background(), file, restored, time.Now()); err != nil {
		t.Fatalf("the download does not restore: %v", err)
	}
	b, err := store.Open(restored)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	items, _ := b.ListItems(context.Background(), store.ItemFilter{})
	if len(items) != 20 {
		t.Errorf("the download holds %d items, want 20", len(items))
	}
	events, _ := h.store.ListAudit(context.Background(), store.AuditFilter{Action: "backup.download"})
	if len(events) != 1 || events[0].Actor != testUsers[model.RoleAdmin] {
		t.Errorf("audit: %+v", events)
	}

	for _, r := range []model.Role{model.RoleCurator, model.RoleReader} {
		if code, body, _ := h.getWith(h.as(r), "/admin/backup/download"); code != http.StatusForbidden || strings.Contains(body, "bbolt") {
			t.Errorf("%s: %d", r, code)
		}
	}
	if code, _, hdr := h.getWith(h.newClient(), "/admin/backup/download"); code != http.StatusFound && code != http.StatusSeeOther || !strings.HasPrefix(hdr.Get("Location"), "/login") {
		t.Errorf("anonymous: %d %s", code, hdr.Get("Location"))
	}
}

// Damage that appears while serving: the request that reads the damaged
// page fails (a panic, answered 500, not a crash), which makes serve check
// the file again; /healthz then fails with the reason, and the log says
// what to do.
func TestDamageFoundAfterStartFailsHealthz(t *testing.T) {
	path := filepath.Join(t.TempDir(), "web.db")
	st, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var mon *store.Monitor
	checked := make(chan *store.Report, 4)
	h := newHarnessWith(t, st, func(c *Config) {
		mon = store.NewMonitor(st, c.Logger, 0)
		c.Health, c.OnPanic = mon.Err, mon.Recheck
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); mon.Run(ctx, func(r *store.Report) { checked <- r }) }()
	t.Cleanup(func() { cancel(); <-done })
	if r := <-checked; !r.OK() {
		t.Fatalf("first check: %v", r.Problems)
	}
	for i := range 30 {
		h.add(fmt.Sprintf("https://example.com/%d", i), fmt.Sprintf("Story %d", i), "Lead", "Top stories")
	}
	marker := "MARKER-OF-THE-DAMAGED-PAGE"
	h.add("https://example.com/marked", "Newest story", marker, "Top stories")
	if code, _, _ := h.get("/healthz"); code != http.StatusOK {
		t.Fatalf("healthz before damage: %d", code)
	}

	// Overwrite the header of the page holding the newest record, as a
	// failing disk would, under the running server.
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	at := bytes.Index(file, []byte(marker))
	if at < 0 {
		t.Fatal("marker not in the file")
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteAt(bytes.Repeat([]byte{0xA5}, 16), int64(at/4096*4096))
	f.Close()
	if err != nil {
		t.Fatal(err)
	}

	if code, _, _ := h.get("/queue"); code != http.StatusInternalServerError {
		t.Errorf("queue over a damaged page: %d, want 500", code)
	}
	select {
	case r := <-checked:
		if r.OK() {
			t.Fatal("the check after the failed request found nothing")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no check after the failed request")
	}
	code, body, _ := h.get("/healthz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "database damaged") || !strings.Contains(body, "clipsheet check") || !strings.Contains(body, path) {
		t.Errorf("healthz after damage: %d %s", code, body)
	}
	if logs := h.logs.String(); !strings.Contains(logs, "stop this server, run `clipsheet check`") {
		t.Errorf("the log does not say what to do:\n%s", logs)
	}
	if code, body, _ := h.getWith(h.as(model.RoleAdmin), "/admin/backup"); code != http.StatusOK || !strings.Contains(body, "found damage") {
		t.Errorf("backup page after damage: %d", code)
	}
}

func TestBackupPeriodWords(t *testing.T) {
	for d, want := range map[time.Duration][2]string{
		24 * time.Hour:   {"day", "a day"},
		48 * time.Hour:   {"2 days", "2 days"},
		time.Hour:        {"hour", "an hour"},
		6 * time.Hour:    {"6 hours", "6 hours"},
		90 * time.Minute: {"90 minutes", "90 minutes"},
		time.Minute:      {"minute", "a minute"},
		90 * time.Second: {"1m30s", "1m30s"},
	} {
		if every, first := period(d); every != want[0] || first != want[1] {
			t.Errorf("%v: %q, %q; want %q", d, every, first, want)
		}
	}
}
