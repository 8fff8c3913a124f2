package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/clipsheet/clipsheet/internal/config"
	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/sourcesfile"
)

// sourcesOPML exports the feed sources for other readers.
func (s *Server) sourcesOPML(c *gin.Context) {
	_, snap, ok := s.readSourcesFile(c)
	if !ok {
		return
	}
	out, err := sourcesfile.ExportOPML(s.snapshotList(snap), s.cfg.Settings.Briefing.Title+" sources", s.cfg.Now())
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="clipsheet-sources.opml"`)
	c.Data(http.StatusOK, "text/x-opml; charset=utf-8", out)
}

// importView is the import page: the upload form, then the plan.
type importView struct {
	Rows    []sourcesfile.ImportRow
	New     int
	Version string
	Problem string
}

func (s *Server) renderImport(c *gin.Context, status int, v *importView, list *config.SourcesFile) {
	s.render(c, status, "opml_import", gin.H{"Title": "Import OPML", "Import": v, "Sections": list.Sections})
}

func (s *Server) importPage(c *gin.Context) {
	if s.sourcesFile(c) == nil {
		return
	}
	s.renderImport(c, http.StatusOK, &importView{}, s.cfg.Sources())
}

// importPreviewPost reads an uploaded OPML file and shows what importing
// it would do; nothing is written yet.
func (s *Server) importPreviewPost(c *gin.Context) {
	_, snap, ok := s.readSourcesFile(c)
	if !ok {
		return
	}
	list := s.snapshotList(snap)
	fh, err := c.FormFile("opml")
	if err != nil {
		s.renderImport(c, http.StatusBadRequest, &importView{Problem: "Choose an OPML file to upload."}, list)
		return
	}
	f, err := fh.Open()
	if err != nil {
		s.fail(c, fmt.Errorf("open upload: %w", err))
		return
	}
	defer f.Close()
	feeds, err := sourcesfile.ParseOPML(f)
	if err != nil {
		s.renderImport(c, http.StatusUnprocessableEntity, &importView{Problem: err.Error()}, list)
		return
	}
	s.renderImport(c, http.StatusOK, planView(list, feeds, snap.Hash), list)
}

func planView(list *config.SourcesFile, feeds []sourcesfile.OPMLFeed, version string) *importView {
	v := &importView{Rows: sourcesfile.PlanImport(list, feeds), Version: version}
	for _, r := range v.Rows {
		if r.Status == sourcesfile.ImportNew {
			v.New++
		}
	}
	return v
}

// importConfirmPost adds the rows the admin kept ticked, with the names
// and sections as edited on the preview. The plan is made again against
// the file as it is now, so a duplicate added meanwhile is not added twice,
// and the write is refused if the file changed since the preview.
func (s *Server) importConfirmPost(c *gin.Context) {
	file, snap, ok := s.readSourcesFile(c)
	if !ok {
		return
	}
	list := s.snapshotList(snap)
	urls, names, sections := c.PostFormArray("url"), c.PostFormArray("name"), c.PostFormArray("section")
	var feeds []sourcesfile.OPMLFeed
	for _, p := range c.PostFormArray("pick") {
		i, err := strconv.Atoi(p)
		if err != nil || i < 0 || i >= len(urls) || i >= len(names) || i >= len(sections) {
			continue
		}
		feeds = append(feeds, sourcesfile.OPMLFeed{Title: names[i], XMLURL: urls[i], Section: sections[i]})
	}
	if len(feeds) == 0 {
		s.renderImport(c, http.StatusUnprocessableEntity, &importView{Problem: "No feed was ticked; nothing imported."}, list)
		return
	}
	v := planView(list, feeds, snap.Hash)
	if version := c.PostForm("version"); version != snap.Hash {
		v.Problem = "sources.yaml changed since the preview. Review the list again (duplicates are re-checked) and confirm."
		s.renderImport(c, http.StatusConflict, v, list)
		return
	}
	if v.New == 0 {
		v.Problem = "Nothing new to import: every ticked feed is already a source or unusable."
		s.renderImport(c, http.StatusUnprocessableEntity, v, list)
		return
	}
	_, err := file.Apply(snap.Hash, func(d *sourcesfile.Doc) error { return d.AddImported(v.Rows) })
	var ce *sourcesfile.ConflictError
	var ve *config.ValidationError
	switch {
	case errors.As(err, &ce):
		v.Problem = "sources.yaml changed since the preview. Review the list again (duplicates are re-checked) and confirm."
		s.renderImport(c, http.StatusConflict, v, list)
		return
	case errors.As(err, &ve):
		v.Problem = "Importing would leave sources.yaml invalid: " + ve.Error()
		s.renderImport(c, http.StatusUnprocessableEntity, v, list)
		return
	case applyStatus(err) == http.StatusConflict:
		v.Problem = err.Error()
		s.renderImport(c, http.StatusConflict, v, list)
		return
	case err != nil:
		s.fail(c, err)
		return
	}
	// One entry per source, as if added by hand, so the log can be
	// searched by source name; and one for the import as a whole.
	for _, r := range v.Rows {
		if r.Status == sourcesfile.ImportNew {
			s.audit(c, model.AuditSourceAdd, r.Source.Name, "imported from OPML: "+r.Source.URL)
		}
	}
	s.audit(c, auditSourceImport, "", fmt.Sprintf("%d source(s) from OPML", v.New))
	c.Redirect(http.StatusSeeOther, doneURL("/admin/sources", "imported", strconv.Itoa(v.New)))
}
