package web

import (
	"reflect"
	"testing"

	"github.com/clipsheet/clipsheet/internal/curate"
)

// TestAnchorIDs: section anchors are valid HTML ids (no spaces), readable,
// and unique on the page even when names slug alike.
func TestAnchorIDs(t *testing.T) {
	for _, c := range []struct {
		names []string
		want  map[string]string
	}{
		{[]string{"Top stories", "Terrorism & security"}, map[string]string{"Top stories": "s-top-stories", "Terrorism & security": "s-terrorism-security"}},
		{[]string{"Cyber", "cyber!", " CYBER "}, map[string]string{"Cyber": "s-cyber", "cyber!": "s-cyber-2", " CYBER ": "s-cyber-3"}},
		{[]string{"&&", "Météo / Wetter", "COVID-19"}, map[string]string{"&&": "s-section", "Météo / Wetter": "s-météo-wetter", "COVID-19": "s-covid-19"}},
		// A name that looks like another's numbered slug still gets its own id.
		{[]string{"a", "a 2", "A"}, map[string]string{"a": "s-a", "a 2": "s-a-2", "A": "s-a-3"}},
	} {
		var secs []curate.Section
		for _, n := range c.names {
			secs = append(secs, curate.Section{Name: n})
		}
		if got := anchorIDs(secs); !reflect.DeepEqual(got, c.want) {
			t.Errorf("anchorIDs(%q) = %v, want %v", c.names, got, c.want)
		}
	}
}
