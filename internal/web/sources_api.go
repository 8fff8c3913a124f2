package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/clipsheet/clipsheet/internal/config"
	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/sourcesfile"
)

// The sources API speaks JSON with the same keys as sources.yaml. The
// file's content hash is the resource version: every answer carries it in
// ETag, and a write with If-Match is refused with 412 when the file
// changed since (a write without If-Match applies to whatever is current,
// as the last writer).

// sourcesDoc is GET /api/v1/sources.
type sourcesDoc struct {
	Version string `json:"version"`
	config.SourcesFile
	// FileError is set when sources.yaml on disk does not validate; the
	// list is then the one still in force.
	FileError string `json:"file_error,omitempty"`
	// Health is each source's state, in the order of sources: what the
	// sources page shows.
	Health []sourceHealth `json:"health"`
}

// sourceHealth is one source's health as the sources page shows it.
// Times are RFC 3339, "" (omitted) when unknown.
type sourceHealth struct {
	Name                string `json:"name"`
	Health              string `json:"health"` // ok, failing, silent, pending, disabled
	Why                 string `json:"why"`
	Enabled             bool   `json:"enabled"`
	Interval            string `json:"interval"` // in effect, default applied
	LastAttempt         string `json:"last_attempt,omitempty"`
	LastSuccess         string `json:"last_success,omitempty"`
	LastError           string `json:"last_error,omitempty"`
	ConsecutiveFailures int    `json:"consecutive_failures,omitempty"`
	LastNewItem         string `json:"last_new_item,omitempty"`
	UsualGap            string `json:"usual_gap,omitempty"`
	Items24h            int    `json:"items_24h"`
	Items7d             int    `json:"items_7d"`
	// MovedTo is where the source moved permanently (301/308) and is
	// polled now, while sources.yaml still has the old URL.
	MovedTo string `json:"moved_to,omitempty"`
}

func healthJSON(r *sourceRow) sourceHealth {
	h := sourceHealth{Name: r.Source.Name, Health: r.Health, Why: r.Why, Enabled: r.Source.IsEnabled(),
		Interval: r.IntervalText(), LastNewItem: model.FormatTime(r.LastNew), Items24h: r.Last24h, Items7d: r.Last7d,
		MovedTo: r.MovedTo()}
	if r.UsualGap > 0 {
		h.UsualGap = config.Duration(r.UsualGap).String()
	}
	if st := r.State; st != nil {
		h.LastAttempt, h.LastSuccess = model.FormatTime(st.LastAttempt), model.FormatTime(st.LastSuccess)
		h.LastError, h.ConsecutiveFailures = st.LastError, st.ConsecutiveFailures
	}
	return h
}

// apiSourceFile returns the editable file or answers 503.
func (s *Server) apiSourceFile(c *gin.Context) *sourcesfile.File {
	f := s.cfg.SourceAdmin.File
	if f == nil {
		s.apiError(c, http.StatusServiceUnavailable, "unavailable", "source administration is not available: no editable sources file")
	}
	return f
}

// apiSnapshot reads the file, answering 500 on failure.
func (s *Server) apiSnapshot(c *gin.Context) (*sourcesfile.File, *sourcesfile.Snapshot) {
	file := s.apiSourceFile(c)
	if file == nil {
		return nil, nil
	}
	snap, err := file.Read()
	if err != nil {
		s.fail(c, err)
		return nil, nil
	}
	return file, snap
}

func (s *Server) apiSourcesList(c *gin.Context) {
	_, snap := s.apiSnapshot(c)
	if snap == nil {
		return
	}
	list := s.snapshotList(snap)
	rows, err := s.sourceRows(c.Request.Context(), list)
	if err != nil {
		s.fail(c, err)
		return
	}
	doc := sourcesDoc{Version: snap.Hash, SourcesFile: *list, Health: make([]sourceHealth, len(rows))}
	for i, r := range rows {
		doc.Health[i] = healthJSON(r)
	}
	if snap.Err != nil {
		doc.FileError = snap.Err.Error()
	}
	setVersion(c, snap.Hash)
	c.JSON(http.StatusOK, doc)
}

// pathName is the source name from /api/v1/sources/{name}.
func pathName(c *gin.Context) string {
	return strings.TrimPrefix(c.Param("name"), "/")
}

func (s *Server) apiSourceGet(c *gin.Context) {
	_, snap := s.apiSnapshot(c)
	if snap == nil {
		return
	}
	src, ok := s.snapshotList(snap).Find(pathName(c))
	if !ok {
		s.apiError(c, http.StatusNotFound, "not_found", "no source named "+quote(pathName(c)))
		return
	}
	setVersion(c, snap.Hash)
	c.JSON(http.StatusOK, src)
}

