package web

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/clipsheet/clipsheet/internal/auth"
	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/store"
)

// TestSignOutEverywhereOffersTokenAndFeedRevocation: API tokens survived
// "sign out everywhere" and the feed link survived a password change. The
// account page offers both with each action (API tokens ticked, feed links
// ticked only for the password change), and the confirmation says what
// happened.
func TestSignOutEverywhereOffersTokenAndFeedRevocation(t *testing.T) {
	h := newHarness(t, privateBriefing)
	ctx := context.Background()
	name := testUsers[model.RoleCurator]
	apiTok := func() string {
		tok, _, err := h.server.Auth().AddAPIToken(ctx, auth.Actor{Name: name}, name, "script")
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	feedTok := func() string {
		u, _ := h.store.GetUser(ctx, name)
		tok, _ := h.server.Auth().FeedToken(ctx, u)
		return tok
	}
	apiWorks := func(tok string) bool {
		code, _ := h.apiCall(tok, http.MethodGet, "/api/v1/items", "")
		return code == http.StatusOK
	}
	feedWorks := func(tok string) bool {
		code, _, _ := h.getWith(h.newClient(), "/feed.atom?token="+url.QueryEscape(tok))
		return code == http.StatusOK
	}

	tok1 := apiTok()
	_, page, _ := h.get("/account")
	for _, want := range []string{
		`<input type="checkbox" name="revoke_tokens" value="1" checked> Also revoke my API tokens (1)</label>`,
		`<input type="checkbox" name="reset_feed" value="1"> Also reset my feed links</label>`,
		`<input type="checkbox" name="reset_feed" value="1" checked> Also reset my feed links</label>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("account page lacks %q", want)
		}
	}

	// Sign out everywhere with the defaults: the token goes, the feed
	// link stays, and the sign-in page says both.
	feed1 := feedTok()
	code, _ := h.post("/account/logout-everywhere", url.Values{"csrf_token": {h.csrf()}, "revoke_tokens": {"1"}}, nil)
	if code != http.StatusSeeOther {
		t.Fatalf("sign out everywhere: %d", code)
	}
	if apiWorks(tok1) || !feedWorks(feed1) {
		t.Fatalf("after sign out everywhere: token works %v, feed works %v", apiWorks(tok1), feedWorks(feed1))
	}
	if code, _, _ := h.get("/account"); code == http.StatusOK {
		t.Fatal("still signed in after sign out everywhere")
	}
	_, login, _ := h.get("/login?out=all&sessions=1&tokens=1&kept=0")
	if want := "Signed out everywhere (1 session). 1 API token revoked. Your feed links still work."; !strings.Contains(html.UnescapeString(login), want) {
		t.Errorf("sign-in page lacks %q", want)
	}

	// Unticked: both keep working, and the confirmation says so.
	h.login(h.client, name)
	tok2 := apiTok()
	res, err := h.client.PostForm(h.srv.URL+"/account/logout-everywhere", url.Values{"csrf_token": {h.csrf()}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc := res.Header.Get("Location")
	if !apiWorks(tok2) || !feedWorks(feed1) {
		t.Fatal("unticked boxes revoked credentials")
	}
	_, login, _ = h.get(loc)
	if want := "Signed out everywhere (1 session). Your 1 API token still works. Your feed links still work."; !strings.Contains(html.UnescapeString(login), want) {
		t.Errorf("sign-in page after %s lacks %q", loc, want)
	}

	// The password change form ticks both by default.
	h.login(h.client, name)
	other := h.as(model.RoleCurator)
	code, body := h.post("/account/password", url.Values{"csrf_token": {h.csrf()}, "current": {testPassword}, "password": {"another long password"}, "confirm": {"another long password"}, "revoke_tokens": {"1"}, "reset_feed": {"1"}}, nil)
	if code != http.StatusOK {
		t.Fatalf("password change: %d", code)
	}
	if want := "Password changed and 1 other session signed out. 1 API token revoked. Feed links reset"; !strings.Contains(html.UnescapeString(body), want) {
		t.Errorf("password notice lacks %q", want)
	}
	if apiWorks(tok2) || feedWorks(feed1) {
		t.Errorf("after password change: token works %v, old feed works %v", apiWorks(tok2), feedWorks(feed1))
	}
	if !feedWorks(feedTok()) {
		t.Error("the new feed link does not work")
	}
	if code, _, _ := h.getWith(other, "/account"); code == http.StatusOK {
		t.Error("other session survived the password change")
	}
	evs, err := h.store.ListAudit(ctx, store.AuditFilter{Action: "token."})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range evs {
		if ev.Action != model.AuditTokenAdd {
			got = append(got, ev.Action+" "+ev.Detail)
		}
	}
	if len(got) != 3 {
		t.Errorf("audit: want two token revocations and one feed reset, got %q", got)
	}
}
