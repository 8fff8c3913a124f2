package web

import (
	"context"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/clipsheet/clipsheet/internal/fetch"
	"github.com/clipsheet/clipsheet/internal/model"
)

// Clipper fetches and extracts one story a curator points at.
// *fetch.Fetcher implements it.
type Clipper interface {
	Clip(ctx context.Context, link, section string) (*model.Item, error)
}

// clip fetches the story at link, stores it (grouped with its story, like
// any new item) and audits it; created is false when the desk had it.
func (s *Server) clip(c *gin.Context, link, section string) (*model.Item, bool, error) {
	if s.cfg.Clipper == nil {
		return nil, false, errors.New("this server has no fetcher to clip with")
	}
	if section != "" && !s.knownSection(section) {
		return nil, false, errClipSection
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), previewTimeout)
	defer cancel()
	it, err := s.cfg.Clipper.Clip(ctx, link, section)
	if err != nil {
		return nil, false, err
	}
	stored, created, err := s.desk.AddClipped(c.Request.Context(), it)
	if err != nil {
		return nil, false, err
	}
	if created {
		s.audit(c, model.AuditItemClip, stored.ID, stored.URL)
	}
	return stored, created, nil
}

var errClipSection = errors.New("no such section")

func (s *Server) knownSection(name string) bool {
	for _, sec := range s.sections() {
		if sec == name {
			return true
		}
	}
	return false
}

// clipMessage says in a sentence why a clip failed.
func clipMessage(err error) string {
	switch {
	case errors.Is(err, fetch.ErrBadClipURL):
		return "That is not a web address: paste the story's http or https address."
	case errors.Is(err, errClipSection):
		return "That section does not exist."
	}
	return "Could not clip it: " + fetch.Explain(err)
}

// clipPage is the form a bookmarklet opens with ?url= filled in: clipping
// changes the store, so it takes a click on a CSRF-protected form.
func (s *Server) clipPage(c *gin.Context) {
	s.render(c, http.StatusOK, "clip", gin.H{"Title": "Clip a story", "URL": c.Query("url"), "Sections": s.sections()})
}

func (s *Server) clipSubmit(c *gin.Context) {
	link, section := c.PostForm("url"), c.PostForm("section")
	it, created, err := s.clip(c, link, section)
	if err != nil {
		s.render(c, http.StatusUnprocessableEntity, "clip", gin.H{"Title": "Clip a story", "URL": link, "Section": section,
			"Sections": s.sections(), "Error": clipMessage(err)})
		return
	}
	q := url.Values{"source": {it.Source}, "status": {string(it.Status)}}
	if !created {
		q.Set("had", "1")
	}
	c.Redirect(http.StatusSeeOther, "/queue?"+q.Encode()+"#item-"+it.ID)
}

// apiClip is POST /api/v1/clip {"url": …, "section": …}: 201 with the new
// item, 200 with the stored one when the desk had it.
func (s *Server) apiClip(c *gin.Context) {
	var body struct {
		URL     string `json:"url"`
		Section string `json:"section"`
	}
	if !s.bindJSON(c, &body) {
		return
	}
	it, created, err := s.clip(c, body.URL, body.Section)
	if err != nil {
		s.apiError(c, http.StatusUnprocessableEntity, "invalid", clipMessage(err))
		return
	}
	setItemETag(c, it)
	code := http.StatusOK
	if created {
		code = http.StatusCreated
	}
	c.JSON(code, it)
}

// bookmarklet is the link a curator drags to the bookmarks bar: on any
// story it opens this desk's clip form with the story's address.
func bookmarklet(base string) template.URL {
	target, _ := json.Marshal(base + "/clip?url=")
	// The address is built from the desk's own base URL, quoted as a JS
	// string: nothing of a visitor's reaches it.
	return template.URL("javascript:void(location.href=" + string(target) + "+encodeURIComponent(location.href))")
}
