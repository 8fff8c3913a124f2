package web

// The rules page and API (admin): rules tag, file, prioritise, reject or
// (for a trusted source) approve new items as they arrive; package rules
// has the semantics. Every rule is tried on the last week's items before
// it is saved, and its answer ("would have matched 43, of them 5
// approved") is shown beside the form and returned by the API.

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/clipsheet/clipsheet/internal/rules"
	"github.com/clipsheet/clipsheet/internal/store"
)

// Audit actions for rules.
const (
	auditRuleAdd    = "rule.add"
	auditRuleChange = "rule.change"
	auditRuleRemove = "rule.remove"
)

// ruleTestWindow is how far back the dry run looks.
const ruleTestWindow = 7 * 24 * time.Hour

// ruleTestMaxItems bounds the dry run's read: a week of a very busy desk
// (5,000 a day) fits with room to spare.
const ruleTestMaxItems = 50000

// ruleInput is the body of POST /rules, PUT /rules/{id} and
// POST /rule-test: a rule without its ID and version.
type ruleInput struct {
	Name    string        `json:"name"`
	Scope   string        `json:"scope"`
	Fields  []string      `json:"fields"`
	Kind    string        `json:"kind"`
	Include string        `json:"include"`
	Exclude string        `json:"exclude"`
	Actions rules.Actions `json:"actions"`
	Enabled *bool         `json:"enabled"`
}

func (in ruleInput) rule() rules.Rule {
	r := rules.Rule{Name: in.Name, Scope: in.Scope, Fields: in.Fields, Kind: in.Kind,
		Include: in.Include, Exclude: in.Exclude, Actions: in.Actions, Enabled: in.Enabled == nil || *in.Enabled}
	r.Normalize()
	return r
}

// ruleTestJSON is the dry run's answer.
type ruleTestJSON struct {
	rules.Summary
	Since time.Time `json:"since"`
}

func setRuleETag(c *gin.Context, r *rules.Rule) {
	c.Header("ETag", `"`+strconv.FormatInt(r.Version, 10)+`"`)
}

// apiRuleInvalid answers 422 with every problem and the field it is in.
func (s *Server) apiRuleInvalid(c *gin.Context, err error) {
	var ve rules.ValidationError
	if !errors.As(err, &ve) {
		s.apiError(c, http.StatusUnprocessableEntity, "invalid", err.Error())
		return
	}
	fields := make([]gin.H, len(ve))
	for i, fe := range ve {
		fields[i] = gin.H{"field": fe.Field, "message": fe.Msg}
	}
	c.AbortWithStatusJSON(http.StatusUnprocessableEntity, gin.H{"error": gin.H{
		"code": "invalid", "message": ve.Error(), "fields": fields}})
}

func (s *Server) apiRuleFailed(c *gin.Context, err error) {
	var stale *store.RuleStaleError
	if errors.As(err, &stale) {
		setRuleETag(c, stale.Current)
		s.apiError(c, http.StatusPreconditionFailed, "stale", stale.Error()+"; GET it and retry")
		return
	}
	s.apiFail(c, err)
}

func (s *Server) apiListRules(c *gin.Context) {
	rs, err := s.store.ListRules(c.Request.Context())
	if err != nil {
		s.apiFail(c, err)
		return
	}
	if rs == nil {
		rs = []rules.Rule{}
	}
	c.JSON(http.StatusOK, gin.H{"rules": rs})
}

func (s *Server) apiGetRule(c *gin.Context) {
	r, err := s.store.GetRule(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.apiFail(c, err)
		return
	}
	setRuleETag(c, r)
	c.JSON(http.StatusOK, r)
}

func (s *Server) apiCreateRule(c *gin.Context) {
	var in ruleInput
	if !s.bindJSON(c, &in) {
		return
	}
	r := in.rule()
	if err := r.Validate(); err != nil {
		s.apiRuleInvalid(c, err)
		return
	}
	saved, err := s.store.PutRule(c.Request.Context(), r, 0)
	if err != nil {
		s.apiFail(c, err)
		return
	}
	s.audit(c, auditRuleAdd, saved.ID, saved.Name)
	setRuleETag(c, saved)
	c.Header("Location", "/api/v1/rules/"+saved.ID)
	c.JSON(http.StatusCreated, saved)
}

