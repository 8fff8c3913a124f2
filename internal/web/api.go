package web

// The JSON API framework, shared by every /api/v1 handler (items and
// briefing here, source administration in sources*.go):
//
//   - s.apiGroups(r) builds the /api/v1 group: bearer-token or session
//     authentication, JSON errors, CSRF for cookie sessions.
//   - s.requireRole(model.RoleX) is the role gate for API and page groups.
//   - s.apiError(c, status, code, msg) answers
//     {"error": {"code": ..., "message": ...}} and aborts.
//   - s.apiFail(c, err) maps domain errors (store.ErrNotFound,
//     store.ErrExists, curate.ErrInvalid, ...) to statuses.
//   - s.bindJSON(c, &v) decodes a strict JSON body (unknown fields: 400).
//   - s.audit(c, action, target, detail) appends to the audit log as the
//     signed-in user.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/clipsheet/clipsheet/internal/auth"
	"github.com/clipsheet/clipsheet/internal/curate"
	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/store"
)

// apiError answers with the API's error shape and stops the chain.
func (s *Server) apiError(c *gin.Context, status int, code, msg string) {
	// RFC 9110 §11.6.1: a 401 names how to authenticate; the API takes
	// bearer tokens, whichever path found the caller missing.
	if status == http.StatusUnauthorized && c.Writer.Header().Get("WWW-Authenticate") == "" {
		c.Header("WWW-Authenticate", `Bearer realm="clipsheet"`)
	}
	c.AbortWithStatusJSON(status, gin.H{"error": gin.H{"code": code, "message": msg}})
}

// apiFail maps an error from the domain to a fitting status; anything
// unexpected is logged and becomes a 500 without details.
func (s *Server) apiFail(c *gin.Context, err error) {
	var rl *auth.RateLimitError
	var stale *curate.StaleError
	switch {
	case errors.As(err, &stale):
		// The answer carries the item as it is now, so a client can show
		// what changed and retry on the current version.
		setItemETag(c, stale.Current)
		c.AbortWithStatusJSON(http.StatusPreconditionFailed, gin.H{
			"error":   gin.H{"code": "stale", "message": staleMessage(stale.Current, s.cfg.Now())},
			"current": stale.Current,
		})
	case errors.Is(err, store.ErrNotFound):
		s.apiError(c, http.StatusNotFound, "not_found", "no such record")
	case errors.Is(err, store.ErrExists):
		s.apiError(c, http.StatusConflict, "exists", "a record with this name exists already")
	case errors.Is(err, store.ErrLastAdmin):
		s.apiError(c, http.StatusConflict, "last_admin", "this would leave no active admin")
	case errors.Is(err, curate.ErrInvalid), errors.Is(err, auth.ErrInvalid):
		s.apiError(c, http.StatusUnprocessableEntity, "invalid", err.Error())
	case errors.Is(err, auth.ErrNoSession):
		s.apiError(c, http.StatusUnauthorized, "unauthenticated", "not signed in")
	case errors.As(err, &rl):
		c.Header("Retry-After", strconv.Itoa(int(rl.RetryAfter.Seconds()+0.5)))
		s.apiError(c, http.StatusTooManyRequests, "rate_limited", rl.Error())
	default:
		s.fail(c, err)
	}
}

// bindJSON decodes the body into v, refusing unknown fields and trailing
// data so a typo in a field name is an error rather than silently ignored.
func (s *Server) bindJSON(c *gin.Context, v any) bool {
	if ct := c.ContentType(); ct != "application/json" {
		s.apiError(c, http.StatusUnsupportedMediaType, "bad_content_type", "send Content-Type: application/json")
		return false
	}
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.Decode(&struct{}{}) != io.EOF {
		err = errors.New("trailing data after the JSON value")
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		s.tooLarge(c)
		return false
	}
	if err != nil {
		s.apiError(c, http.StatusBadRequest, "bad_request", "invalid JSON body: "+err.Error())
		return false
	}
	return true
}

// audit records an event as the current user; failures are logged, not
// answered, because the change it describes has happened.
func (s *Server) audit(c *gin.Context, action, target, detail string) {
	if err := s.auth.Record(c.Request.Context(), s.actor(c), action, target, detail); err != nil {
		s.log.Error("audit", "action", action, "target", target, "err", err)
	}
}

