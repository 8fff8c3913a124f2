package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
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
	for _, want := range []string{bad + `: line 5: source "X": unknown section "B"`, bad + `: line 6: source "X": duplicate name`, bad + `: line 7: source "X": url "notaurl"`, "3 problem(s)"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if code, _, _ := runCmd(t, validate, "--help"); code != 0 {
		t.Errorf("--help exit %d", code)
	}
}

// Each kind of mistake in sources.yaml gets its own message with the line
// it is on, and a non-zero exit.
func TestSourcesValidateReportsEveryKindWithItsLine(t *testing.T) {
	head := "defaults: {interval: 30m}\nsections: [Top stories, Cyber]\nsources:\n"
	tests := []struct {
		name, body string
		want       []string // "LINE: message" fragments
	}{
		{"unknown key", "  - name: A\n    url: https://a.example/feed\n    colour: red\n",
			[]string{`: line 6: source "A": unknown key "colour"`}},
		{"unknown top-level key", "  - name: A\n    url: https://a.example/feed\nfetch: {allow_private: true}\n",
			[]string{`: line 6: top level: unknown key "fetch"`}},
		{"bad urls", "  - name: A\n    url: ftp://a.example/feed\n  - name: B\n    url: a.example/feed\n  - name: C\n    url: https://\n",
			[]string{`: line 5: source "A": url "ftp://a.example/feed" must be an absolute http or https URL`, `: line 7: source "B": url`, `: line 9: source "C": url`}},
		{"duplicate names and urls", "  - name: A\n    url: https://a.example/feed\n  - name: a\n    url: https://b.example/feed\n  - name: C\n    url: http://A.example/feed/\n",
			[]string{`: line 6: source "a": duplicate name (first used on line 4)`, `: line 9: source "C": duplicate url http://A.example/feed/ (first used on line 5)`}},
		{"bad durations", "  - name: A\n    url: https://a.example/feed\n    interval: 15 minutes\n  - name: B\n    url: https://b.example/feed\n    interval: 10s\n  - name: C\n    url: https://c.example/feed\n    interval: 0s\n",
			[]string{`: line 6: source "A": interval: invalid duration "15 minutes"`, `: line 9: source "B": interval 10s is below the minimum of 1m`, `: line 12: source "C": interval 0s is below the minimum`}},
		{"unknown section", "  - name: A\n    url: https://a.example/feed\n    section: Sport\n",
			[]string{`: line 6: source "A": unknown section "Sport" (known: Cyber, Top stories)`}},
		{"invalid YAML", "  - name: A\n    url: [https://a.example/feed\n",
			[]string{`: line 5: invalid YAML`}},
		{"wrong type", "  - name: A\n    url: https://a.example/feed\n    enabled: sometimes\n",
			[]string{`: line 6: source "A": enabled: must be true or false, not "sometimes"`}},
	}
	dir := t.TempDir()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, fmt.Sprintf("bad%d.yaml", i))
			if err := os.WriteFile(path, []byte(head+tt.body), 0o600); err != nil {
				t.Fatal(err)
			}
			code, out, errOut := runCmd(t, validate, "--config", path)
			if code != 1 || out != "" {
				t.Errorf("exit %d, stdout %q; want 1 and nothing", code, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(errOut, path+w) {
					t.Errorf("stderr lacks %q:\n%s", path+w, errOut)
				}
			}
			if want := fmt.Sprintf("%d problem(s) in %s", len(tt.want), path); !strings.Contains(errOut, want) {
				t.Errorf("stderr lacks %q:\n%s", want, errOut)
			}
		})
	}
}

// Without --config, validate checks the file the service would use: the
// "sources" setting from the environment (or clipsheet.yaml).
func TestSourcesValidateFollowsTheSourcesSetting(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "elsewhere.yaml")
	os.WriteFile(bad, []byte("sources:\n  - name: X\n"), 0o600)
	t.Setenv("CLIPSHEET_SOURCES", bad)
	code, _, errOut := runCmd(t, validate)
	if code != 1 || !strings.Contains(errOut, bad+`: line 2: source "X": url is required`) {
		t.Errorf("exit %d, stderr %s", code, errOut)
	}
	// A positional file wins over the setting.
	if code, out, _ := runCmd(t, validate, "../../sources.yaml"); code != 0 || !strings.Contains(out, "OK") {
		t.Errorf("positional file: exit %d, %s", code, out)
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
	for _, k := range []string{"url", "canonical_url", "title", "byline", "published", "site_name", "lead", "id", "source", "section", "status", "fetched_at"} {
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
	// A mistyped --data is an error, and creates nothing.
	typo := filepath.Join(dir, "dta")
	if code, _, errOut := runCmd(t, items, "--data", typo); code == 0 || !strings.Contains(errOut, "no database at") {
		t.Errorf("missing database: exit %d, %s", code, errOut)
	}
	if _, err := os.Stat(typo); err == nil {
		t.Errorf("items created %s", typo)
	}
}

// bbolt reports a file locked by a running serve as "timeout"; commands say
// what is going on instead.
func TestStoreInUseIsExplained(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "clipsheet.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	code, _, errOut := runCmd(t, items, "--data", dir)
	if code != 1 || !strings.Contains(errOut, "is in use by another clipsheet process") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}