func (s *Server) apiUpdateRule(c *gin.Context) {
	want, err := itemIfMatch(c)
	if err != nil {
		s.apiError(c, http.StatusBadRequest, "bad_request", strings.Replace(err.Error(), "item's", "rule's", 1))
		return
	}
	var in ruleInput
	if !s.bindJSON(c, &in) {
		return
	}
	r := in.rule()
	if err := r.Validate(); err != nil {
		s.apiRuleInvalid(c, err)
		return
	}
	r.ID = c.Param("id")
	saved, err := s.store.PutRule(c.Request.Context(), r, want)
	if err != nil {
		s.apiRuleFailed(c, err)
		return
	}
	s.audit(c, auditRuleChange, saved.ID, saved.Name)
	setRuleETag(c, saved)
	c.JSON(http.StatusOK, saved)
}

func (s *Server) apiDeleteRule(c *gin.Context) {
	want, err := itemIfMatch(c)
	if err != nil {
		s.apiError(c, http.StatusBadRequest, "bad_request", strings.Replace(err.Error(), "item's", "rule's", 1))
		return
	}
	ctx := c.Request.Context()
	r, err := s.store.GetRule(ctx, c.Param("id"))
	if err != nil {
		s.apiFail(c, err)
		return
	}
	if err := s.store.DeleteRule(ctx, r.ID, want); err != nil {
		s.apiRuleFailed(c, err)
		return
	}
	s.audit(c, auditRuleRemove, r.ID, r.Name)
	c.Status(http.StatusNoContent)
}

func (s *Server) apiTestRule(c *gin.Context) {
	var in ruleInput
	if !s.bindJSON(c, &in) {
		return
	}
	r := in.rule()
	if err := r.Validate(); err != nil {
		s.apiRuleInvalid(c, err)
		return
	}
	sum, since, err := s.testRule(c, r)
	if err != nil {
		s.apiFail(c, err)
		return
	}
	c.JSON(http.StatusOK, ruleTestJSON{Summary: sum, Since: since})
}

// testRule runs r over the last week's items.
func (s *Server) testRule(c *gin.Context, r rules.Rule) (rules.Summary, time.Time, error) {
	since := s.cfg.Now().Add(-ruleTestWindow).UTC()
	items, err := s.store.ListItems(c.Request.Context(), store.ItemFilter{Since: since, Limit: ruleTestMaxItems})
	if err != nil {
		return rules.Summary{}, since, fmt.Errorf("rule test: %w", err)
	}
	sum, err := rules.Test([]rules.Rule{r}, items)
	return sum, since, err
}

// ---- Admin pages ----

// ruleForm is what the form shows: the rule as typed, its problems by
// field, and the dry run's answer.
type ruleForm struct {
	rules.Rule
	Tags     string
	Priority string
	Problems map[string]string
	Tested   *rules.Summary
}

func (f ruleForm) HasField(name string) bool { return slices.Contains(f.Fields, name) }