// apiAuth authenticates API calls: a bearer token acts as its user with
// that user's role and needs no CSRF token (browsers never send it by
// themselves); without one, the session cookie works too, but unsafe
// methods then need the session's CSRF token in X-CSRF-Token.
func (s *Server) apiAuth(c *gin.Context) {
	c.Set(kindKey, kindAPI)
	if h := c.GetHeader("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			c.Header("WWW-Authenticate", `Bearer realm="clipsheet"`)
			s.apiError(c, http.StatusUnauthorized, "unauthenticated", "use Authorization: Bearer <token>")
			return
		}
		u, _, err := s.auth.APIUser(c.Request.Context(), strings.TrimSpace(tok))
		if errors.Is(err, auth.ErrNoSession) {
			c.Header("WWW-Authenticate", `Bearer realm="clipsheet", error="invalid_token"`)
			s.apiError(c, http.StatusUnauthorized, "invalid_token", "unknown or revoked token")
			return
		}
		if err != nil {
			s.fail(c, err)
			return
		}
		c.Set(userKey, u)
		c.Set(sessionKey, (*model.Session)(nil))
		c.Next()
		return
	}
	if currentSession(c) != nil && unsafeMethod(c.Request.Method) && !s.checkCSRF(c) {
		return
	}
	c.Next()
}

// apiGroups returns /api/v1 and its role-gated subgroups.
func (s *Server) apiGroups(r *gin.Engine) (api, readers, curators, admins *gin.RouterGroup) {
	api = r.Group("/api/v1", s.apiAuth)
	return api, api.Group("", s.requireRole(model.RoleReader)),
		api.Group("", s.requireRole(model.RoleCurator)), api.Group("", s.requireRole(model.RoleAdmin))
}

// API limits on listing, as docs/openapi.yaml states them.
const (
	apiDefaultLimit = 100
	apiMaxLimit     = 1000
	apiMaxOffset    = 1 << 30
)

