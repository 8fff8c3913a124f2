package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/clipsheet/clipsheet/internal/auth"
	"github.com/clipsheet/clipsheet/internal/model"
)

// TestBrowserUsersPageAsksAndExplains drives /admin/users in headless
// Chromium: adding a user says so; a bad name and a short password are
// refused with the rule they broke (the browser's own checks removed, as
// an older browser would not have them); removing and disabling ask first
// and change nothing until confirmed; and refusing to remove the last
// admin keeps the users page with the reason.
func TestBrowserUsersPageAsksAndExplains(t *testing.T) {
	ctx := startBrowser(t)
	h := newHarness(t)
	base := h.srv.URL
	root := testUsers[model.RoleAdmin]
	signIn(t, ctx, base, root, "/admin/users", `#add-user`)

	hints := browserRead(t, ctx, "hints", chromedp.Text(`#add-user`))
	for _, w := range []string{"1–64 letters a–z, digits and . _ -", fmt.Sprintf("At least %d characters", auth.MinPasswordChars)} {
		if !strings.Contains(hints, w) {
			t.Errorf("the add form does not state the rule %q: %s", w, hints)
		}
	}
	addUser := func(name, password string) {
		t.Helper()
		browserStep(t, ctx, "add "+name, 10*time.Second,
			chromedp.Navigate(base+"/admin/users"),
			chromedp.WaitVisible(`#add-user`),
		)
		browserEval[bool](t, ctx, "drop browser checks", `document.querySelectorAll("#add-user input").forEach(i => { i.removeAttribute("pattern"); i.removeAttribute("minlength"); }), true`)
		browserStep(t, ctx, "submit "+name, 10*time.Second,
			chromedp.SendKeys(`#add-user input[name="name"]`, name),
			chromedp.SetValue(`#add-user select[name="role"]`, "curator"),
			chromedp.SendKeys(`#add-user input[name="password"]`, password),
			chromedp.Click(`#add-user button[type="submit"]`),
			chromedp.WaitVisible(`#users-done, #users-error`),
		)
	}
	addUser("ann", "a long enough password")
	if done := browserRead(t, ctx, "done", chromedp.Text(`#users-done`)); done != "User ann added as curator." {
		t.Errorf("after adding: %q", done)
	}
	addUser("Ann Smith", "a long enough password")
	if msg := browserRead(t, ctx, "error", chromedp.Text(`#users-error`)); msg != "Name not accepted: use 1-64 of a-z, 0-9, '.', '_' and '-', starting with a letter or digit." {
		t.Errorf("bad name: %q", msg)
	}
	if kept := browserRead(t, ctx, "kept name", chromedp.Value(`#add-user input[name="name"]`)); kept != "Ann Smith" {
		t.Errorf("the refused name is not kept for correction: %q", kept)
	}
	addUser("bob", "short")
	if msg := browserRead(t, ctx, "error", chromedp.Text(`#users-error`)); msg != "Password not accepted: use at least 10 characters." {
		t.Errorf("short password: %q", msg)
	}

	// Remove asks first; Cancel and the first post change nothing.
	browserStep(t, ctx, "remove ann", 10*time.Second,
		chromedp.Navigate(base+"/admin/users"),
		chromedp.WaitVisible(`#user-ann`),
		chromedp.Click(`#user-ann form[action="/admin/users/ann/remove"] button`),
		chromedp.WaitVisible(`#confirm`),
	)
	if q := browserRead(t, ctx, "question", chromedp.Text(`#confirm h1`)); q != "Remove ann?" {
		t.Errorf("confirmation asks %q", q)
	}
	if u, err := h.store.GetUser(context.Background(), "ann"); err != nil || u == nil {
		t.Fatalf("ann removed before confirming: %v", err)
	}
	browserStep(t, ctx, "cancel", 10*time.Second,
		chromedp.Click(`#confirm-cancel`),
		chromedp.WaitVisible(`#user-ann`),
	)
	browserStep(t, ctx, "remove ann for real", 10*time.Second,
		chromedp.Click(`#user-ann form[action="/admin/users/ann/remove"] button`),
		chromedp.WaitVisible(`#confirm-button`),
		chromedp.Click(`#confirm-button`),
		chromedp.WaitVisible(`#users-done`),
	)
	if done := browserRead(t, ctx, "done", chromedp.Text(`#users-done`)); !strings.HasPrefix(done, "User ann removed") {
		t.Errorf("after removing: %q", done)
	}
	if _, err := h.store.GetUser(context.Background(), "ann"); err == nil {
		t.Error("ann still there after confirming")
	}

	// Disable asks too.
	cur := testUsers[model.RoleCurator]
	browserStep(t, ctx, "disable", 10*time.Second,
		chromedp.Click(`#user-`+cur+` form[action="/admin/users/`+cur+`/disable"] button`),
		chromedp.WaitVisible(`#confirm`),
	)
	if u, _ := h.store.GetUser(context.Background(), cur); u.Disabled {
		t.Error("disabled before confirming")
	}

	// The last admin cannot be removed: the users page says why.
	browserStep(t, ctx, "remove the last admin", 10*time.Second,
		chromedp.Navigate(base+"/admin/users"),
		chromedp.WaitVisible(`#user-`+root),
		chromedp.Click(`#user-`+root+` form[action="/admin/users/`+root+`/remove"] button`),
		chromedp.WaitVisible(`#confirm-button`),
		chromedp.Click(`#confirm-button`),
		chromedp.WaitVisible(`#users-error`),
	)
	if msg := browserRead(t, ctx, "refusal", chromedp.Text(`#users-error`)); !strings.Contains(msg, "would leave no active admin") {
		t.Errorf("refusal reads %q", msg)
	}
	if browserEval[int](t, ctx, "users table", `document.querySelectorAll("table.users #user-`+root+`").length`) != 1 {
		t.Error("the refusal is not shown on the users page")
	}
	admin := h.as(model.RoleAdmin)
	v := url.Values{"csrf_token": {h.csrfOf(admin, "/admin/users")}, "confirm": {"yes"}}
	if code, body := h.postWith(admin, "/admin/users/"+root+"/remove", v, nil); code != http.StatusConflict || !strings.Contains(body, `<table class="users">`) {
		t.Errorf("last admin: %d, users page shown: %v", code, strings.Contains(body, `<table class="users">`))
	}
}

// TestBrowserAdminPagesFitTheScreen: every admin page fits a 1366 px
// laptop and a 390 px phone without sideways scrolling of the page.
func TestBrowserAdminPagesFitTheScreen(t *testing.T) {
	ctx := startBrowser(t)
	e := newSourcesEnv(t)
	signIn(t, ctx, e.srv.URL, testUsers[model.RoleAdmin], "/admin/users", `#add-user`)
	for _, path := range []string{"/admin/users", "/admin/sources", "/admin/sources/new", "/admin/sources/edit?name=Krebs%20on%20Security", "/admin/sources/sections", "/admin/sources/import", "/admin/audit", "/admin/backup"} {
		for _, w := range []int64{1366, 390} {
			if scroll, vp := pageFits(t, ctx, e.srv.URL+path, w, `main`); scroll > vp {
				t.Errorf("%s at %d px is %d px wide (viewport %d)", path, w, scroll, vp)
			}
		}
	}
}
