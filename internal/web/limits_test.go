package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/clipsheet/clipsheet/internal/curate"
	"github.com/clipsheet/clipsheet/internal/model"
)

// TestItemEditLimits: byline, each tag and the number of tags are limited
// on the API (422 invalid naming the field and the rule) and on the queue's
// edit form, which states the rule next to the fields.
func TestItemEditLimits(t *testing.T) {
	h := newHarness(t)
	a := h.add("https://example.com/limits", "Title", "Lead.", "Top stories")
	tok := h.token(model.RoleCurator)
	var many []string
	for i := range curate.MaxTags + 1 {
		many = append(many, fmt.Sprintf("tag%d", i))
	}
	cases := []struct {
		name, body, want string
	}{
		{"byline", fmt.Sprintf(`{"byline":%q}`, strings.Repeat("a", curate.MaxBylineChars+1)), "byline: at most 200 characters"},
		{"tag length", fmt.Sprintf(`{"tags":["ok",%q]}`, strings.Repeat("t", curate.MaxTagChars+1)), "tags: at most 50 characters per tag"},
		{"tag count", fmt.Sprintf(`{"tags":["%s"]}`, strings.Join(many, `","`)), "tags: at most 20 tags (got 21)"},
	}
	for _, c := range cases {
		code, body := h.apiCall(tok, http.MethodPatch, "/api/v1/items/"+a.ID, c.body)
		e, _ := body["error"].(map[string]any)
		msg, _ := e["message"].(string)
		if code != http.StatusUnprocessableEntity || apiErrCode(body) != "invalid" || !strings.Contains(msg, c.want) {
			t.Errorf("API %s: %d %v, want 422 invalid %q", c.name, code, body, c.want)
		}
	}
	if code, body := h.apiCall(tok, http.MethodPatch, "/api/v1/items/"+a.ID, fmt.Sprintf(`{"byline":%q,"tags":["%s"]}`, strings.Repeat("b", curate.MaxBylineChars), strings.Join(many[:curate.MaxTags], `","`))); code != http.StatusOK {
		t.Errorf("API at the limits: %d %v", code, body)
	}

	token := h.csrf()
	code, body := h.post("/items/"+a.ID+"/edit", url.Values{"csrf_token": {token}, "byline": {strings.Repeat("c", curate.MaxBylineChars+1)}}, nil)
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "byline: at most 200 characters") {
		t.Errorf("form byline: %d %s", code, body)
	}
	code, body = h.post("/items/"+a.ID+"/edit", url.Values{"csrf_token": {token}, "tags": {strings.Join(many, ",")}}, nil)
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "tags: at most 20 tags") {
		t.Errorf("form tags: %d %s", code, body)
	}
	_, page, _ := h.get("/queue")
	for _, want := range []string{
		fmt.Sprintf(`name="byline" value="%s" maxlength="%d"`, strings.Repeat("b", curate.MaxBylineChars), curate.MaxBylineChars),
		fmt.Sprintf("At most %d characters.", curate.MaxBylineChars),
		fmt.Sprintf("Up to %d tags, each at most %d characters.", curate.MaxTags, curate.MaxTagChars),
	} {
		if !strings.Contains(page, want) {
			t.Errorf("queue edit form lacks %q", want)
		}
	}
}
