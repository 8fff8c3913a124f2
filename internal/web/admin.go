package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/clipsheet/clipsheet/internal/auth"
	"github.com/clipsheet/clipsheet/internal/curate"
	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/store"
)

// pageFail answers a failed page action with a fitting status and a short
// page; unexpected errors are logged as 500s.
func (s *Server) pageFail(c *gin.Context, err error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.errorPage(c, http.StatusNotFound, "Not found", "No such record.")
	case errors.Is(err, store.ErrExists):
		s.errorPage(c, http.StatusConflict, "Already exists", "A record with this name exists already.")
	case errors.Is(err, store.ErrLastAdmin):
		s.errorPage(c, http.StatusConflict, "Refused", "This would leave no active admin.")
	case errors.Is(err, auth.ErrInvalid), errors.Is(err, curate.ErrInvalid):
		s.errorPage(c, http.StatusUnprocessableEntity, "Not accepted", err.Error())
	default:
		s.fail(c, err)
	}
}

func (s *Server) usersPage(c *gin.Context) {
	s.renderUsers(c, http.StatusOK, gin.H{"Done": usersDoneMessage(c)})
}

func (s *Server) renderUsers(c *gin.Context, status int, data gin.H) {
	ctx := c.Request.Context()
	users, err := s.auth.Users(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	tokens, err := s.auth.APITokens(ctx, "")
	if err != nil {
		s.fail(c, err)
		return
	}
	count := map[string]int{}
	for _, t := range tokens {
		count[t.User]++
	}
	for _, k := range []string{"Name", "Role"} {
		if _, ok := data[k]; !ok {
			data[k] = ""
		}
	}
	data["Title"] = "Users"
	data["Users"] = users
	data["TokenCount"] = count
	data["MinPassword"] = auth.MinPasswordChars
	s.render(c, status, "admin_users", data)
}

// usersDoneMessage turns the redirect after a user change into a line of
// text. Only known verbs, valid user names and roles are shown, so a
// crafted link cannot put arbitrary sentences on the page.
func usersDoneMessage(c *gin.Context) string {
	name, err := model.NormalizeUserName(c.Query("name"))
	if err != nil {
		return ""
	}
	role, roleErr := model.ParseRole(c.Query("role"))
	switch c.Query("done") {
	case "added":
		if roleErr == nil {
			return fmt.Sprintf("User %s added as %s.", name, role)
		}
	case "role":
		if roleErr == nil {
			return fmt.Sprintf("%s is now %s.", name, role)
		}
	case "password":
		return fmt.Sprintf("Password of %s replaced; %s was signed out everywhere.", name, name)
	case "disable":
		return fmt.Sprintf("User %s disabled: signed out, and cannot sign in until enabled again.", name)
	case "enable":
		return fmt.Sprintf("User %s enabled.", name)
	case "remove":
		return fmt.Sprintf("User %s removed, with their sessions and API tokens.", name)
	}
	return ""
}

// usersDoneURL is where the users page goes after a change.
func usersDoneURL(done, name string, role model.Role) string {
	q := url.Values{"done": {done}, "name": {name}}
	if role != "" {
		q.Set("role", string(role))
	}
	return "/admin/users?" + q.Encode()
}

// userInputMessage says which rule a refused name or password broke, in
// the words of the rules themselves (model.NormalizeUserName and
// auth.CheckPassword), without the error chain's prefixes.
func userInputMessage(err error) string {
	msg := strings.TrimPrefix(err.Error(), auth.ErrInvalid.Error()+": ")
	switch {
	case errors.Is(err, auth.ErrWeakPassword):
		return "Password not accepted: " + strings.TrimPrefix(msg, auth.ErrWeakPassword.Error()+": ") + "."
	case strings.HasPrefix(msg, "user name "):
		if _, rule, ok := strings.Cut(msg, ": "); ok {
			return "Name not accepted: " + rule + "."
		}
	}
	if msg == "" {
		return "Not accepted."
	}
	return strings.ToUpper(msg[:1]) + msg[1:] + "."
}

func (s *Server) addUser(c *gin.Context) {
	keep := gin.H{"Name": c.PostForm("name"), "Role": c.PostForm("role")}
	role, err := model.ParseRole(c.PostForm("role"))
	if err != nil {
		keep["Error"] = "Role not accepted: " + err.Error() + "."
		s.renderUsers(c, http.StatusUnprocessableEntity, keep)
		return
	}
	u, err := s.auth.AddUser(c.Request.Context(), s.actor(c), c.PostForm("name"), role, c.PostForm("password"))
	switch {
	case err == nil:
		c.Redirect(http.StatusSeeOther, usersDoneURL("added", u.Name, u.Role))
	case errors.Is(err, store.ErrExists):
		keep["Error"] = "A user with this name exists already."
		s.renderUsers(c, http.StatusConflict, keep)
	case errors.Is(err, auth.ErrInvalid):
		keep["Error"] = userInputMessage(err)
		s.renderUsers(c, http.StatusUnprocessableEntity, keep)
	default:
		s.fail(c, err)
	}
}

// errAsked is returned by a user action that answered with a
// confirmation page instead of acting.
var errAsked = errors.New("asked for confirmation")

// userAction wraps the per-user admin forms: run one service call, then
// back to the list saying what happened, or the list with why not. The
// last part of the route names what was done.
func (s *Server) userAction(fn func(c *gin.Context, a auth.Actor, name string) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		name := c.Param("name")
		err := fn(c, s.actor(c), name)
		switch {
		case err == nil:
			var role model.Role
			done := path.Base(c.FullPath())
			if done == "role" {
				role, _ = model.ParseRole(c.PostForm("role"))
			}
			c.Redirect(http.StatusSeeOther, usersDoneURL(done, name, role))
		case errors.Is(err, errAsked):
		case errors.Is(err, store.ErrLastAdmin):
			s.renderUsers(c, http.StatusConflict, gin.H{"Error": "Refused: this would leave no active admin. Make another user an admin first."})
		case errors.Is(err, auth.ErrInvalid):
			s.renderUsers(c, http.StatusUnprocessableEntity, gin.H{"Error": userInputMessage(err)})
		case errors.Is(err, store.ErrNotFound):
			s.renderUsers(c, http.StatusNotFound, gin.H{"Error": "There is no user named " + quote(name) + " (any more)."})
		default:
			s.fail(c, err)
		}
	}
}

