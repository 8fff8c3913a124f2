package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/clipsheet/clipsheet/internal/config"
	"github.com/clipsheet/clipsheet/internal/sourcesfile"
)

// sectionRow is one line of the sections page.
type sectionRow struct {
	Name    string
	Sources int
}

func (s *Server) sectionsPage(c *gin.Context) {
	s.renderSections(c, http.StatusOK, "")
}

// sourcesPerSection counts the sources filed under each section ("" for
// those without one).
func sourcesPerSection(sources []config.Source) map[string]int {
	n := map[string]int{}
	for _, src := range sources {
		n[src.Section]++
	}
	return n
}

func (s *Server) renderSections(c *gin.Context, status int, problem string) {
	_, snap, ok := s.readSourcesFile(c)
	if !ok {
		return
	}
	list := s.snapshotList(snap)
	used := sourcesPerSection(list.Sources)
	rows := make([]sectionRow, len(list.Sections))
	for i, name := range list.Sections {
		rows[i] = sectionRow{Name: name, Sources: used[name]}
	}
	s.render(c, status, "sources_sections", gin.H{
		"Title":       "Sections",
		"Rows":        rows,
		"Unsectioned": used[""],
		"Version":     snap.Hash,
		"Problem":     problem,
		"Done":        doneMessage(c),
	})
}

// sectionsPost applies one section change: add, rename, up, down, delete.
func (s *Server) sectionsPost(c *gin.Context) {
	file := s.sourcesFile(c)
	if file == nil {
		return
	}
	name := c.PostForm("name")
	newName := strings.TrimSpace(c.PostForm("new_name"))
	version := c.PostForm("version")
	var (
		err    error
		action string
		detail string
	)
	act := c.PostForm("action")
	if (act == "add" || act == "rename") && newName == "" {
		s.renderSections(c, http.StatusUnprocessableEntity, "Enter a section name.")
		return
	}
	if act == "rename" && newName == name {
		// Unchanged name field submitted: nothing to write or record.
		c.Redirect(http.StatusSeeOther, "/admin/sources/sections")
		return
	}
	switch act {
	case "add":
		action, detail = auditSectionAdd, ""
		name = newName
		_, err = file.Apply(version, func(d *sourcesfile.Doc) error { return d.AddSection(newName) })
	case "rename":
		action = auditSectionRename
		var moved int
		moved, err = s.renameSection(c, file, version, name, newName)
		detail = fmt.Sprintf("to %s; %d stored item(s) moved", quote(newName), moved)
	case "up", "down":
		action = auditSectionMove
		detail, err = moveSection(file, version, name, act == "up")
	case "delete":
		if s.sectionDeletable(file, name) && !s.confirmed(c, confirmStep{
			Title:       "Delete the section " + quote(name) + "?",
			Consequence: "It is removed from sources.yaml and from the briefing's order. No source uses it.",
			Button:      "Delete the section",
			Back:        "/admin/sources/sections",
		}) {
			return
		}
		action = auditSectionRemove
		_, err = file.Apply(version, func(d *sourcesfile.Doc) error { return d.DeleteSection(name) })
	default:
		s.renderSections(c, http.StatusBadRequest, "Unknown action.")
		return
	}
	if err != nil {
		s.sectionsFailed(c, err)
		return
	}
	s.audit(c, action, name, detail)
	c.Redirect(http.StatusSeeOther, doneURL("/admin/sources/sections", "sections", ""))
}

var errNoRenamer = errors.New("this store cannot re-file items under a new section name; nothing was changed")

// renameSection renames a section in the file and re-files its stored
// items in step.
func (s *Server) renameSection(c *gin.Context, file *sourcesfile.File, version, old, name string) (int, error) {
	_, moved, err := s.applySectionEdit(c.Request.Context(), file, version, old, name,
		func(d *sourcesfile.Doc) error { return d.RenameSection(old, name) })
	return moved, err
}

// applySectionEdit applies a section edit that renames section old to
// name (old "" or equal to name: no rename) and re-files the stored items
// of a renamed section in step: they move inside the write (after the new
// file validated, before it replaces the old one) and move back if the
// write fails, so the file and the store do not disagree.
func (s *Server) applySectionEdit(ctx context.Context, file *sourcesfile.File, version, old, name string, edit func(*sourcesfile.Doc) error) (*sourcesfile.Snapshot, int, error) {
	if old == "" || old == name {
		snap, err := file.Apply(version, edit)
		return snap, 0, err
	}
	rn, ok := s.store.(sectionRenamer)
	if !ok {
		return nil, 0, errNoRenamer
	}
	moved := 0
	snap, err := file.ApplyWith(version, edit, sourcesfile.Hook{
		Before: func(*config.SourcesFile) error {
			n, err := rn.RenameSection(ctx, old, name)
			moved = n
			return err
		},
		Undo: func() {
			if _, err := rn.RenameSection(ctx, name, old); err != nil {
				s.log.Error("undo section rename in store", "from", name, "to", old, "err", err)
			}
		},
	})
	if err != nil {
		return nil, moved, err
	}
	// A poll that began with the old list may have stored items under the
	// old name after the move above; with the new list in force no more
	// can arrive, so a second pass files those too.
	late, err := rn.RenameSection(ctx, old, name)
	if err != nil {
		s.log.Error("re-file items stored during a section rename", "from", old, "to", name, "err", err)
	}
	return snap, moved + late, nil
}

func moveSection(file *sourcesfile.File, version, name string, up bool) (string, error) {
	snap, err := file.Read()
	if err != nil {
		return "", err
	}
	if err := file.Editable(snap); err != nil {
		return "", err
	}
	at := -1
	if snap.Sources != nil {
		for i, sec := range snap.Sources.Sections {
			if sec == name {
				at = i
			}
		}
	}
	if at < 0 {
		return "", fmt.Errorf("section %s: %w", quote(name), sourcesfile.ErrNotFound)
	}
	to := at + 1
	if up {
		to = at - 1
	}
	_, err = file.Apply(version, func(d *sourcesfile.Doc) error { return d.MoveSection(name, to) })
	return fmt.Sprintf("to position %d", max(to, 0)+1), err
}

func (s *Server) sectionsFailed(c *gin.Context, err error) {
	status := applyStatus(err)
	msg := err.Error()
	var ce *sourcesfile.ConflictError
	var ve *config.ValidationError
	switch {
	case errors.As(err, &ce):
		msg = "sources.yaml changed since this page was loaded. Nothing was changed; the list below is the current one, try again."
	case errors.As(err, &ve):
		msg = "The change would leave sources.yaml invalid: " + ve.Error()
	case status == http.StatusInternalServerError:
		if !errors.Is(err, errNoRenamer) {
			s.fail(c, err)
			return
		}
	}
	s.renderSections(c, status, msg)
}

// sectionDeletable reports whether the section exists in sources.yaml as
// on disk and no source uses it: only then is deleting it asked about;
// otherwise the edit is refused at once with the reason.
func (s *Server) sectionDeletable(file *sourcesfile.File, name string) bool {
	snap, err := file.Read()
	if err != nil || snap.Sources == nil {
		return false
	}
	list := snap.Sources
	return slices.Contains(list.Sections, name) && sourcesPerSection(list.Sources)[name] == 0
}
