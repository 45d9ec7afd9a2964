package bench

import (
	"errors"
	"io"
)

// Stubs with the signatures the report helper implements (report.go,
// chart.go, compare.go, micro.go); they let bench/netbench compile meanwhile.

// WriteMarkdown writes the run as the Markdown section appended to RESULTS.md.
func WriteMarkdown(w io.Writer, r *Run) error { return errors.New("not yet") }

// AppendResults inserts a Markdown section into RESULTS.md at path.
func AppendResults(path string, section []byte) error { return errors.New("not yet") }

// WriteCharts writes base+"-mpps.svg/.png" and base+"-latency.svg/.png".
func WriteCharts(r *Run, base string) (files []string, err error) { return nil, errors.New("not yet") }

// Compare prints what changed between two runs.
func Compare(w io.Writer, old, new *Run) error { return errors.New("not yet") }

// ParseGoBench reads `go test -bench -benchmem` output.
func ParseGoBench(r io.Reader) ([]Micro, error) { return nil, errors.New("not yet") }