func (s *Server) apiListItems(c *gin.Context) {
	f, err := itemFilterFromQuery(c)
	if err != nil {
		s.apiError(c, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	page, err := s.desk.Page(c.Request.Context(), f)
	if errors.Is(err, store.ErrBadCursor) {
		s.apiError(c, http.StatusBadRequest, "bad_request", "after: not a cursor this API gave as next")
		return
	}
	if errors.Is(err, store.ErrBadQuery) {
		s.apiError(c, http.StatusBadRequest, "bad_request", "q: "+err.Error())
		return
	}
	if err != nil {
		s.apiFail(c, err)
		return
	}
	items := page.Items
	if items == nil {
		items = []*model.Item{}
	}
	answer := gin.H{"items": items}
	if page.Next != "" {
		answer["next"] = page.Next
	}
	c.JSON(http.StatusOK, answer)
}

// itemFilterFromQuery reads status, section, source, since (RFC 3339), q,
// limit, after and offset.
func itemFilterFromQuery(c *gin.Context) (store.ItemFilter, error) {
	f := store.ItemFilter{
		Status:  model.Status(c.Query("status")),
		Section: c.Query("section"),
		Source:  c.Query("source"),
		Query:   c.Query("q"),
		Limit:   apiDefaultLimit,
		After:   c.Query("after"),
	}
	switch c.Query("order") {
	case "", "newest":
	case "relevance":
		f.ByRelevance = true
	default:
		return f, fmt.Errorf("order: use newest or relevance")
	}
	if f.Status != "" && !f.Status.Valid() {
		return f, fmt.Errorf("unknown status %q (use queued, approved or rejected)", f.Status)
	}
	if v := c.Query("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			// A bare date means its start, in UTC.
			if t, err = time.Parse(time.DateOnly, v); err != nil {
				return f, fmt.Errorf("since: want an RFC 3339 time such as 2026-01-02T15:04:05Z, or a date such as 2026-01-02")
			}
		}
		f.Since = t
	}
	for _, p := range []struct {
		name     string
		dst      *int
		min, max int
	}{{"limit", &f.Limit, 1, apiMaxLimit}, {"offset", &f.Offset, 0, apiMaxOffset}} {
		if v := c.Query(p.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < p.min || n > p.max {
				return f, fmt.Errorf("%s: want a whole number from %d to %d", p.name, p.min, p.max)
			}
			*p.dst = n
		}
	}
	return f, nil
}

func (s *Server) apiGetItem(c *gin.Context) {
	it, err := s.desk.Item(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.apiFail(c, err)
		return
	}
	setItemETag(c, it)
	c.JSON(http.StatusOK, it)
}

// itemPatch is the editable part of an item; absent fields stay as they
// are. The extraction stays readable under "original" in the answer.
type itemPatch struct {
	Title   *string   `json:"title"`
	Lead    *string   `json:"lead"`
	Byline  *string   `json:"byline"`
	Section *string   `json:"section"`
	Tags    *[]string `json:"tags"`
	Note    *string   `json:"note"`
	Version int64     `json:"-"` // from If-Match
}

func (s *Server) apiPatchItem(c *gin.Context) {
	var p itemPatch
	var err error
	if p.Version, err = itemIfMatch(c); err != nil {
		s.apiError(c, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	if !s.bindJSON(c, &p) {
		return
	}
	e := curate.Edit(p)
	if len(editFields(e)) == 0 {
		s.apiError(c, http.StatusBadRequest, "bad_request", "nothing to change: send title, lead, byline, section, tags or note")
		return
	}
	it, err := s.apply(c, c.Param("id"), e)
	if err != nil {
		s.apiFail(c, err)
		return
	}
	setItemETag(c, it)
	c.JSON(http.StatusOK, it)
}

func (s *Server) apiDecide(status model.Status) gin.HandlerFunc {
	return func(c *gin.Context) {
		version, ok := s.decisionVersion(c)
		if !ok {
			return
		}
		it, err := s.decide(c, c.Param("id"), status, version)
		if err != nil {
			s.apiFail(c, err)
			return
		}
		setItemETag(c, it)
		c.JSON(http.StatusOK, it)
	}
}

// decisionVersion reads the item version a decision is based on, from
// If-Match or an optional body {"version": N}; 0 when neither is sent
// (scripts written before versions decide as they always did).
func (s *Server) decisionVersion(c *gin.Context) (int64, bool) {
	version, err := itemIfMatch(c)
	if err != nil {
		s.apiError(c, http.StatusBadRequest, "bad_request", err.Error())
		return 0, false
	}
	raw, err := io.ReadAll(c.Request.Body)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		s.tooLarge(c)
		return 0, false
	}
	if err != nil {
		s.apiError(c, http.StatusBadRequest, "bad_request", "unreadable body: "+err.Error())
		return 0, false
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return version, true
	}
	c.Request.Body = io.NopCloser(bytes.NewReader(raw))
	var body struct {
		Version *int64 `json:"version"`
	}
	if !s.bindJSON(c, &body) {
		return 0, false
	}
	switch {
	case body.Version == nil:
		return version, true
	case *body.Version < 1:
		s.apiError(c, http.StatusBadRequest, "bad_request", "version: want the item's version, a whole number from 1")
		return 0, false
	case version != 0 && version != *body.Version:
		s.apiError(c, http.StatusBadRequest, "bad_request", "If-Match and the body's version disagree")
		return 0, false
	}
	return *body.Version, true
}

// briefingJSON is the briefing for API clients.
type briefingJSON struct {
	Title     string                `json:"title"`
	Generated time.Time             `json:"generated"`
	Total     int                   `json:"total"`
	Sections  []briefingSectionJSON `json:"sections"`
}

type briefingSectionJSON struct {
	Name  string        `json:"name"`
	Items []*model.Item `json:"items"`
}

func (s *Server) apiBriefing(c *gin.Context) {
	b, err := s.desk.Briefing(c.Request.Context(), s.sections(), 0)
	if err != nil {
		s.apiFail(c, err)
		return
	}
	out := briefingJSON{Title: s.cfg.Settings.Briefing.Title, Generated: b.Generated.UTC(), Total: b.Total, Sections: []briefingSectionJSON{}}
	for _, sec := range b.Sections {
		out.Sections = append(out.Sections, briefingSectionJSON{Name: sec.Name, Items: sec.Items})
	}
	c.JSON(http.StatusOK, out)
}

// userJSON is a user as the API shows it: never the password hash.
type userJSON struct {
	Name      string     `json:"name"`
	Role      model.Role `json:"role"`
	Disabled  bool       `json:"disabled"`
	Created   time.Time  `json:"created"`
	LastLogin time.Time  `json:"last_login,omitzero"`
}

func toUserJSON(u *model.User) userJSON {
	return userJSON{Name: u.Name, Role: u.Role, Disabled: u.Disabled, Created: u.Created, LastLogin: u.LastLogin}
}

func (s *Server) apiMe(c *gin.Context) {
	c.JSON(http.StatusOK, toUserJSON(currentUser(c)))
}

func (s *Server) apiUsers(c *gin.Context) {
	users, err := s.auth.Users(c.Request.Context())
	if err != nil {
		s.apiFail(c, err)
		return
	}
	out := make([]userJSON, 0, len(users))
	for _, u := range users {
		out = append(out, toUserJSON(u))
	}
	c.JSON(http.StatusOK, gin.H{"users": out})
}

func (s *Server) apiAudit(c *gin.Context) {
	f, err := auditFilterFromQuery(c)
	if err != nil {
		s.apiError(c, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	events, err := s.store.ListAudit(c.Request.Context(), f)
	if err != nil {
		s.apiFail(c, err)
		return
	}
	if events == nil {
		events = []model.AuditEvent{}
	}
	c.JSON(http.StatusOK, gin.H{"events": events})
}

// auditFilterFromQuery reads actor, action, before and limit.
func auditFilterFromQuery(c *gin.Context) (store.AuditFilter, error) {
	f := store.AuditFilter{Actor: strings.TrimSpace(c.Query("actor")), Action: strings.TrimSpace(c.Query("action")), Limit: 50}
	if v := c.Query("before"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return f, errors.New("before: want an event sequence number")
		}
		f.Before = n
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return f, errors.New("limit: want 1 to 500")
		}
		f.Limit = n
	}
	return f, nil
}
