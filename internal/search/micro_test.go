package search

import "testing"

func BenchmarkTokenizeDoc(b *testing.B) {
	d := benchDoc(newDocGen(5), 5)
	tk := newTokenizer()
	b.ReportAllocs()
	for range b.N {
		tk.docTerms(d)
	}
}
