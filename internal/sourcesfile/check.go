package sourcesfile

import (
	"fmt"
	"strings"

	"github.com/clipsheet/clipsheet/internal/config"
)

// CheckSource checks one source the way saving it will: the per-field rules
// of config.CheckSource plus the duplicate name and URL checks of
// `clipsheet sources validate`, against the list the source joins. oldName
// is the source's current name when it is being edited, "" for a new one.
// Problems carry the field so forms can show them beside the input.
func CheckSource(list *config.SourcesFile, oldName string, src config.Source) []config.Problem {
	var sections map[string]bool
	if list != nil {
		sections = make(map[string]bool, len(list.Sections))
		for _, s := range list.Sections {
			sections[s] = true
		}
	}
	ps := config.CheckSource(src, sections)
	if list == nil {
		return ps
	}
	url := config.NormalizeSourceURL(src.URL)
	for _, other := range list.Sources {
		if oldName != "" && sameName(other.Name, oldName) {
			continue
		}
		if src.Name != "" && sameName(other.Name, src.Name) {
			ps = append(ps, config.Problem{Field: "name", Message: fmt.Sprintf("a source named %q exists already", other.Name)})
		}
		if src.URL != "" && config.NormalizeSourceURL(other.URL) == url {
			ps = append(ps, config.Problem{Field: "url", Message: fmt.Sprintf("this URL is already polled as %q", other.Name)})
		}
	}
	return ps
}

// ProblemsByField groups problems for a form; problems without a field go
// under "".
func ProblemsByField(ps []config.Problem) map[string][]string {
	out := map[string][]string{}
	for _, p := range ps {
		out[p.Field] = append(out[p.Field], p.Message)
	}
	return out
}

// CleanSource trims what people paste into forms and drops empty list
// entries, so "  https://x/feed " and a trailing empty pattern line do not
// end up in the file.
func CleanSource(s config.Source) config.Source {
	s.Name = strings.TrimSpace(s.Name)
	s.URL = strings.TrimSpace(s.URL)
	s.Type = strings.TrimSpace(s.Type)
	s.Section = strings.TrimSpace(s.Section)
	s.Links = strings.TrimSpace(s.Links)
	s.Include = cleanList(s.Include)
	s.Exclude = cleanList(s.Exclude)
	if x := s.Extract; x != nil {
		c := config.Selectors{
			Title: strings.TrimSpace(x.Title), Byline: strings.TrimSpace(x.Byline), Body: strings.TrimSpace(x.Body),
			Lead: strings.TrimSpace(x.Lead), Published: strings.TrimSpace(x.Published), Remove: cleanList(x.Remove),
		}
		s.Extract = &c
		if isEmptySelectors(c) {
			s.Extract = nil
		}
	}
	return s
}

func cleanList(vs []string) []string {
	var out []string
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
