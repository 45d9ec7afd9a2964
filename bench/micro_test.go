package bench

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

func parseFile(t *testing.T, name string) []Micro {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ms, err := ParseGoBench(f)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// gobench-header.txt is real output of
// go test -run '^$' -bench 'DecrementTTL|Checksum' -benchmem -count=3 ./header/
func TestParseGoBenchHeader(t *testing.T) {
	ms := parseFile(t, "gobench-header.txt")
	var names []string
	for _, m := range ms {
		names = append(names, m.Name)
	}
	want := []string{"header Checksum/64", "header Checksum/128", "header Checksum/512", "header Checksum/1500",
		"header Checksum/9000", "header Checksum/65536", "header ChecksumReference", "header DecrementTTL",
		"header DecrementTTLRecompute"}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("names = %q, want %q", names, want)
	}
	got := ms[7]
	if wantM := (Micro{Name: "header DecrementTTL", NsPerOp: []float64{4.326, 4.249, 4.452}, Unit: "op"}); !reflect.DeepEqual(got, wantM) {
		t.Errorf("DecrementTTL = %+v, want %+v", got, wantM)
	}
	if got := ms[0].NsPerOp; !reflect.DeepEqual(got, []float64{9.520, 9.164, 10.09}) {
		t.Errorf("Checksum/64 samples = %v (MB/s must not be taken for time)", got)
	}
}

// gobench-ipv4.txt is real output of
// go test -run '^$' -bench Forward -benchtime=2000x -benchmem -count=2 ./ipv4/
// whose benchmarks report ns/packet beside ns/op.
func TestParseGoBenchCustomUnit(t *testing.T) {
	ms := parseFile(t, "gobench-ipv4.txt")
	want := []Micro{
		{Name: "ipv4 Forward/1route", NsPerOp: []float64{154.5, 98.92}, Unit: "packet", BytesPerOp: 1},
		{Name: "ipv4 Forward/1Mroutes", NsPerOp: []float64{132.4, 74.80}, Unit: "packet", BytesPerOp: 1},
	}
	if !reflect.DeepEqual(ms, want) {
		t.Errorf("got %+v\nwant %+v", ms, want)
	}
}

func TestParseGoBenchEdgeCases(t *testing.T) {
	in := `goos: linux
pkg: example.com/m/stack
BenchmarkLookup/batch-2   	 1000	  3400 ns/op	  52.5 ns/lookup	 12.0 %matched	 0 B/op	 0 allocs/op
BenchmarkLookup/batch-2   	 1000	  3300 ns/op	  49.5 ns/lookup	 12.0 %matched	 0 B/op	 2 allocs/op
BenchmarkSeg/size-1500-2
some log line the benchmark printed
    2000	   900 ns/op	  19.5 ns/segment
BenchmarkBroken-2   	--- FAIL: BenchmarkBroken-2
BenchmarkNoUnit-2	  500	  10
pkg: example.com/m/ipv4
BenchmarkLookup/batch-2   	 1000	  7 ns/op
BenchmarkBoth-2   	 10	  100 ns/op	 3 ns/lookup	 7 ns/packet
BenchmarkTwo-2   	 10	  100 ns/op	 4 ns/packet	 6 ns/packet-total	 0 B/op	 1 allocs/op
PASS
`
	ms, err := ParseGoBench(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Micro{
		{Name: "stack Lookup/batch", NsPerOp: []float64{52.5, 49.5}, Unit: "lookup", AllocsPerOp: 2},
		{Name: "stack Seg/size-1500", NsPerOp: []float64{19.5}, Unit: "segment"},
		{Name: "ipv4 Lookup/batch", NsPerOp: []float64{7}, Unit: "op"},
		{Name: "ipv4 Both", NsPerOp: []float64{7}, Unit: "packet"},
		{Name: "ipv4 Two", NsPerOp: []float64{4}, Unit: "packet", AllocsPerOp: 1},
		{Name: "ipv4 Two [total]", NsPerOp: []float64{6}, Unit: "packet", AllocsPerOp: 1},
	}
	if !reflect.DeepEqual(ms, want) {
		t.Errorf("got  %+v\nwant %+v", ms, want)
	}
	// GOMAXPROCS=1: no suffix, so "-1500" is part of the name; -cpu=1,2:
	// the suffix tells the figures apart.
	ms, err = ParseGoBench(strings.NewReader("BenchmarkSeg/size-1500 10 5 ns/op\nBenchmarkA 10 6 ns/op\n" +
		"BenchmarkB 10 7 ns/op\nBenchmarkB-2 10 4 ns/op\n"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range ms {
		names = append(names, m.Name)
	}
	if want := []string{"Seg/size-1500", "A", "B", "B-2"}; !reflect.DeepEqual(names, want) {
		t.Errorf("names = %q, want %q", names, want)
	}
	if ms, err := ParseGoBench(strings.NewReader("")); err != nil || len(ms) != 0 {
		t.Errorf("empty input: %v, %v", ms, err)
	}
}