func (s *Server) setUserRole(c *gin.Context, a auth.Actor, name string) error {
	role, err := model.ParseRole(c.PostForm("role"))
	if err != nil {
		return errors.Join(auth.ErrInvalid, err)
	}
	return s.auth.SetRole(c.Request.Context(), a, name, role)
}

func (s *Server) resetUserPassword(c *gin.Context, a auth.Actor, name string) error {
	// No confirmation page here: typing a new password into a form that
	// has to be opened first is the deliberate step, and a confirmation
	// would have to carry the password back to the browser in the page.
	if err := auth.CheckPassword(name, c.PostForm("password")); err != nil {
		return fmt.Errorf("%w: %w", auth.ErrInvalid, err)
	}
	return s.auth.SetPassword(c.Request.Context(), a, name, c.PostForm("password"), "")
}

func (s *Server) disableUser(c *gin.Context, a auth.Actor, name string) error {
	if _, err := s.store.GetUser(c.Request.Context(), name); err != nil {
		return err
	}
	if !s.confirmed(c, confirmStep{
		Title:       "Disable " + name + "?",
		Consequence: name + " is signed out at once and cannot sign in or use API tokens until enabled again. Nothing is deleted.",
		Button:      "Disable " + name,
		Back:        "/admin/users",
	}) {
		return errAsked
	}
	return s.auth.SetDisabled(c.Request.Context(), a, name, true)
}

func (s *Server) enableUser(c *gin.Context, a auth.Actor, name string) error {
	return s.auth.SetDisabled(c.Request.Context(), a, name, false)
}

func (s *Server) removeUser(c *gin.Context, a auth.Actor, name string) error {
	// Asking about someone who does not exist would only lead to "not
	// found" after the confirmation.
	if _, err := s.store.GetUser(c.Request.Context(), name); err != nil {
		return err
	}
	if !s.confirmed(c, confirmStep{
		Title:       "Remove " + name + "?",
		Consequence: "The account, its sessions and its API tokens are deleted; this cannot be undone. Their decisions stay in the audit log. To stop them signing in for a while, disable the account instead.",
		Button:      "Remove " + name,
		Back:        "/admin/users",
	}) {
		return errAsked
	}
	return s.auth.RemoveUser(c.Request.Context(), a, name)
}

// confirmStep describes the question a destructive form asks before it
// acts.
type confirmStep struct {
	Title       string // the question, as the page heading
	Consequence string // what happens, in a sentence or two
	Button      string // the confirming button's label
	Back        string // where Cancel goes
}

// confirmField is one posted field carried through the confirmation.
type confirmField struct{ Name, Value string }

// confirmed reports whether a destructive form post carries the
// confirmation; if not, it answers with a page that asks, whose button
// posts the same fields again with it. This works without JavaScript, and
// the first, unconfirmed post changes nothing.
func (s *Server) confirmed(c *gin.Context, step confirmStep) bool {
	if c.PostForm("confirm") == "yes" {
		return true
	}
	var fields []confirmField
	keys := make([]string, 0, len(c.Request.PostForm))
	for k := range c.Request.PostForm {
		if k != csrfField && k != "confirm" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range c.Request.PostForm[k] {
			fields = append(fields, confirmField{Name: k, Value: v})
		}
	}
	s.render(c, http.StatusOK, "confirm", gin.H{
		"Title":  step.Title,
		"Step":   step,
		"Action": c.Request.URL.RequestURI(),
		"Fields": fields,
	})
	return false
}

func (s *Server) auditPage(c *gin.Context) {
	f, err := auditFilterFromQuery(c)
	if err != nil {
		s.errorPage(c, http.StatusBadRequest, "Bad request", err.Error())
		return
	}
	events, err := s.store.ListAudit(c.Request.Context(), f)
	if err != nil {
		s.fail(c, err)
		return
	}
	var next uint64
	if len(events) == f.Limit {
		next = events[len(events)-1].Seq
	}
	s.render(c, http.StatusOK, "admin_audit", gin.H{"Title": "Audit log", "Events": events, "Filter": f, "Next": next})
}

// confirmTokenRevoke asks before the account page revokes one of the
// user's API tokens; a token that is not theirs goes straight on to be
// refused. It reports whether to go ahead.
func (s *Server) confirmTokenRevoke(c *gin.Context) bool {
	tokens, err := s.auth.APITokens(c.Request.Context(), currentUser(c).Name)
	if err != nil {
		s.fail(c, err)
		return false
	}
	for _, t := range tokens {
		if t.ID == c.Param("id") {
			return s.confirmed(c, confirmStep{
				Title:       "Revoke the API token " + quote(t.Name) + "?",
				Consequence: "Scripts using it stop working at once; this cannot be undone.",
				Button:      "Revoke the token",
				Back:        "/account",
			})
		}
	}
	return true
}
