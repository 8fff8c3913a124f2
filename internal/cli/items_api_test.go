package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/clipsheet/clipsheet/internal/apispec"
	"github.com/clipsheet/clipsheet/internal/auth"
	"github.com/clipsheet/clipsheet/internal/config"
	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/store"
	"github.com/clipsheet/clipsheet/internal/web"
)

// TestAPIItemsMatchItemsJSON reads the same database through GET
// /api/v1/items and through `clipsheet items --json`: every item must
// come out with the same keys and the same values, filters included.
func TestAPIItemsMatchItemsJSON(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "clipsheet.db"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	for i, x := range []struct {
		url, title, section string
		status              model.Status
	}{
		{"https://a.example/1", "Flood warning", "Top stories", model.StatusQueued},
		{"https://b.example/2", "Patch Tuesday <fixes>", "Cyber", model.StatusApproved},
		{"https://c.example/3", "Storm & surge", "Top stories", model.StatusRejected},
	} {
		it := model.NewItem(model.Extraction{URL: x.url, Title: x.title, Lead: "Lead " + x.title, Byline: "Ann Lee", SiteName: "Example", Published: now.Add(-time.Duration(i) * time.Hour)}, "Src"+x.section, x.section, now)
		if _, err := st.AddItem(ctx, it); err != nil {
			t.Fatal(err)
		}
		if _, err := st.UpdateItem(ctx, it.ID, func(i *model.Item) error {
			i.Status, i.Tags, i.Note = x.status, []string{"t"}, "note"
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := web.NewServer(st, web.Config{Settings: config.DefaultSettings(), Auth: auth.Config{Params: auth.TestParams}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Auth().AddUser(ctx, auth.Actor{Name: "test"}, "cur", model.RoleCurator, "a long test password"); err != nil {
		t.Fatal(err)
	}
	token, _, err := srv.Auth().AddAPIToken(ctx, auth.Actor{Name: "test"}, "cur", "")
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(apispec.Handler(t, srv))
	queries := []struct {
		api string
		cli []string
	}{
		{"", nil},
		{"status=approved", []string{"--status", "approved"}},
		{"section=Top+stories", []string{"--section", "Top stories"}},
		{"source=SrcCyber", []string{"--source", "SrcCyber"}},
	}
	fromAPI := make([][]map[string]any, len(queries))
	for i, q := range queries {
		req, _ := http.NewRequest(http.MethodGet, ts.URL+"/api/v1/items?"+q.api, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Items []map[string]any `json:"items"`
		}
		err = json.NewDecoder(res.Body).Decode(&body)
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("api %q: %d %v", q.api, res.StatusCode, err)
		}
		fromAPI[i] = body.Items
	}
	ts.Close()
	st.Close()

	for i, q := range queries {
		args := append([]string{"--json", "--data", dir}, q.cli...)
		var out, errb bytes.Buffer
		if code := Items(ctx, args, &out, &errb); code != 0 {
			t.Fatalf("items %v: %d %s", args, code, errb.String())
		}
		var fromCLI []map[string]any
		for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("items --json line %q: %v", line, err)
			}
			fromCLI = append(fromCLI, m)
		}
		if len(fromCLI) == 0 || len(fromCLI) != len(fromAPI[i]) {
			t.Fatalf("%q: %d items from the CLI, %d from the API", q.api, len(fromCLI), len(fromAPI[i]))
		}
		for j := range fromCLI {
			if !reflect.DeepEqual(fromCLI[j], fromAPI[i][j]) {
				t.Errorf("%q item %d differs:\n cli %v\n api %v", q.api, j, fromCLI[j], fromAPI[i][j])
			}
		}
	}
}
