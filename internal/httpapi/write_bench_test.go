package httpapi

import (
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/gridd/gridd/internal/bench"
	"github.com/gridd/gridd/internal/grid"
)

// discardWriter is a ResponseWriter that keeps its headers and drops the body, as a
// connection's buffer would take it.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) WriteHeader(int)             {}
func (d *discardWriter) Write(b []byte) (int, error) { return io.Discard.Write(b) }

// BenchmarkWriteCustomer measures writing a customer answer: the wire form, its JSON and the
// headers, as GET /customers/{customerId} does after the read.
func BenchmarkWriteCustomer(b *testing.B) {
	svc, p := benchService(b)
	cs := make([]*grid.Customer, 8)
	for i := range cs {
		c, err := svc.PrepareCustomer(p, bench.Input(i, fmt.Sprintf("pc-%d", i)))
		if err != nil {
			b.Fatal(err)
		}
		cs[i] = c
	}
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		writeJSON(w, http.StatusOK, toCustomerJSON(cs[i%len(cs)]))
		i++
	}
}
