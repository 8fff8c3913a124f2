package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/clipsheet/clipsheet/internal/curate"
	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/store"
)

// editionJSON is an edition for API clients: its stories in order, each
// with the address of its page.
type editionJSON struct {
	ID          string             `json:"id"`
	URL         string             `json:"url"`
	Title       string             `json:"title"`
	Date        string             `json:"date"`
	Slot        string             `json:"slot"`
	PublishedAt time.Time          `json:"published_at"`
	PublishedBy string             `json:"published_by"`
	UpdatedAt   time.Time          `json:"updated_at"`
	Lead        string             `json:"lead,omitempty"`
	Items       []editionItemJSON  `json:"items"`
	Corrections []model.Correction `json:"corrections"`
}

type editionItemJSON struct {
	model.EditionItem
	Page string `json:"page"`
}

func (s *Server) toEditionJSON(e *model.Edition) editionJSON {
	base := s.feedBase()
	out := editionJSON{ID: e.ID, URL: base + "/editions/" + url.PathEscape(e.ID), Title: s.editionTitle(e), Date: e.Date, Slot: e.Slot,
		PublishedAt: e.PublishedAt.UTC(), PublishedBy: e.PublishedBy, UpdatedAt: e.UpdatedAt.UTC(), Lead: e.Lead,
		Items: []editionItemJSON{}, Corrections: []model.Correction{}}
	for _, it := range e.Items {
		out.Items = append(out.Items, editionItemJSON{EditionItem: it, Page: base + "/items/" + url.PathEscape(it.ID)})
	}
	out.Corrections = append(out.Corrections, e.Corrections...)
	return out
}

// API limits on listing editions, as docs/openapi.yaml states them.
const (
	apiEditionsDefault = 20
	apiEditionsMax     = 100
)

func (s *Server) apiEditions(c *gin.Context) {
	limit, offset := apiEditionsDefault, 0
	for _, p := range []struct {
		name     string
		dst      *int
		min, max int
	}{{"limit", &limit, 1, apiEditionsMax}, {"offset", &offset, 0, apiMaxOffset}} {
		if v := c.Query(p.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < p.min || n > p.max {
				s.apiError(c, http.StatusBadRequest, "bad_request", fmt.Sprintf("%s: want a whole number from %d to %d", p.name, p.min, p.max))
				return
			}
			*p.dst = n
		}
	}
	eds, err := s.store.ListEditions(c.Request.Context(), limit, offset)
	if err != nil {
		s.apiFail(c, err)
		return
	}
	out := make([]editionJSON, 0, len(eds))
	for _, e := range eds {
		out = append(out, s.toEditionJSON(e))
	}
	c.JSON(http.StatusOK, gin.H{"editions": out})
}

func (s *Server) apiEdition(c *gin.Context) {
	e, err := s.store.GetEdition(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.apiFail(c, err)
		return
	}
	c.JSON(http.StatusOK, s.toEditionJSON(e))
}

// apiPublish publishes the next edition now.
func (s *Server) apiPublish(c *gin.Context) {
	e, err := s.publish(c)
	switch {
	case errors.Is(err, curate.ErrNothingToPublish):
		s.apiError(c, http.StatusConflict, "nothing_to_publish", "no approved story is waiting for the next edition")
		return
	case errors.Is(err, store.ErrEditionRace):
		s.apiError(c, http.StatusConflict, "edition_race", "another edition was published meanwhile; try again")
		return
	case err != nil:
		s.apiFail(c, err)
		return
	}
	c.Header("Location", "/api/v1/editions/"+url.PathEscape(e.ID))
	c.JSON(http.StatusCreated, s.toEditionJSON(e))
}
