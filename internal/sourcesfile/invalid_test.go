package sourcesfile

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestApplyOnBrokenFileNamesFileLineAndProblem: while a hand edit left a
// YAML syntax error in the file, an edit is refused with an error naming
// the file, the line and the problem, and the file is left as it is.
func TestApplyOnBrokenFileNamesFileLineAndProblem(t *testing.T) {
	f, _, path := setup(t)
	good, _ := os.ReadFile(path)
	lines := strings.Split(string(good), "\n")
	// Line 4 gets an unclosed flow sequence.
	lines[3] = "broken: [unclosed"
	broken := strings.Join(lines, "\n")
	cases := map[string]struct {
		data     string
		line     int
		contains string
	}{
		"syntax error":  {broken, 4, "invalid YAML"},
		"tab indent":    {"sections: [A]\nsources:\n\t- name: x\n", 3, "invalid YAML"},
		"not a mapping": {"- just\n- a list\n", 0, "top level must be a mapping"},
	}
	for name, c := range cases {
		if err := os.WriteFile(path, []byte(c.data), 0o640); err != nil {
			t.Fatal(err)
		}
		snap, err := f.Read()
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.Apply(snap.Hash, addSource("The Record", "https://therecord.media/feed"))
		var ie *InvalidFileError
		if !errors.As(err, &ie) {
			t.Fatalf("%s: want InvalidFileError, got %T %v", name, err, err)
		}
		if ie.Path != path || (c.line > 0 && ie.Line != c.line) || !strings.Contains(ie.Problem, c.contains) {
			t.Errorf("%s: %+v", name, ie)
		}
		msg := err.Error()
		t.Logf("%s: %s", name, msg)
		if !strings.Contains(msg, path) || !strings.Contains(msg, c.contains) || (c.line > 0 && !strings.Contains(msg, "line "+strconv.Itoa(c.line)+":")) {
			t.Errorf("%s: message %q", name, msg)
		}
		if err := f.Editable(snap); !errors.As(err, &ie) {
			t.Errorf("%s: Editable = %v", name, err)
		}
		if disk, _ := os.ReadFile(path); string(disk) != c.data {
			t.Errorf("%s: file changed", name)
		}
	}
}
