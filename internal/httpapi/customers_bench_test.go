package httpapi

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/gridd/gridd/internal/bench"
	"github.com/gridd/gridd/internal/grid"
	"github.com/gridd/gridd/internal/seal"
)

// benchService returns a service with no store (decoding, validating and encoding need
// none) and a sandbox platform supporting the default currencies.
func benchService(tb testing.TB) (*grid.Service, *grid.Platform) {
	tb.Helper()
	box, err := seal.New(seal.NewKey())
	if err != nil {
		tb.Fatal(err)
	}
	p := &grid.Platform{ID: grid.NewID("PlatformConfig"), Name: "bench", UMADomain: "bench.gridd.local", Sandbox: true}
	for _, c := range grid.DefaultCurrencies {
		p.Currencies = append(p.Currencies, grid.CurrencyConfig{Code: c})
	}
	return grid.NewService(nil, box, nil), p
}

// BenchmarkDecodeValidateCreate measures what POST /customers does before the store: strict
// decoding of the body and the service's validation and preparation of the customer.
func BenchmarkDecodeValidateCreate(b *testing.B) {
	svc, p := benchService(b)
	bodies := make([][]byte, 64)
	for i := range bodies {
		bodies[i] = bench.CreateBody(i, fmt.Sprintf("pc-%d", i))
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		var req customerRequest
		if err := decodeBytes(bodies[i%len(bodies)], &req); err != nil {
			b.Fatal(err)
		}
		if _, err := svc.PrepareCustomer(p, req.toInput()); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkEncodeCustomer measures turning a customer into its JSON answer.
func BenchmarkEncodeCustomer(b *testing.B) {
	svc, p := benchService(b)
	cs := make([]*grid.Customer, 8)
	for i := range cs {
		c, err := svc.PrepareCustomer(p, bench.Input(i, fmt.Sprintf("pc-%d", i)))
		if err != nil {
			b.Fatal(err)
		}
		cs[i] = c
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := json.Marshal(toCustomerJSON(cs[i%len(cs)])); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
