// Package bench measures gridd: it seeds a database with many valid customers through the
// bulk store path, drives a running server over loopback with a bounded load, and measures
// the two ceilings the server is compared with — a bare net/http server answering a fixed
// customer, and the store inserting customers with no HTTP in front.
package bench

import (
	"encoding/json"
	"fmt"

	"github.com/gridd/gridd/internal/grid"
)

// A region and the currencies its customers hold. The weights make filters selective in a
// known way: about a quarter of customers are in the US, a quarter are businesses.
var regions = []struct {
	code       string
	currencies []string
}{
	{"US", []string{"USD"}}, {"US", []string{"USD", "USDC"}}, {"US", []string{"USD"}},
	{"GB", []string{"GBP"}}, {"DE", []string{"EUR"}}, {"FR", []string{"EUR", "USDC"}},
	{"MX", []string{"MXN"}}, {"BR", []string{"BRL"}}, {"CA", []string{"CAD"}},
	{"IN", []string{"INR"}}, {"NG", []string{"NGN", "USDT"}}, {"PH", []string{"PHP"}},
	{"KE", []string{"KES"}},
}

var firstNames = []string{"Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Tim", "Margaret", "Dennis"}
var lastNames = []string{"Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Perlman", "Lee", "Hamilton", "Ritchie"}
var entityTypes = []string{"LLC", "CORPORATION", "PARTNERSHIP", "SOLE_PROPRIETORSHIP"}

// mix spreads consecutive numbers over the value sets so that neighbours in id order differ.
func mix(i int) int {
	x := uint64(i)*0x9E3779B97F4A7C15 + 0x632BE59BD9B4E5AD
	x ^= x >> 31
	return int(x & 0x7fffffff)
}

// createBody is the wire form of POST /customers that the benchmark sends; it mirrors the
// API's field names.
type createBody struct {
	CustomerType       string        `json:"customerType"`
	PlatformCustomerID string        `json:"platformCustomerId"`
	Region             string        `json:"region"`
	Currencies         []string      `json:"currencies"`
	Email              string        `json:"email,omitempty"`
	FullName           string        `json:"fullName,omitempty"`
	BirthDate          string        `json:"birthDate,omitempty"`
	Nationality        string        `json:"nationality,omitempty"`
	Address            *addressBody  `json:"address,omitempty"`
	BusinessInfo       *businessBody `json:"businessInfo,omitempty"`
}

type addressBody struct {
	Line1      string `json:"line1"`
	City       string `json:"city"`
	PostalCode string `json:"postalCode"`
	Country    string `json:"country"`
}

type businessBody struct {
	LegalName      string `json:"legalName"`
	Country        string `json:"country"`
	TaxID          string `json:"taxId"`
	IncorporatedOn string `json:"incorporatedOn"`
	EntityType     string `json:"entityType"`
}

// sample returns the i-th customer of the benchmark's population with the given
// platformCustomerId. One in four is a business; regions and currencies follow regions.
func sample(i int, pcid string) *createBody {
	h := mix(i)
	r := regions[h%len(regions)]
	b := &createBody{
		PlatformCustomerID: pcid, Region: r.code, Currencies: r.currencies,
		Email: fmt.Sprintf("c%d@example.com", i),
	}
	if (h>>8)%4 == 0 {
		b.CustomerType = string(grid.Business)
		b.BusinessInfo = &businessBody{
			LegalName: fmt.Sprintf("%s %s Holdings %d", firstNames[(h>>12)%len(firstNames)], lastNames[(h>>16)%len(lastNames)], i),
			Country:   r.code, TaxID: fmt.Sprintf("TX-%09d", i%1_000_000_000),
			IncorporatedOn: fmt.Sprintf("%d-%02d-%02d", 1990+(h>>20)%30, 1+(h>>4)%12, 1+(h>>10)%28),
			EntityType:     entityTypes[(h>>14)%len(entityTypes)],
		}
		return b
	}
	b.CustomerType = string(grid.Individual)
	// The sandbox derives the KYC status from the name's last three characters, so the
	// numeric suffix gives a realistic mix: mostly APPROVED, some PENDING/REJECTED/UNVERIFIED.
	b.FullName = fmt.Sprintf("%s %s %03d", firstNames[(h>>12)%len(firstNames)], lastNames[(h>>16)%len(lastNames)], (h>>3)%200)
	b.BirthDate = fmt.Sprintf("%d-%02d-%02d", 1950+(h>>20)%50, 1+(h>>4)%12, 1+(h>>10)%28)
	b.Nationality = r.code
	if (h>>6)%2 == 0 {
		b.Address = &addressBody{Line1: fmt.Sprintf("%d Main Street", 1+i%9999), City: "Springfield", PostalCode: fmt.Sprintf("%05d", 10000+i%89999), Country: r.code}
	}
	return b
}

// CreateBody returns the JSON body of POST /customers for the i-th benchmark customer.
func CreateBody(i int, pcid string) []byte {
	b, err := json.Marshal(sample(i, pcid))
	if err != nil {
		panic(err) // plain strings and slices always encode
	}
	return b
}

// Input returns the i-th benchmark customer as the service's create input.
func Input(i int, pcid string) *grid.CustomerInput {
	b := sample(i, pcid)
	in := &grid.CustomerInput{
		CustomerType: &b.CustomerType, PlatformCustomerID: &b.PlatformCustomerID,
		Region: &b.Region, Currencies: &b.Currencies, Email: &b.Email,
	}
	if b.FullName != "" {
		in.FullName, in.BirthDate, in.Nationality = &b.FullName, &b.BirthDate, &b.Nationality
	}
	if a := b.Address; a != nil {
		in.Address = &grid.AddressInput{Line1: &a.Line1, City: &a.City, PostalCode: &a.PostalCode, Country: &a.Country}
	}
	if bi := b.BusinessInfo; bi != nil {
		in.Business = &grid.BusinessInput{LegalName: &bi.LegalName, Country: &bi.Country, TaxID: &bi.TaxID,
			IncorporatedOn: &bi.IncorporatedOn, EntityType: &bi.EntityType}
	}
	return in
}