func (s *Server) rulesPage(c *gin.Context) {
	rs, err := s.store.ListRules(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	done := ""
	switch c.Query("done") {
	case "saved":
		done = "Rule saved; it applies to items fetched from now on."
	case "removed":
		done = "Rule removed."
	}
	s.render(c, http.StatusOK, "admin_rules", gin.H{"Title": "Rules", "Rules": rs, "Done": done})
}

func (s *Server) ruleNewPage(c *gin.Context) {
	r := rules.Rule{Enabled: true}
	r.Normalize()
	s.renderRuleForm(c, http.StatusOK, ruleForm{Rule: r})
}

func (s *Server) ruleEditPage(c *gin.Context) {
	r, err := s.store.GetRule(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.pageFail(c, err)
		return
	}
	s.renderRuleForm(c, http.StatusOK, formOf(*r))
}

func formOf(r rules.Rule) ruleForm {
	f := ruleForm{Rule: r, Tags: strings.Join(r.Actions.Tags, ", ")}
	if r.Actions.Priority != nil {
		f.Priority = strconv.Itoa(*r.Actions.Priority)
	}
	return f
}

func (s *Server) renderRuleForm(c *gin.Context, status int, f ruleForm) {
	src := s.cfg.Sources()
	var sources []string
	for _, so := range src.Sources {
		sources = append(sources, so.Name)
	}
	title := "New rule"
	if f.ID != "" {
		title = "Rule " + f.Name
	}
	s.render(c, status, "admin_rule_form", gin.H{"Title": title, "Form": f, "Sources": sources, "Sections": src.Sections,
		"AllFields": []string{rules.FieldHeadline, rules.FieldLead, rules.FieldByline, rules.FieldURL}})
}

// ruleFromForm reads the posted form; a priority that is not a number is
// a problem of its own, reported with the rule's.
func ruleFromForm(c *gin.Context) (ruleForm, map[string]string) {
	in := ruleInput{Name: c.PostForm("name"), Scope: c.PostForm("scope"), Fields: c.PostFormArray("fields"),
		Kind: c.PostForm("kind"), Include: c.PostForm("include"), Exclude: c.PostForm("exclude")}
	enabled := c.PostForm("enabled") == "on"
	in.Enabled = &enabled
	in.Actions.Tags = strings.Split(c.PostForm("tags"), ",")
	in.Actions.Section = c.PostForm("section")
	in.Actions.Status = c.PostForm("status")
	problems := map[string]string{}
	prio := strings.TrimSpace(c.PostForm("priority"))
	if prio != "" {
		n, err := strconv.Atoi(prio)
		if err != nil {
			problems["priority"] = "not a whole number: " + quote(prio)
		} else {
			in.Actions.Priority = &n
		}
	}
	r := in.rule()
	if len(c.PostFormArray("fields")) == 0 {
		r.Fields = nil // the form shows no box ticked as the choice it was
	}
	f := formOf(r)
	f.Priority = prio
	if err := r.Validate(); err != nil {
		var ve rules.ValidationError
		if errors.As(err, &ve) {
			for _, fe := range ve {
				if _, ok := problems[fe.Field]; !ok {
					problems[fe.Field] = fe.Msg
				}
			}
		}
	}
	if len(problems) == 0 {
		problems = nil
	}
	return f, problems
}

// rulePost saves the form (new rule or edit of :id), or with
// action=test only tries it on the last week's items and shows the form
// again with the counts.
func (s *Server) rulePost(c *gin.Context) {
	f, problems := ruleFromForm(c)
	f.ID = c.Param("id")
	f.Version, _ = strconv.ParseInt(c.PostForm("version"), 10, 64)
	f.Problems = problems
	if problems != nil {
		s.renderRuleForm(c, http.StatusUnprocessableEntity, f)
		return
	}
	if c.PostForm("action") == "test" {
		sum, _, err := s.testRule(c, f.Rule)
		if err != nil {
			s.fail(c, err)
			return
		}
		f.Tested = &sum
		s.renderRuleForm(c, http.StatusOK, f)
		return
	}
	saved, err := s.store.PutRule(c.Request.Context(), f.Rule, f.Version)
	var stale *store.RuleStaleError
	switch {
	case errors.As(err, &stale):
		f.Version = stale.Current.Version
		f.Problems = map[string]string{"form": "Someone changed this rule since you opened it; saving again replaces their version with yours."}
		s.renderRuleForm(c, http.StatusConflict, f)
		return
	case err != nil:
		s.pageFail(c, err)
		return
	}
	action := auditRuleAdd
	if f.ID != "" {
		action = auditRuleChange
	}
	s.audit(c, action, saved.ID, saved.Name)
	c.Redirect(http.StatusSeeOther, "/admin/rules?done=saved")
}

func (s *Server) ruleDelete(c *gin.Context) {
	ctx := c.Request.Context()
	r, err := s.store.GetRule(ctx, c.Param("id"))
	if err != nil {
		s.pageFail(c, err)
		return
	}
	if !s.confirmed(c, confirmStep{
		Title:       "Remove the rule " + quote(r.Name) + "?",
		Consequence: "Items fetched from now on are no longer tagged, filed or decided by it. Items it already acted on stay as they are.",
		Button:      "Remove the rule",
		Back:        "/admin/rules",
	}) {
		return
	}
	if err := s.store.DeleteRule(ctx, r.ID, 0); err != nil {
		s.pageFail(c, err)
		return
	}
	s.audit(c, auditRuleRemove, r.ID, r.Name)
	c.Redirect(http.StatusSeeOther, "/admin/rules?done=removed")
}
