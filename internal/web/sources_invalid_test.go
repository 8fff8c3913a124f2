package web

import (
	"html"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/sourcesfile"
)

// TestSourceEditsWhileFileHasSyntaxError: while a hand edit left a YAML
// syntax error in sources.yaml, every source and section edit, on the API
// and on the admin forms (OPML import included), answers 409 naming the
// file, the line and the problem, instead of a 500 "internal error", and
// leaves the file alone.
func TestSourceEditsWhileFileHasSyntaxError(t *testing.T) {
	e := newSourcesEnv(t)
	lines := strings.Split(e.fileText(), "\n")
	lines[5] = "oops: [unclosed" // line 6
	broken := strings.Join(lines, "\n")
	if err := os.WriteFile(e.path, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	wantInMessage := []string{e.path + ", line 6:", "invalid YAML", "Fix the file by hand"}
	check := func(what string, code int, msg string) {
		t.Helper()
		if code != http.StatusConflict {
			t.Errorf("%s: status %d, want 409", what, code)
		}
		for _, w := range wantInMessage {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: message lacks %q:\n%.600s", what, w, msg)
			}
		}
	}

	tok := e.token(model.RoleAdmin)
	src := `{"name":"The Record","url":"https://therecord.media/feed","type":"feed","section":"Cyber"}`
	for _, c := range []struct{ method, path, body string }{
		{http.MethodPost, "/api/v1/sources", src},
		{http.MethodPut, "/api/v1/sources/Krebs%20on%20Security", `{"name":"Krebs on Security","url":"https://krebsonsecurity.com/feed","type":"feed","section":"Cyber","interval":"2h"}`},
		{http.MethodDelete, "/api/v1/sources/Krebs%20on%20Security", ""},
		{http.MethodPost, "/api/v1/sections", `{"name":"Elections"}`},
		{http.MethodPut, "/api/v1/sections/Cyber", `{"name":"Cyber security"}`},
		{http.MethodPut, "/api/v1/sections/Cyber", `{"position":1}`},
		{http.MethodDelete, "/api/v1/sections/Public%20health", ""},
	} {
		code, body := e.apiCall(tok, c.method, c.path, c.body)
		errObj, _ := body["error"].(map[string]any)
		msg, _ := errObj["message"].(string)
		check(c.method+" "+c.path, code, msg)
		if apiErrCode(body) != "file_invalid" {
			t.Errorf("%s %s: code %q, want file_invalid", c.method, c.path, apiErrCode(body))
		}
	}

	_, csrf, version := e.page("/admin/sources")
	if version != sourcesfile.Hash([]byte(broken)) {
		t.Fatalf("the sources page should carry the version on disk")
	}
	forms := []struct {
		path string
		form url.Values
	}{
		{"/admin/sources/new", newSourceForm(csrf, version)},
		{"/admin/sources/edit", newSourceForm(csrf, version, "old_name", "Krebs on Security", "name", "Krebs on Security", "url", "https://krebsonsecurity.com/feed")},
		{"/admin/sources/delete", url.Values{"csrf_token": {csrf}, "version": {version}, "name": {"Krebs on Security"}}},
		{"/admin/sources/toggle", url.Values{"csrf_token": {csrf}, "version": {version}, "name": {"Krebs on Security"}, "enabled": {"false"}}},
		{"/admin/sources/sections", url.Values{"csrf_token": {csrf}, "version": {version}, "action": {"add"}, "new_name": {"Elections"}}},
		{"/admin/sources/sections", url.Values{"csrf_token": {csrf}, "version": {version}, "action": {"rename"}, "name": {"Cyber"}, "new_name": {"Cyber security"}}},
		{"/admin/sources/sections", url.Values{"csrf_token": {csrf}, "version": {version}, "action": {"up"}, "name": {"Cyber"}}},
		{"/admin/sources/sections", url.Values{"csrf_token": {csrf}, "version": {version}, "action": {"delete"}, "name": {"Public health"}}},
		{"/admin/sources/import/confirm", url.Values{"csrf_token": {csrf}, "version": {version}, "url": {"https://x.example/feed"}, "name": {"X"}, "section": {""}, "pick": {"0"}}},
	}
	for _, f := range forms {
		code, body, _ := e.postAdmin(f.path, f.form)
		check("form "+f.path+" "+f.form.Get("action"), code, html.UnescapeString(body))
		if !strings.Contains(body, "<html") && !strings.Contains(body, "<!doctype") && !strings.Contains(body, "<!DOCTYPE") {
			t.Errorf("form %s: answer is not a page: %.200s", f.path, body)
		}
	}
	if e.fileText() != broken {
		t.Fatal("an edit changed the broken file")
	}
}
