package web

import (
	"errors"
	"net/http"

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

func (s *Server) usersPage(c *gin.Context) { s.renderUsers(c, http.StatusOK, gin.H{}) }

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
	data["Title"] = "Users"
	data["Users"] = users
	data["TokenCount"] = count
	data["MinPassword"] = auth.MinPasswordChars
	s.render(c, status, "admin_users", data)
}

func (s *Server) addUser(c *gin.Context) {
	role, err := model.ParseRole(c.PostForm("role"))
	if err != nil {
		s.renderUsers(c, http.StatusUnprocessableEntity, gin.H{"Error": err.Error()})
		return
	}
	_, err = s.auth.AddUser(c.Request.Context(), s.actor(c), c.PostForm("name"), role, c.PostForm("password"))
	switch {
	case err == nil:
		c.Redirect(http.StatusSeeOther, "/admin/users")
	case errors.Is(err, store.ErrExists):
		s.renderUsers(c, http.StatusConflict, gin.H{"Error": "A user with this name exists already."})
	case errors.Is(err, auth.ErrInvalid):
		s.renderUsers(c, http.StatusUnprocessableEntity, gin.H{"Error": err.Error()})
	default:
		s.fail(c, err)
	}
}

// userAction wraps the per-user admin forms: run one service call, then
// back to the list (or an error page).
func (s *Server) userAction(fn func(c *gin.Context, a auth.Actor, name string) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := fn(c, s.actor(c), c.Param("name")); err != nil {
			s.pageFail(c, err)
			return
		}
		c.Redirect(http.StatusSeeOther, "/admin/users")
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
	return s.auth.SetPassword(c.Request.Context(), a, name, c.PostForm("password"), "")
}

func (s *Server) disableUser(c *gin.Context, a auth.Actor, name string) error {
	return s.auth.SetDisabled(c.Request.Context(), a, name, true)
}

func (s *Server) enableUser(c *gin.Context, a auth.Actor, name string) error {
	return s.auth.SetDisabled(c.Request.Context(), a, name, false)
}

func (s *Server) removeUser(c *gin.Context, a auth.Actor, name string) error {
	return s.auth.RemoveUser(c.Request.Context(), a, name)
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
