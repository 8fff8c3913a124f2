package sourcesfile

import (
	"errors"
	"fmt"
	"strings"

	"github.com/clipsheet/clipsheet/internal/config"
)

// InvalidFileError is returned for an edit while the file on disk cannot
// be edited at all (a YAML syntax error, usually from a hand edit): the
// person has to fix the file first. The list in force stays the last good
// one meanwhile.
type InvalidFileError struct {
	Path    string
	Line    int // 0 when unknown
	Problem string
}

func (e *InvalidFileError) Error() string {
	where := e.Path
	if e.Line > 0 {
		where = fmt.Sprintf("%s, line %d", e.Path, e.Line)
	}
	return fmt.Sprintf("%s: %s. Fix the file by hand first; nothing was changed (the service keeps using the last valid version)", where, e.Problem)
}

// Editable reports whether the snapshot can be edited through File, and if
// not, an *InvalidFileError naming the file, the line and the problem.
func (f *File) Editable(s *Snapshot) error {
	_, err := f.parse(s)
	return err
}

// parse reads a snapshot into a Doc for editing.
func (f *File) parse(s *Snapshot) (*Doc, error) {
	doc, err := Parse(s.Data)
	if err == nil {
		return doc, nil
	}
	e := &InvalidFileError{Path: f.path, Problem: strings.TrimPrefix(err.Error(), "parse sources file: ")}
	// config's reading of a syntax error has the exact line (yaml.v3's
	// can be a few lines early) and the same wording as `sources validate`.
	var ve *config.ValidationError
	if errors.As(s.Err, &ve) && len(ve.Problems) > 0 && strings.HasPrefix(ve.Problems[0].Message, "invalid YAML") {
		e.Line, e.Problem = ve.Problems[0].Line, ve.Problems[0].Message
	}
	return nil, e
}
