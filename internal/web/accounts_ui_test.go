package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/clipsheet/clipsheet/internal/auth"
	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/store"
)

// TestAdminManagesUsersInTheUI walks /admin/users as an admin: add, a
// duplicate, reset a password, disable, enable, change a role and remove,
// each checked by what the affected user can then do, and in the audit
// log.
func TestAdminManagesUsersInTheUI(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	admin := h.as(model.RoleAdmin)
	form := func(kv ...string) url.Values {
		v := url.Values{"csrf_token": {h.csrfOf(admin, "/admin/users")}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	// Destructive actions ask first; the confirmation page posts the same
	// form again with confirm=yes.
	confirmed := func(kv ...string) url.Values {
		v := form(kv...)
		v.Set("confirm", "yes")
		return v
	}
	const pw1, pw2 = "first password of eve", "second password of eve"
	if code, _ := h.postWith(admin, "/admin/users", form("name", "Eve", "role", "curator", "password", pw1), nil); code != http.StatusSeeOther {
		t.Fatalf("add: %d", code)
	}
	if code, body := h.postWith(admin, "/admin/users", form("name", "eve", "role", "reader", "password", pw1), nil); code != http.StatusConflict || !strings.Contains(body, "exists already") {
		t.Errorf("duplicate: %d", code)
	}
	if code, body := h.postWith(admin, "/admin/users", form("name", "frank", "role", "reader", "password", "short"), nil); code != http.StatusUnprocessableEntity || !strings.Contains(body, "at least 10") {
		t.Errorf("weak password: %d", code)
	}
	if code, body := h.postWith(admin, "/admin/users", form("name", "frank", "role", "owner", "password", pw1), nil); code != http.StatusUnprocessableEntity || !strings.Contains(body, "unknown role") {
		t.Errorf("bad role: %d", code)
	}
	_, page, _ := h.getWith(admin, "/admin/users")
	if !strings.Contains(page, `id="user-eve"`) || strings.Contains(page, "argon2") {
		t.Fatalf("users page: eve missing or a hash shown")
	}

	signIn := func(name, pw string) *http.Client {
		t.Helper()
		c := h.newClient()
		if code, _ := h.tryLogin(c, name, pw); code != http.StatusSeeOther {
			t.Fatalf("sign in %s: %d", name, code)
		}
		return c
	}
	eve := signIn("eve", pw1)
	// The reset form itself is the deliberate step: no confirmation page
	// that would echo the new password back into a page.
	if code, body := h.postWith(admin, "/admin/users/eve/password", form("password", pw2), nil); code != http.StatusSeeOther || strings.Contains(body, pw2) {
		t.Fatalf("reset password without a confirmation page: %d", code)
	}
	if code, _, _ := h.getWith(eve, "/queue"); code != http.StatusFound {
		t.Errorf("eve's session survived a password reset: %d", code)
	}
	if code, _ := h.tryLogin(h.newClient(), "eve", pw1); code != http.StatusUnauthorized {
		t.Errorf("old password: %d", code)
	}
	if code, _ := h.postWith(admin, "/admin/users/eve/password", confirmed("password", "short"), nil); code != http.StatusUnprocessableEntity {
		t.Errorf("weak reset: %d", code)
	}

	eve = signIn("eve", pw2)
	if code, _ := h.postWith(admin, "/admin/users/eve/disable", confirmed(), nil); code != http.StatusSeeOther {
		t.Fatalf("disable: %d", code)
	}
	if code, _, _ := h.getWith(eve, "/queue"); code != http.StatusFound {
		t.Errorf("disabled user still signed in: %d", code)
	}
	if code, _ := h.tryLogin(h.newClient(), "eve", pw2); code != http.StatusUnauthorized {
		t.Errorf("disabled user signs in: %d", code)
	}
	if _, page, _ := h.getWith(admin, "/admin/users"); !regexp.MustCompile(`(?s)id="user-eve".*?<td>disabled</td>`).MatchString(page) {
		t.Error("users page does not show eve disabled")
	}
	if code, _ := h.postWith(admin, "/admin/users/eve/enable", form(), nil); code != http.StatusSeeOther {
		t.Fatalf("enable: %d", code)
	}
	eve = signIn("eve", pw2)

	if code, _ := h.postWith(admin, "/admin/users/eve/role", form("role", "admin"), nil); code != http.StatusSeeOther {
		t.Fatalf("role: %d", code)
	}
	if code, _, _ := h.getWith(eve, "/admin/users"); code != http.StatusOK {
		t.Errorf("promoted user cannot reach admin pages: %d", code)
	}
	if code, _ := h.postWith(admin, "/admin/users/eve/role", form("role", "boss"), nil); code != http.StatusUnprocessableEntity {
		t.Errorf("bad role: %d", code)
	}

	tok, _, err := h.server.Auth().AddAPIToken(ctx, auth.Actor{Name: "test"}, "eve", "script")
	if err != nil {
		t.Fatal(err)
	}
	if code, body := h.postWith(admin, "/admin/users/eve/remove", form(), nil); code != http.StatusOK || !strings.Contains(body, "Remove eve?") {
		t.Fatalf("unconfirmed remove: %d", code)
	}
	if code, _ := h.apiCall(tok, "GET", "/api/v1/me", ""); code != http.StatusOK {
		t.Errorf("an unconfirmed remove took effect: %d", code)
	}
	if code, _ := h.postWith(admin, "/admin/users/eve/remove", confirmed(), nil); code != http.StatusSeeOther {
		t.Fatalf("remove: %d", code)
	}
	if code, _, _ := h.getWith(eve, "/queue"); code != http.StatusFound {
		t.Errorf("removed user still signed in: %d", code)
	}
	if code, _ := h.apiCall(tok, "GET", "/api/v1/me", ""); code != http.StatusUnauthorized {
		t.Errorf("removed user's token: %d", code)
	}
	if code, _ := h.postWith(admin, "/admin/users/eve/remove", confirmed(), nil); code != http.StatusNotFound {
		t.Errorf("remove twice: %d", code)
	}
	// The last admin stays.
	if code, body := h.postWith(admin, "/admin/users/root/remove", confirmed(), nil); code != http.StatusConflict || !strings.Contains(body, "no active admin") {
		t.Errorf("removing the last admin: %d", code)
	}
	if code, _ := h.postWith(admin, "/admin/users/root/role", form("role", "curator"), nil); code != http.StatusConflict {
		t.Errorf("demoting the last admin: %d", code)
	}

	evs, err := h.store.ListAudit(ctx, store.AuditFilter{Actor: "root", Action: "user."})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range evs {
		got = append(got, ev.Action+" "+ev.Target)
	}
	want := "user.remove eve,user.role eve,user.enable eve,user.disable eve,user.password eve,user.add eve"
	if strings.Join(got, ",") != want {
		t.Errorf("audit (newest first):\n got %s\nwant %s", strings.Join(got, ","), want)
	}
}

// TestAccountPageTokensAndPassword: a user creates an API token on their
// account page (shown once), uses it, revokes it there; changes their own
// password only with the current one, which signs out their other
// browsers but not this one; and cannot revoke someone else's token.
func TestAccountPageTokensAndPassword(t *testing.T) {
	h := newHarness(t)
	rdr := h.as(model.RoleReader)
	csrf := func() string { return h.csrfOf(rdr, "/account") }
	code, page := h.postWith(rdr, "/account/tokens", url.Values{"csrf_token": {csrf()}, "name": {"dashboard"}}, nil)
	tok := regexp.MustCompile(`value="(cst_[A-Za-z0-9_-]+)"`).FindStringSubmatch(page)
	if code != http.StatusOK || tok == nil {
		t.Fatalf("create token: %d", code)
	}
	if code, body := h.apiCall(tok[1], "GET", "/api/v1/me", ""); code != 200 || body["name"] != "rdr" {
		t.Fatalf("new token: %d %v", code, body)
	}
	_, page, _ = h.getWith(rdr, "/account")
	if strings.Contains(page, tok[1]) || !strings.Contains(page, "dashboard") {
		t.Error("account page shows the token again or not its name")
	}
	id := regexp.MustCompile(`action="/account/tokens/([^/]+)/revoke"`).FindStringSubmatch(page)
	if id == nil {
		t.Fatal("no revoke form")
	}
	// Another user cannot revoke it.
	other := h.as(model.RoleCurator)
	if code, _ := h.postWith(other, "/account/tokens/"+id[1]+"/revoke", url.Values{"csrf_token": {h.csrfOf(other, "/account")}}, nil); code != http.StatusNotFound {
		t.Errorf("someone else's token revoked: %d", code)
	}
	if code, _ := h.apiCall(tok[1], "GET", "/api/v1/me", ""); code != 200 {
		t.Fatalf("token gone after a foreign revoke: %d", code)
	}
	if code, body := h.postWith(rdr, "/account/tokens/"+id[1]+"/revoke", url.Values{"csrf_token": {csrf()}}, nil); code != http.StatusOK || !strings.Contains(body, `id="confirm"`) {
		t.Fatalf("unconfirmed revoke: %d", code)
	}
	if code, _ := h.apiCall(tok[1], "GET", "/api/v1/me", ""); code != 200 {
		t.Fatalf("token gone before confirming: %d", code)
	}
	if code, _ := h.postWith(rdr, "/account/tokens/"+id[1]+"/revoke", url.Values{"csrf_token": {csrf()}, "confirm": {"yes"}}, nil); code != http.StatusSeeOther {
		t.Fatalf("revoke: %d", code)
	}
	if code, body := h.apiCall(tok[1], "GET", "/api/v1/me", ""); code != 401 || apiErrCode(body) != "invalid_token" {
		t.Errorf("revoked token: %d %v", code, body)
	}

	second := h.as(model.RoleReader)
	const fresh = "a brand new passphrase"
	if code, _ := h.postWith(rdr, "/account/password", url.Values{"csrf_token": {csrf()}, "current": {"not it at all"}, "password": {fresh}, "confirm": {fresh}}, nil); code != http.StatusUnprocessableEntity {
		t.Errorf("wrong current password: %d", code)
	}
	if code, _ := h.postWith(rdr, "/account/password", url.Values{"csrf_token": {csrf()}, "current": {testPassword}, "password": {fresh}, "confirm": {fresh + "x"}}, nil); code != http.StatusUnprocessableEntity {
		t.Errorf("confirmation differs: %d", code)
	}
	if code, _ := h.postWith(rdr, "/account/password", url.Values{"csrf_token": {csrf()}, "current": {testPassword}, "password": {fresh}, "confirm": {fresh}}, nil); code != http.StatusOK {
		t.Fatalf("change password: %d", code)
	}
	if code, _, _ := h.getWith(rdr, "/account"); code != http.StatusOK {
		t.Errorf("this browser signed out by its own password change: %d", code)
	}
	if code, _, _ := h.getWith(second, "/account"); code != http.StatusFound {
		t.Errorf("other browser still signed in: %d", code)
	}
	if code, _ := h.tryLogin(h.newClient(), "rdr", fresh); code != http.StatusSeeOther {
		t.Errorf("new password: %d", code)
	}
}

// TestPasswordChangeGuessesAreLimited: wrong current passwords on the
// account page count like failed sign-ins, so a borrowed session cannot
// guess the password without limit.
func TestPasswordChangeGuessesAreLimited(t *testing.T) {
	h := newHarness(t) // 5 failures per account
	rdr := h.as(model.RoleReader)
	const fresh = "a brand new passphrase"
	change := func(current string) (int, http.Header) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/account/password", strings.NewReader(url.Values{
			"csrf_token": {h.csrfOf(rdr, "/account")}, "current": {current}, "password": {fresh}, "confirm": {fresh}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := rdr.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode, res.Header
	}
	for i := 0; i < 5; i++ {
		if code, _ := change(fmt.Sprintf("guess number %d", i)); code != http.StatusUnprocessableEntity {
			t.Fatalf("guess %d: %d", i, code)
		}
	}
	code, hdr := change(testPassword)
	if code != http.StatusTooManyRequests || hdr.Get("Retry-After") == "" {
		t.Fatalf("6th try: %d %q, want 429 with Retry-After", code, hdr.Get("Retry-After"))
	}
	if code, _ := h.tryLogin(h.newClient(), "rdr", testPassword); code != http.StatusTooManyRequests {
		t.Errorf("sign-in after the guesses: %d, want 429", code)
	}
	h.clock.Add(16 * time.Minute)
	if code, _ := change(testPassword); code != http.StatusOK {
		t.Errorf("after the window: %d", code)
	}
}