func (s *Server) apiSourceCreate(c *gin.Context) {
	file, snap := s.apiSnapshot(c)
	if snap == nil {
		return
	}
	var src config.Source
	if !s.bindJSON(c, &src) {
		return
	}
	src = sourcesfile.CleanSource(src)
	list := s.snapshotList(snap)
	for _, other := range list.Sources {
		// Names are compared as the validator does, regardless of case.
		if src.Name != "" && strings.EqualFold(other.Name, src.Name) {
			s.apiError(c, http.StatusConflict, "exists", "a source named "+quote(other.Name)+" exists already")
			return
		}
	}
	if ps := sourcesfile.CheckSource(list, "", src); len(ps) > 0 {
		s.apiInvalid(c, ps)
		return
	}
	next, err := file.Apply(ifMatch(c), func(d *sourcesfile.Doc) error { return d.AddSource(src) })
	if err != nil {
		s.apiApplyFailed(c, err)
		return
	}
	s.audit(c, model.AuditSourceAdd, src.Name, src.URL)
	setVersion(c, next.Hash)
	c.Header("Location", "/api/v1/sources/"+url.PathEscape(src.Name))
	c.JSON(http.StatusCreated, src)
}

func (s *Server) apiSourceUpdate(c *gin.Context) {
	file, snap := s.apiSnapshot(c)
	if snap == nil {
		return
	}
	name := pathName(c)
	list := s.snapshotList(snap)
	if _, ok := list.Find(name); !ok {
		s.apiError(c, http.StatusNotFound, "not_found", "no source named "+quote(name))
		return
	}
	var src config.Source
	if !s.bindJSON(c, &src) {
		return
	}
	if strings.TrimSpace(src.Name) == "" {
		src.Name = name
	}
	src = sourcesfile.CleanSource(src)
	if ps := sourcesfile.CheckSource(list, name, src); len(ps) > 0 {
		s.apiInvalid(c, ps)
		return
	}
	next, err := file.Apply(ifMatch(c), func(d *sourcesfile.Doc) error { return d.UpdateSource(name, src) })
	if err != nil {
		s.apiApplyFailed(c, err)
		return
	}
	detail := src.URL
	if !sameText(name, src.Name) {
		moved := s.moveSourceState(c.Request.Context(), name, src.Name)
		detail = fmt.Sprintf("renamed from %s (%d stored item(s) moved); %s", quote(name), moved, detail)
	}
	s.audit(c, model.AuditSourceChange, src.Name, detail)
	setVersion(c, next.Hash)
	c.JSON(http.StatusOK, src)
}

func (s *Server) apiSourceDelete(c *gin.Context) {
	file, snap := s.apiSnapshot(c)
	if snap == nil {
		return
	}
	name := pathName(c)
	if _, ok := s.snapshotList(snap).Find(name); !ok {
		s.apiError(c, http.StatusNotFound, "not_found", "no source named "+quote(name))
		return
	}
	next, err := file.Apply(ifMatch(c), func(d *sourcesfile.Doc) error { return d.DeleteSource(name) })
	if err != nil {
		s.apiApplyFailed(c, err)
		return
	}
	if err := s.store.DeleteSourceState(c.Request.Context(), name); err != nil {
		s.log.Warn("delete source state", "source", name, "err", err)
	}
	s.audit(c, model.AuditSourceRemove, name, "")
	setVersion(c, next.Hash)
	c.Status(http.StatusNoContent)
}

// apiInvalid answers 422 with the API error shape plus every problem, so
// a client can show each beside its field.
func (s *Server) apiInvalid(c *gin.Context, ps []config.Problem) {
	c.AbortWithStatusJSON(http.StatusUnprocessableEntity, gin.H{"error": gin.H{
		"code": "invalid", "message": (&config.ValidationError{Problems: ps}).Error(), "problems": ps,
	}})
}

func (s *Server) apiApplyFailed(c *gin.Context, err error) {
	var ce *sourcesfile.ConflictError
	var ve *config.ValidationError
	var ie *sourcesfile.InvalidFileError
	switch {
	case errors.As(err, &ce):
		// A failed If-Match is 412 (RFC 9110 §13.1.1), as for items.
		setVersion(c, ce.Current.Hash)
		s.apiError(c, http.StatusPreconditionFailed, "stale", "sources.yaml changed since the version in If-Match; GET the current version and retry")
	case errors.As(err, &ie):
		s.apiError(c, http.StatusConflict, "file_invalid", ie.Error())
	case errors.As(err, &ve):
		s.apiInvalid(c, ve.Problems)
	case errors.Is(err, sourcesfile.ErrExists):
		s.apiError(c, http.StatusConflict, "exists", err.Error())
	case errors.Is(err, sourcesfile.ErrNotFound):
		s.apiError(c, http.StatusNotFound, "not_found", err.Error())
	default:
		s.fail(c, err)
	}
}

func setVersion(c *gin.Context, hash string) {
	c.Header("ETag", `"`+hash+`"`)
}

// ifMatch reads the version a write is based on from If-Match ("" when
// absent or "*").
func ifMatch(c *gin.Context) string {
	v := strings.TrimSpace(c.GetHeader("If-Match"))
	v = strings.TrimPrefix(v, "W/")
	v = strings.Trim(v, `"`)
	if v == "*" {
		return ""
	}
	return v
}
