package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/clipsheet/clipsheet/internal/sourcesfile"
)

// The sections API manages the sections of sources.yaml the way the
// sections page does, with the file's content hash as version (ETag and
// If-Match), as the sources API.

// sectionJSON is one section with the number of sources filed under it.
type sectionJSON struct {
	Name    string `json:"name"`
	Sources int    `json:"sources"`
	// MovedItems is set in the answer to a rename: stored items re-filed.
	MovedItems *int `json:"moved_items,omitempty"`
}

// sectionChange is the body of POST /sections and PUT /sections/{name}.
type sectionChange struct {
	Name string `json:"name"`
	// Position is 1-based; 0 or absent keeps the place (PUT) or appends
	// (POST).
	Position int `json:"position,omitempty"`
}

func sectionList(list []string, count map[string]int) []sectionJSON {
	out := make([]sectionJSON, len(list))
	for i, name := range list {
		out[i] = sectionJSON{Name: name, Sources: count[name]}
	}
	return out
}

func (s *Server) apiSections(c *gin.Context) {
	_, snap := s.apiSnapshot(c)
	if snap == nil {
		return
	}
	list := s.snapshotList(snap)
	setVersion(c, snap.Hash)
	c.JSON(http.StatusOK, gin.H{"version": snap.Hash, "sections": sectionList(list.Sections, sourcesPerSection(list.Sources))})
}

// apiSectionGet is one section: what the Location of a created section
// points at.
func (s *Server) apiSectionGet(c *gin.Context) {
	_, snap := s.apiSnapshot(c)
	if snap == nil {
		return
	}
	list := s.snapshotList(snap)
	name := pathName(c)
	if !slices.Contains(list.Sections, name) {
		s.apiError(c, http.StatusNotFound, "not_found", "no section named "+quote(name))
		return
	}
	setVersion(c, snap.Hash)
	c.JSON(http.StatusOK, sectionJSON{Name: name, Sources: sourcesPerSection(list.Sources)[name]})
}

func (s *Server) apiSectionCreate(c *gin.Context) {
	file, snap := s.apiSnapshot(c)
	if snap == nil {
		return
	}
	var in sectionChange
	if !s.bindJSON(c, &in) {
		return
	}
	name := strings.TrimSpace(in.Name)
	if name == "" {
		s.apiError(c, http.StatusUnprocessableEntity, "invalid", "name is required")
		return
	}
	if in.Position < 0 {
		s.apiError(c, http.StatusUnprocessableEntity, "invalid", "position counts from 1")
		return
	}
	next, err := file.Apply(ifMatch(c), func(d *sourcesfile.Doc) error {
		if err := d.AddSection(name); err != nil {
			return err
		}
		if in.Position > 0 {
			return d.MoveSection(name, in.Position-1)
		}
		return nil
	})
	if err != nil {
		s.apiSectionFailed(c, err)
		return
	}
	s.audit(c, auditSectionAdd, name, "")
	setVersion(c, next.Hash)
	c.Header("Location", "/api/v1/sections/"+url.PathEscape(name))
	c.JSON(http.StatusCreated, sectionJSON{Name: name})
}

// apiSectionUpdate renames a section (moving its sources and stored
// items) and/or moves it to another position.
func (s *Server) apiSectionUpdate(c *gin.Context) {
	file, snap := s.apiSnapshot(c)
	if snap == nil {
		return
	}
	old := pathName(c)
	var in sectionChange
	if !s.bindJSON(c, &in) {
		return
	}
	name := strings.TrimSpace(in.Name)
	if name == "" {
		name = old
	}
	if in.Position < 0 {
		s.apiError(c, http.StatusUnprocessableEntity, "invalid", "position counts from 1")
		return
	}
	if !slices.Contains(s.snapshotList(snap).Sections, old) {
		s.apiError(c, http.StatusNotFound, "not_found", "no section named "+quote(old))
		return
	}
	if name == old && in.Position == 0 {
		s.apiError(c, http.StatusUnprocessableEntity, "invalid", "give a new name, a position, or both")
		return
	}
	next, moved, err := s.applySectionEdit(c.Request.Context(), file, ifMatch(c), old, name, func(d *sourcesfile.Doc) error {
		if name != old {
			if err := d.RenameSection(old, name); err != nil {
				return err
			}
		}
		if in.Position > 0 {
			return d.MoveSection(name, in.Position-1)
		}
		return nil
	})
	if err != nil {
		s.apiSectionFailed(c, err)
		return
	}
	if name != old {
		s.audit(c, auditSectionRename, old, fmt.Sprintf("to %s; %d stored item(s) moved", quote(name), moved))
	}
	if in.Position > 0 {
		s.audit(c, auditSectionMove, name, fmt.Sprintf("to position %d", in.Position))
	}
	setVersion(c, next.Hash)
	out := sectionJSON{Name: name, Sources: sourcesPerSection(next.Sources.Sources)[name]}
	if name != old {
		out.MovedItems = &moved
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) apiSectionDelete(c *gin.Context) {
	file, snap := s.apiSnapshot(c)
	if snap == nil {
		return
	}
	name := pathName(c)
	next, err := file.Apply(ifMatch(c), func(d *sourcesfile.Doc) error { return d.DeleteSection(name) })
	if err != nil {
		s.apiSectionFailed(c, err)
		return
	}
	s.audit(c, auditSectionRemove, name, "")
	setVersion(c, next.Hash)
	c.Status(http.StatusNoContent)
}

func (s *Server) apiSectionFailed(c *gin.Context, err error) {
	switch {
	case errors.Is(err, sourcesfile.ErrInUse):
		s.apiError(c, http.StatusConflict, "in_use", err.Error())
	case errors.Is(err, errNoRenamer):
		s.apiError(c, http.StatusServiceUnavailable, "unavailable", err.Error())
	default:
		s.apiApplyFailed(c, err)
	}
}
