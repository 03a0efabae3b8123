// Package storetest is the contract suite every grid.Store implementation must pass. A
// backend's tests call Run with a function that opens a fresh, empty, migrated store.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/gridd/gridd/internal/grid"
)

// Run runs the contract suite. open must return a fresh, empty, migrated store on every call
// and register with t.Cleanup whatever closes and removes it.
func Run(t *testing.T, open func(t *testing.T) grid.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, st grid.Store)
	}{
		{"Platforms", testPlatforms},
		{"Tokens", testTokens},
		{"TokenList", testTokenList},
		{"CustomerRoundTrip", testCustomerRoundTrip},
		{"CustomerDuplicates", testCustomerDuplicates},
		{"CustomerUpdate", testCustomerUpdate},
		{"CustomerFilters", testCustomerFilters},
		{"CustomerPaging", testCustomerPaging},
		{"Rollback", testRollback},
		{"ReadYourWrites", testReadYourWrites},
		{"StatusChanges", testStatusChanges},
		{"Meta", testMeta},
		{"IdempotencyKeys", testIdempotencyKeys},
		{"ConcurrentIdempotencyClaim", testConcurrentIdempotencyClaim},
		{"ConcurrentDuplicateInsert", testConcurrentDuplicateInsert},
		{"ReadModifyWrite", testReadModifyWrite},
		{"Webhooks", Webhooks},
		{"BulkJobs", BulkJobs},
		{"ContactCodes", ContactCodes},
		{"Verification", Verification},
		{"KycLinks", KycLinks},
		{"HotPaths", HotPaths},
		{"CustomerCounts", CustomerCounts},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

// ---- helpers ----

// cmpOpts compare times as instants that must also be in UTC, and skip the unexported
// bookkeeping of grid.Customer that a store does not keep.
var cmpOpts = []cmp.Option{
	cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) && a.Location() == b.Location() }),
	cmpopts.IgnoreUnexported(grid.Customer{}),
}

func checkEqual(t testing.TB, what string, want, got any) {
	t.Helper()
	if d := cmp.Diff(want, got, cmpOpts...); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, d)
	}
}

// now is the current time as every store keeps it: UTC, microseconds.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// withTx runs fn in a transaction, running it again while the store asks for a retry.
func withTx(ctx context.Context, st grid.Store, fn func(grid.Tx) error) error {
	var err error
	for attempt := range 10 {
		err = st.WithTx(ctx, fn)
		if !errors.Is(err, grid.ErrRetry) {
			return err
		}
		time.Sleep(time.Duration(attempt+1) * 10 * time.Millisecond)
	}
	return err
}

func mustTx(t testing.TB, st grid.Store, fn func(grid.Tx) error) {
	t.Helper()
	if err := withTx(t.Context(), st, fn); err != nil {
		t.Fatalf("WithTx: %v", err)
	}
}

func wantNotFound(t testing.TB, what string, err error) {
	t.Helper()
	if !errors.Is(err, grid.ErrNotFound) {
		t.Errorf("%s: got error %v, want grid.ErrNotFound", what, err)
	}
}

func wantDuplicate(t testing.TB, what string, err error, key string) {
	t.Helper()
	var d *grid.DuplicateError
	if !errors.As(err, &d) {
		t.Errorf("%s: got error %v, want *grid.DuplicateError{Key: %q}", what, err, key)
		return
	}
	if d.Key != key {
		t.Errorf("%s: got DuplicateError{Key: %q}, want %q", what, d.Key, key)
	}
}

// insertAll writes items in one transaction, each with insert.
func insertAll[T any](t testing.TB, st grid.Store, insert func(grid.Tx, context.Context, T) error, items ...T) {
	t.Helper()
	mustTx(t, st, func(tx grid.Tx) error {
		for _, it := range items {
			if err := insert(tx, t.Context(), it); err != nil {
				return err
			}
		}
		return nil
	})
}

func insertPlatforms(t testing.TB, st grid.Store, ps ...*grid.Platform) {
	t.Helper()
	insertAll(t, st, grid.Tx.InsertPlatform, ps...)
}

func insertCustomers(t testing.TB, st grid.Store, cs ...*grid.Customer) {
	t.Helper()
	insertAll(t, st, grid.Tx.InsertCustomer, cs...)
}

func insertCustomer(ctx context.Context, st grid.Store, c *grid.Customer) error {
	return withTx(ctx, st, func(tx grid.Tx) error { return tx.InsertCustomer(ctx, c) })
}

func updateCustomer(ctx context.Context, st grid.Store, c *grid.Customer) error {
	return withTx(ctx, st, func(tx grid.Tx) error { return tx.UpdateCustomer(ctx, c) })
}

// ---- fixtures ----

func newPlatform(at time.Time) *grid.Platform {
	id := grid.NewID("PlatformConfig")
	return &grid.Platform{
		ID:        id,
		Name:      "Platform " + id[len(id)-6:],
		UMADomain: "pay.example.com",
		Webhook:   "https://hooks.example.com/grid",
		Currencies: []grid.CurrencyConfig{
			{
				Code: "USD", MinAmount: 100, MaxAmount: 1_000_000_00,
				RequiredCounterpartyFields: []grid.CounterpartyField{{Name: "FULL_NAME", Mandatory: true}, {Name: "BIRTH_DATE", Mandatory: false}},
				EnabledTransactionTypes:    []string{"OUTGOING", "INCOMING"},
			},
			{Code: "MXN", MinAmount: 1, MaxAmount: 5_000_000, EnabledTransactionTypes: []string{"OUTGOING"}},
		},
		Regulated:           true,
		Sandbox:             false,
		ContactVerification: []string{"email", "phone"},
		CreatedAt:           at,
		UpdatedAt:           at.Add(time.Microsecond),
	}
}

func newToken(platformID string, at time.Time) *grid.Token {
	id := grid.NewID("Token")
	return &grid.Token{
		ID:          id,
		PlatformID:  platformID,
		Name:        "token " + id[len(id)-6:],
		ClientID:    "client-" + id[len(id)-12:],
		SecretHash:  grid.HashSecret("secret-" + id),
		Permissions: []grid.Permission{grid.PermView, grid.PermTransact, grid.PermManage},
		CreatedAt:   at,
		UpdatedAt:   at,
	}
}

func newCustomer(platformID string, at time.Time) *grid.Customer {
	id := grid.NewID("Customer")
	suffix := id[len(id)-12:]
	return &grid.Customer{
		ID:                 id,
		PlatformID:         platformID,
		PlatformCustomerID: "pcid-" + suffix,
		Type:               grid.Individual,
		Region:             "US",
		Currencies:         []string{"USD"},
		UMAAddress:         "$user" + suffix + "@pay.example.com",
		Status:             grid.StatusUnverified,
		Profile:            grid.Profile{Email: "u" + suffix + "@example.com", FullName: "Ada Lovelace"},
		Sealed:             []byte{0x01, 0x00, 0xfe, 0xff},
		CreatedAt:          at,
		UpdatedAt:          at,
	}
}

// fullIndividual fills every field an individual carries.
func fullIndividual(platformID string, at time.Time) *grid.Customer {
	c := newCustomer(platformID, at)
	c.Currencies = []string{"USD", "EUR"}
	c.Status = grid.StatusPending
	c.UpdatedAt = at.Add(1500 * time.Microsecond)
	c.Profile = grid.Profile{
		Email:             "ada@example.com",
		PhoneNumber:       "+14155550100",
		FullName:          "Ada Lovelace",
		BirthDate:         "1990-12-10",
		Nationality:       "GB",
		IDType:            "SSN",
		CountryOfIssuance: "US",
		HasIdentifier:     true,
		EDD: grid.EDD{
			SourceOfFundsCategories:         []string{"SALARY", "OTHER"},
			SourceOfFundsOtherDescription:   "royalties",
			SourceOfWealthCategories:        []string{"INHERITANCE"},
			SourceOfWealthOtherDescription:  "estate",
			PurposeOfAccount:                "PERSONAL",
			PurposeOfAccountOtherDesc:       "gifts",
			ExpectedMonthlyTransactionCount: "1-10",
			ExpectedMonthlyTransactionVol:   "1000-5000",
			AnnualIncomeRange:               "50K-100K",
			NetWorthRange:                   "100K-500K",
			PEPStatus:                       "NOT_PEP",
		},
		Address: &grid.Address{Line1: "1 Main St", Line2: "Apt 2 — ünïcode", City: "San Francisco", State: "CA", PostalCode: "94105", Country: "US"},
		Consent: &grid.TermsConsent{
			AcceptedAt: at.Add(-time.Hour), IPAddress: "203.0.113.7", TermsVersion: "2024-01", AcceptanceMethod: "CLICKWRAP",
		},
		ContactVerification: map[string]string{"email": "VERIFIED", "phone": "PENDING"},
	}
	return c
}

// fullBusiness fills every field a business carries, deleted.
func fullBusiness(platformID string, at time.Time) *grid.Customer {
	c := newCustomer(platformID, at)
	c.Type = grid.Business
	c.Region = "MX"
	c.Currencies = []string{"MXN"}
	c.Status = grid.StatusHold
	c.Sealed = nil
	deleted := at.Add(2 * time.Second)
	c.DeletedAt = &deleted
	c.UpdatedAt = deleted
	c.Profile = grid.Profile{
		Email: "ops@acme.example",
		Business: &grid.BusinessInfo{
			LegalName: "Acme S.A. de C.V.", DoingBusinessAs: "Acme", Country: "MX", RegistrationNumber: "REG-1",
			IncorporatedOn: "2001-02-03", EntityType: "CORPORATION", CountriesOfOperation: []string{"MX", "US"},
			BusinessType: "RETAIL", PurposeOfAccount: "PAYROLL", SourceOfFunds: "REVENUE",
			ExpectedMonthlyTransactionCount: "100-500", ExpectedMonthlyTransactionVolume: "1M-5M",
			ExpectedRecipientJurisdictions: []string{"US"}, NAICSCode: "445110",
			SourceOfFundsCategories: []string{"OPERATIONS"}, SourceOfFundsOtherDescription: "none",
			PurposeOfAccountOtherDescription: "n/a", ExpectedCounterpartyCountries: []string{"CA", "US"},
			PrimaryContactFirstName: "Wile", PrimaryContactLastName: "Coyote", HasTaxID: true,
		},
		Address: &grid.Address{Line1: "Av. Reforma 1", PostalCode: "06600", Country: "MX"},
	}
	return c
}

func customerIDs(cs []*grid.Customer) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

func tokenIDs(ts []*grid.Token) []string {
	out := make([]string, len(ts))
	for i, tk := range ts {
		out[i] = tk.ID
	}
	return out
}

func sortedIDs(ids ...string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

// ---- platforms ----

func testPlatforms(t *testing.T, st grid.Store) {
	ctx := t.Context()
	base := now()
	p1 := newPlatform(base)
	p2 := newPlatform(base.Add(time.Second))
	p2.Regulated, p2.Sandbox = false, true
	p2.Webhook = ""
	p2.ContactVerification = []string{}
	insertPlatforms(t, st, p1)
	insertPlatforms(t, st, p2)

	for _, want := range []*grid.Platform{p1, p2} {
		got, err := st.GetPlatform(ctx, want.ID)
		if err != nil {
			t.Fatalf("GetPlatform(%s): %v", want.ID, err)
		}
		checkEqual(t, "GetPlatform", want, got)
		if got.CreatedAt.Location() != time.UTC || got.UpdatedAt.Location() != time.UTC {
			t.Errorf("GetPlatform timestamps not in UTC: %v, %v", got.CreatedAt.Location(), got.UpdatedAt.Location())
		}
	}

	_, err := st.GetPlatform(ctx, grid.NewID("PlatformConfig"))
	wantNotFound(t, "GetPlatform(missing)", err)

	list, err := st.ListPlatforms(ctx)
	if err != nil {
		t.Fatalf("ListPlatforms: %v", err)
	}
	checkEqual(t, "ListPlatforms (oldest first)", []*grid.Platform{p1, p2}, list)

	// Update every field.
	u := *p1
	u.Name = "Renamed"
	u.UMADomain = "other.example.org"
	u.Webhook = ""
	u.Currencies = []grid.CurrencyConfig{{Code: "EUR", MinAmount: 5, MaxAmount: 10, RequiredCounterpartyFields: []grid.CounterpartyField{{Name: "NATIONALITY", Mandatory: true}}, EnabledTransactionTypes: []string{}}}
	u.Regulated = false
	u.Sandbox = true
	u.ContactVerification = []string{"phone"}
	u.CreatedAt = base.Add(-time.Hour)
	u.UpdatedAt = base.Add(time.Hour + 7*time.Microsecond)
	mustTx(t, st, func(tx grid.Tx) error { return tx.UpdatePlatform(ctx, &u) })
	got, err := st.GetPlatform(ctx, u.ID)
	if err != nil {
		t.Fatalf("GetPlatform after update: %v", err)
	}
	checkEqual(t, "GetPlatform after UpdatePlatform", &u, got)
	// Flip the booleans back to make sure both values are written, not just defaulted.
	u.Regulated, u.Sandbox = true, false
	mustTx(t, st, func(tx grid.Tx) error { return tx.UpdatePlatform(ctx, &u) })
	if got, err = st.GetPlatform(ctx, u.ID); err != nil {
		t.Fatalf("GetPlatform after second update: %v", err)
	}
	checkEqual(t, "GetPlatform after second UpdatePlatform", &u, got)
	if got, err = st.GetPlatform(ctx, p2.ID); err != nil {
		t.Fatalf("GetPlatform(p2): %v", err)
	}
	checkEqual(t, "untouched platform", p2, got)

	missing := newPlatform(base)
	err = withTx(ctx, st, func(tx grid.Tx) error { return tx.UpdatePlatform(ctx, missing) })
	wantNotFound(t, "UpdatePlatform(missing)", err)
}

// ---- tokens ----

func testTokens(t *testing.T, st grid.Store) {
	ctx := t.Context()
	base := now()
	pa, pb := newPlatform(base), newPlatform(base)
	insertPlatforms(t, st, pa, pb)

	ta := newToken(pa.ID, base)
	ta.UpdatedAt = base.Add(3 * time.Microsecond)
	tView := newToken(pa.ID, base)
	tView.Permissions = []grid.Permission{grid.PermView}
	tNone := newToken(pa.ID, base)
	tNone.Permissions = nil
	tb := newToken(pb.ID, base)
	mustTx(t, st, func(tx grid.Tx) error {
		for _, tk := range []*grid.Token{ta, tView, tNone, tb} {
			if err := tx.InsertToken(ctx, tk); err != nil {
				return err
			}
		}
		return nil
	})

	for _, want := range []*grid.Token{ta, tView, tNone, tb} {
		got, err := st.TokenByClientID(ctx, want.ClientID)
		if err != nil {
			t.Fatalf("TokenByClientID(%s): %v", want.ClientID, err)
		}
		checkEqual(t, "TokenByClientID", want, got)
		got, err = st.GetToken(ctx, want.PlatformID, want.ID)
		if err != nil {
			t.Fatalf("GetToken(%s): %v", want.ID, err)
		}
		checkEqual(t, "GetToken", want, got)
	}
	_, err := st.TokenByClientID(ctx, "no-such-client")
	wantNotFound(t, "TokenByClientID(missing)", err)
	_, err = st.GetToken(ctx, pb.ID, ta.ID)
	wantNotFound(t, "GetToken(other platform's token)", err)
	_, err = st.GetToken(ctx, pa.ID, grid.NewID("Token"))
	wantNotFound(t, "GetToken(missing)", err)

	// The client id is unique across platforms.
	for _, pid := range []string{pa.ID, pb.ID} {
		dup := newToken(pid, base)
		dup.ClientID = ta.ClientID
		err := withTx(ctx, st, func(tx grid.Tx) error { return tx.InsertToken(ctx, dup) })
		wantDuplicate(t, "InsertToken(duplicate client id)", err, grid.KeyTokenClientID)
		_, err = st.GetToken(ctx, pid, dup.ID)
		wantNotFound(t, "GetToken(rejected duplicate)", err)
	}

	// Delete is scoped by platform.
	err = withTx(ctx, st, func(tx grid.Tx) error { return tx.DeleteToken(ctx, pb.ID, ta.ID) })
	wantNotFound(t, "DeleteToken(other platform's token)", err)
	if _, err := st.GetToken(ctx, pa.ID, ta.ID); err != nil {
		t.Fatalf("token deleted through another platform: %v", err)
	}
	mustTx(t, st, func(tx grid.Tx) error { return tx.DeleteToken(ctx, pa.ID, ta.ID) })
	_, err = st.GetToken(ctx, pa.ID, ta.ID)
	wantNotFound(t, "GetToken(deleted)", err)
	_, err = st.TokenByClientID(ctx, ta.ClientID)
	wantNotFound(t, "TokenByClientID(deleted)", err)
	err = withTx(ctx, st, func(tx grid.Tx) error { return tx.DeleteToken(ctx, pa.ID, ta.ID) })
	wantNotFound(t, "DeleteToken(already deleted)", err)
	err = withTx(ctx, st, func(tx grid.Tx) error { return tx.DeleteToken(ctx, pa.ID, grid.NewID("Token")) })
	wantNotFound(t, "DeleteToken(missing)", err)

	// A deleted token's client id is free again.
	again := newToken(pa.ID, base)
	again.ClientID = ta.ClientID
	mustTx(t, st, func(tx grid.Tx) error { return tx.InsertToken(ctx, again) })
	got, err := st.TokenByClientID(ctx, ta.ClientID)
	if err != nil {
		t.Fatalf("TokenByClientID(reused client id): %v", err)
	}
	checkEqual(t, "TokenByClientID(reused client id)", again, got)
}

func testTokenList(t *testing.T, st grid.Store) {
	ctx := t.Context()
	base := now()
	pa, pb := newPlatform(base), newPlatform(base)
	insertPlatforms(t, st, pa, pb)

	// 25 tokens of pa, created one second apart and updated one minute later, inserted in a
	// shuffled order; every third one is named "ci".
	var all []*grid.Token
	for i := range 25 {
		tk := newToken(pa.ID, base.Add(time.Duration(i)*time.Second))
		tk.UpdatedAt = tk.CreatedAt.Add(time.Minute)
		if i%3 == 0 {
			tk.Name = "ci"
		}
		all = append(all, tk)
	}
	other := newToken(pb.ID, base)
	other.Name = "ci"
	shuffled := slices.Clone(all)
	rand.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	mustTx(t, st, func(tx grid.Tx) error {
		for _, tk := range append(shuffled, other) {
			if err := tx.InsertToken(ctx, tk); err != nil {
				return err
			}
		}
		return nil
	})
	ids := func(pick func(i int, tk *grid.Token) bool) []string {
		var out []string
		for i, tk := range all {
			if pick(i, tk) {
				out = append(out, tk.ID)
			}
		}
		return sortedIDs(out...)
	}
	list := func(f grid.TokenFilter) grid.TokenPage {
		t.Helper()
		page, err := st.ListTokens(ctx, pa.ID, f)
		if err != nil {
			t.Fatalf("ListTokens(%+v): %v", f, err)
		}
		return page
	}

	// Default page size, full round trip of the first page.
	page := list(grid.TokenFilter{})
	if len(page.Tokens) != grid.DefaultPageSize || !page.HasMore || page.TotalCount != 25 {
		t.Errorf("ListTokens(no limit): %d tokens, HasMore %v, TotalCount %d; want %d, true, 25", len(page.Tokens), page.HasMore, page.TotalCount, grid.DefaultPageSize)
	}
	byID := map[string]*grid.Token{}
	for _, tk := range all {
		byID[tk.ID] = tk
	}
	for _, got := range page.Tokens {
		checkEqual(t, "ListTokens entry", byID[got.ID], got)
	}

	cases := []struct {
		name string
		f    grid.TokenFilter
		want []string
	}{
		{"name", grid.TokenFilter{Name: "ci", Limit: 100}, ids(func(i int, _ *grid.Token) bool { return i%3 == 0 })},
		{"no match", grid.TokenFilter{Name: "nope", Limit: 100}, nil},
		{"created inclusive", grid.TokenFilter{Created: grid.TimeRange{After: all[3].CreatedAt, Before: all[6].CreatedAt}, Limit: 100},
			ids(func(i int, _ *grid.Token) bool { return i >= 3 && i <= 6 })},
		{"created after", grid.TokenFilter{Created: grid.TimeRange{After: all[20].CreatedAt}, Limit: 100},
			ids(func(i int, _ *grid.Token) bool { return i >= 20 })},
		{"updated before", grid.TokenFilter{Updated: grid.TimeRange{Before: all[2].UpdatedAt}, Limit: 100},
			ids(func(i int, _ *grid.Token) bool { return i <= 2 })},
		{"updated inclusive", grid.TokenFilter{Updated: grid.TimeRange{After: all[10].UpdatedAt, Before: all[10].UpdatedAt}, Limit: 100},
			[]string{all[10].ID}},
		{"name and created", grid.TokenFilter{Name: "ci", Created: grid.TimeRange{After: all[4].CreatedAt}, Limit: 100},
			ids(func(i int, _ *grid.Token) bool { return i%3 == 0 && i >= 4 })},
	}
	for _, tc := range cases {
		page := list(tc.f)
		checkEqual(t, "ListTokens "+tc.name, tc.want, nilIfEmpty(tokenIDs(page.Tokens)))
		if page.HasMore || page.TotalCount != len(tc.want) {
			t.Errorf("ListTokens %s: HasMore %v, TotalCount %d; want false, %d", tc.name, page.HasMore, page.TotalCount, len(tc.want))
		}
	}

	// Keyset paging.
	var seen []string
	after := ""
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("ListTokens paging does not end")
		}
		page := list(grid.TokenFilter{AfterID: after, Limit: 4})
		if page.TotalCount != 25 {
			t.Errorf("ListTokens page %d: TotalCount %d, want 25", pages, page.TotalCount)
		}
		seen = append(seen, tokenIDs(page.Tokens)...)
		if !page.HasMore {
			if len(page.Tokens) != 1 {
				t.Errorf("last ListTokens page has %d tokens, want 1", len(page.Tokens))
			}
			break
		}
		if len(page.Tokens) != 4 {
			t.Fatalf("ListTokens page %d: %d tokens, want 4", pages, len(page.Tokens))
		}
		after = page.Tokens[len(page.Tokens)-1].ID
	}
	checkEqual(t, "ListTokens paged ids", ids(func(int, *grid.Token) bool { return true }), seen)

	// Another platform sees only its own.
	pageB, err := st.ListTokens(ctx, pb.ID, grid.TokenFilter{})
	if err != nil {
		t.Fatalf("ListTokens(pb): %v", err)
	}
	checkEqual(t, "ListTokens(pb)", []string{other.ID}, tokenIDs(pageB.Tokens))
	if pageB.TotalCount != 1 || pageB.HasMore {
		t.Errorf("ListTokens(pb): TotalCount %d, HasMore %v; want 1, false", pageB.TotalCount, pageB.HasMore)
	}
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// ---- customers ----

func testCustomerRoundTrip(t *testing.T, st grid.Store) {
	ctx := t.Context()
	base := now()
	pa, pb := newPlatform(base), newPlatform(base)
	insertPlatforms(t, st, pa, pb)

	ind := fullIndividual(pa.ID, base)
	biz := fullBusiness(pa.ID, base.Add(time.Millisecond))
	minimal := newCustomer(pa.ID, base)
	minimal.Profile = grid.Profile{}
	minimal.Currencies = []string{}
	insertCustomers(t, st, ind, biz, minimal)

	for _, want := range []*grid.Customer{ind, biz, minimal} {
		got, err := st.GetCustomer(ctx, pa.ID, want.ID)
		if err != nil {
			t.Fatalf("GetCustomer(%s): %v", want.ID, err)
		}
		checkEqual(t, "GetCustomer", want, got)
		if got.CreatedAt.Location() != time.UTC || got.UpdatedAt.Location() != time.UTC {
			t.Errorf("GetCustomer timestamps not in UTC")
		}
		_, err = st.GetCustomer(ctx, pb.ID, want.ID)
		wantNotFound(t, "GetCustomer(other platform)", err)
	}
	got, _ := st.GetCustomer(ctx, pa.ID, biz.ID)
	if got != nil && (got.DeletedAt == nil || got.DeletedAt.Location() != time.UTC || !got.Deleted()) {
		t.Errorf("GetCustomer(deleted): DeletedAt = %v, want %v in UTC", got.DeletedAt, biz.DeletedAt)
	}
	_, err := st.GetCustomer(ctx, pa.ID, grid.NewID("Customer"))
	wantNotFound(t, "GetCustomer(missing)", err)
}

func testCustomerDuplicates(t *testing.T, st grid.Store) {
	ctx := t.Context()
	base := now()
	pa, pb := newPlatform(base), newPlatform(base)
	insertPlatforms(t, st, pa, pb)

	first := newCustomer(pa.ID, base)
	first.Currencies = []string{"USD", "EUR"}
	insertCustomers(t, st, first)

	dupPCID := newCustomer(pa.ID, base)
	dupPCID.PlatformCustomerID = first.PlatformCustomerID
	dupPCID.Currencies = []string{"GBP"}
	wantDuplicate(t, "InsertCustomer(same platformCustomerId)", insertCustomer(ctx, st, dupPCID), grid.KeyPlatformCustomerID)

	dupUMA := newCustomer(pa.ID, base)
	dupUMA.UMAAddress = first.UMAAddress
	dupUMA.Currencies = []string{"GBP"}
	wantDuplicate(t, "InsertCustomer(same umaAddress)", insertCustomer(ctx, st, dupUMA), grid.KeyUMAAddress)

	// A rejected insert leaves nothing behind: no row, no currency index entry.
	for _, c := range []*grid.Customer{dupPCID, dupUMA} {
		_, err := st.GetCustomer(ctx, pa.ID, c.ID)
		wantNotFound(t, "GetCustomer(rejected duplicate)", err)
	}
	page, err := st.ListCustomers(ctx, pa.ID, grid.CustomerFilter{Currency: "GBP", IncludeDeleted: true})
	if err != nil {
		t.Fatalf("ListCustomers(GBP): %v", err)
	}
	if len(page.Customers) != 0 || page.TotalCount != 0 {
		t.Errorf("a rejected duplicate left currency rows: %v (TotalCount %d)", customerIDs(page.Customers), page.TotalCount)
	}

	// The same keys on another platform are fine.
	otherPlatform := newCustomer(pb.ID, base)
	otherPlatform.PlatformCustomerID, otherPlatform.UMAAddress = first.PlatformCustomerID, first.UMAAddress
	if err := insertCustomer(ctx, st, otherPlatform); err != nil {
		t.Fatalf("InsertCustomer(same keys, other platform): %v", err)
	}

	// An update that takes another active customer's key is rejected too.
	second := newCustomer(pa.ID, base)
	insertCustomers(t, st, second)
	clash := *second
	clash.PlatformCustomerID = first.PlatformCustomerID
	wantDuplicate(t, "UpdateCustomer(to a taken platformCustomerId)", updateCustomer(ctx, st, &clash), grid.KeyPlatformCustomerID)
	clash = *second
	clash.UMAAddress = first.UMAAddress
	wantDuplicate(t, "UpdateCustomer(to a taken umaAddress)", updateCustomer(ctx, st, &clash), grid.KeyUMAAddress)
	got, err := st.GetCustomer(ctx, pa.ID, second.ID)
	if err != nil {
		t.Fatalf("GetCustomer(second): %v", err)
	}
	checkEqual(t, "customer after rejected updates", second, got)

	// Soft delete frees both keys.
	deleted := *first
	at := base.Add(time.Minute)
	deleted.DeletedAt, deleted.UpdatedAt = &at, at
	if err := updateCustomer(ctx, st, &deleted); err != nil {
		t.Fatalf("UpdateCustomer(soft delete): %v", err)
	}
	reuse := newCustomer(pa.ID, base.Add(2*time.Minute))
	reuse.PlatformCustomerID, reuse.UMAAddress = first.PlatformCustomerID, first.UMAAddress
	if err := insertCustomer(ctx, st, reuse); err != nil {
		t.Fatalf("InsertCustomer(keys of a deleted customer): %v", err)
	}
	for _, want := range []*grid.Customer{&deleted, reuse} {
		got, err := st.GetCustomer(ctx, pa.ID, want.ID)
		if err != nil {
			t.Fatalf("GetCustomer(%s): %v", want.ID, err)
		}
		checkEqual(t, "GetCustomer after key reuse", want, got)
	}
	page, err = st.ListCustomers(ctx, pa.ID, grid.CustomerFilter{PlatformCustomerID: first.PlatformCustomerID, IncludeDeleted: true})
	if err != nil {
		t.Fatalf("ListCustomers(platformCustomerId): %v", err)
	}
	checkEqual(t, "customers holding the reused platformCustomerId", sortedIDs(first.ID, reuse.ID), customerIDs(page.Customers))
	// A second deleted customer may hold the same keys as the first.
	again := *reuse
	again.DeletedAt = &at
	if err := updateCustomer(ctx, st, &again); err != nil {
		t.Fatalf("UpdateCustomer(delete second holder): %v", err)
	}
}

func testCustomerUpdate(t *testing.T, st grid.Store) {
	ctx := t.Context()
	base := now()
	pa, pb := newPlatform(base), newPlatform(base)
	insertPlatforms(t, st, pa, pb)

	c := fullIndividual(pa.ID, base)
	insertCustomers(t, st, c)

	// Replace every field.
	u := fullBusiness(pa.ID, base)
	u.ID, u.PlatformID = c.ID, c.PlatformID
	u.PlatformCustomerID = "renamed-" + c.PlatformCustomerID
	u.UMAAddress = "$renamed" + c.UMAAddress[1:]
	u.Currencies = []string{"MXN", "CAD"}
	u.Status = grid.StatusApproved
	u.Sealed = []byte("new sealed bytes")
	u.DeletedAt = nil
	u.CreatedAt = base.Add(-time.Hour)
	u.UpdatedAt = base.Add(time.Hour + 999*time.Microsecond)
	if err := updateCustomer(ctx, st, u); err != nil {
		t.Fatalf("UpdateCustomer: %v", err)
	}
	got, err := st.GetCustomer(ctx, pa.ID, c.ID)
	if err != nil {
		t.Fatalf("GetCustomer after update: %v", err)
	}
	checkEqual(t, "GetCustomer after UpdateCustomer", u, got)

	// The currency filter follows the new currencies.
	for cur, want := range map[string][]string{"USD": nil, "EUR": nil, "MXN": {c.ID}, "CAD": {c.ID}} {
		page, err := st.ListCustomers(ctx, pa.ID, grid.CustomerFilter{Currency: cur})
		if err != nil {
			t.Fatalf("ListCustomers(currency %s): %v", cur, err)
		}
		checkEqual(t, "ListCustomers(currency "+cur+") after update", want, nilIfEmpty(customerIDs(page.Customers)))
	}

	// Setting and clearing DeletedAt.
	del := *u
	at := base.Add(2 * time.Hour)
	del.DeletedAt = &at
	if err := updateCustomer(ctx, st, &del); err != nil {
		t.Fatalf("UpdateCustomer(delete): %v", err)
	}
	if got, err = st.GetCustomer(ctx, pa.ID, c.ID); err != nil {
		t.Fatalf("GetCustomer(deleted): %v", err)
	}
	checkEqual(t, "GetCustomer after soft delete", &del, got)

	missing := newCustomer(pa.ID, base)
	wantNotFound(t, "UpdateCustomer(missing)", updateCustomer(ctx, st, missing))
	// Another platform cannot update the customer.
	foreign := *u
	foreign.PlatformID = pb.ID
	foreign.Region = "CA"
	wantNotFound(t, "UpdateCustomer(other platform)", updateCustomer(ctx, st, &foreign))
	if got, err = st.GetCustomer(ctx, pa.ID, c.ID); err != nil {
		t.Fatalf("GetCustomer: %v", err)
	}
	checkEqual(t, "customer after foreign update attempt", &del, got)
	page, err := st.ListCustomers(ctx, pb.ID, grid.CustomerFilter{IncludeDeleted: true})
	if err != nil {
		t.Fatalf("ListCustomers(pb): %v", err)
	}
	if len(page.Customers) != 0 {
		t.Errorf("foreign update attempt made %v visible to the other platform", customerIDs(page.Customers))
	}
}

func testCustomerFilters(t *testing.T, st grid.Store) {
	ctx := t.Context()
	base := now()
	pa, pb := newPlatform(base), newPlatform(base)
	insertPlatforms(t, st, pa, pb)

	// Twelve customers of pa created one second apart, updated one hour after creation.
	var cs []*grid.Customer
	for i := range 12 {
		c := newCustomer(pa.ID, base.Add(time.Duration(i)*time.Second))
		c.UpdatedAt = c.CreatedAt.Add(time.Hour)
		switch i % 3 {
		case 0:
			c.Type, c.Region, c.Currencies = grid.Individual, "US", []string{"USD"}
		case 1:
			c.Type, c.Region, c.Currencies = grid.Business, "MX", []string{"MXN", "USD"}
		case 2:
			c.Type, c.Region, c.Currencies = grid.Individual, "GB", []string{"GBP", "EUR"}
		}
		cs = append(cs, c)
	}
	del := base.Add(time.Hour)
	cs[4].DeletedAt = &del // business, MX
	cs[5].DeletedAt = &del // individual, GB
	// pb has a customer matching every filter value; it must never show up.
	var others []*grid.Customer
	for _, src := range cs[:3] {
		o := newCustomer(pb.ID, src.CreatedAt)
		o.Type, o.Region, o.Currencies, o.UpdatedAt = src.Type, src.Region, src.Currencies, src.UpdatedAt
		others = append(others, o)
	}
	others[0].PlatformCustomerID, others[0].UMAAddress = cs[7].PlatformCustomerID, cs[9].UMAAddress
	insertCustomers(t, st, others...)
	insertCustomers(t, st, cs...)

	ids := func(includeDeleted bool, pick func(i int, c *grid.Customer) bool) []string {
		var out []string
		for i, c := range cs {
			if (includeDeleted || c.DeletedAt == nil) && pick(i, c) {
				out = append(out, c.ID)
			}
		}
		return sortedIDs(out...)
	}
	all := func(int, *grid.Customer) bool { return true }
	cases := []struct {
		name string
		f    grid.CustomerFilter
		want []string
	}{
		{"none", grid.CustomerFilter{}, ids(false, all)},
		{"includeDeleted", grid.CustomerFilter{IncludeDeleted: true}, ids(true, all)},
		{"platformCustomerId", grid.CustomerFilter{PlatformCustomerID: cs[7].PlatformCustomerID}, []string{cs[7].ID}},
		{"platformCustomerId of deleted", grid.CustomerFilter{PlatformCustomerID: cs[4].PlatformCustomerID}, nil},
		{"platformCustomerId of deleted, includeDeleted", grid.CustomerFilter{PlatformCustomerID: cs[4].PlatformCustomerID, IncludeDeleted: true}, []string{cs[4].ID}},
		{"umaAddress", grid.CustomerFilter{UMAAddress: cs[9].UMAAddress}, []string{cs[9].ID}},
		{"umaAddress no match", grid.CustomerFilter{UMAAddress: "$nobody@pay.example.com"}, nil},
		{"type", grid.CustomerFilter{Type: grid.Business}, ids(false, func(_ int, c *grid.Customer) bool { return c.Type == grid.Business })},
		{"type, includeDeleted", grid.CustomerFilter{Type: grid.Business, IncludeDeleted: true}, ids(true, func(_ int, c *grid.Customer) bool { return c.Type == grid.Business })},
		{"region", grid.CustomerFilter{Region: "GB"}, ids(false, func(i int, _ *grid.Customer) bool { return i%3 == 2 })},
		{"currency USD", grid.CustomerFilter{Currency: "USD"}, ids(false, func(_ int, c *grid.Customer) bool { return slices.Contains(c.Currencies, "USD") })},
		{"currency EUR, includeDeleted", grid.CustomerFilter{Currency: "EUR", IncludeDeleted: true}, ids(true, func(i int, _ *grid.Customer) bool { return i%3 == 2 })},
		{"currency none", grid.CustomerFilter{Currency: "JPY"}, nil},
		{"created inclusive", grid.CustomerFilter{Created: grid.TimeRange{After: cs[2].CreatedAt, Before: cs[6].CreatedAt}},
			ids(false, func(i int, _ *grid.Customer) bool { return i >= 2 && i <= 6 })},
		{"created after", grid.CustomerFilter{Created: grid.TimeRange{After: cs[10].CreatedAt}}, ids(false, func(i int, _ *grid.Customer) bool { return i >= 10 })},
		{"created before", grid.CustomerFilter{Created: grid.TimeRange{Before: cs[1].CreatedAt}}, ids(false, func(i int, _ *grid.Customer) bool { return i <= 1 })},
		{"created one microsecond inside", grid.CustomerFilter{Created: grid.TimeRange{After: cs[3].CreatedAt.Add(time.Microsecond), Before: cs[6].CreatedAt.Add(-time.Microsecond)}, IncludeDeleted: true},
			ids(true, func(i int, _ *grid.Customer) bool { return i >= 4 && i <= 5 })},
		{"updated inclusive", grid.CustomerFilter{Updated: grid.TimeRange{After: cs[8].UpdatedAt, Before: cs[11].UpdatedAt}},
			ids(false, func(i int, _ *grid.Customer) bool { return i >= 8 && i <= 11 })},
		{"updated exact", grid.CustomerFilter{Updated: grid.TimeRange{After: cs[3].UpdatedAt, Before: cs[3].UpdatedAt}}, []string{cs[3].ID}},
		{"combined", grid.CustomerFilter{Type: grid.Individual, Region: "US", Currency: "USD", Created: grid.TimeRange{After: cs[3].CreatedAt}},
			ids(false, func(i int, _ *grid.Customer) bool { return i%3 == 0 && i >= 3 })},
		{"combined, includeDeleted", grid.CustomerFilter{Type: grid.Business, Currency: "MXN", Updated: grid.TimeRange{Before: cs[7].UpdatedAt}, IncludeDeleted: true},
			ids(true, func(i int, _ *grid.Customer) bool { return i%3 == 1 && i <= 7 })},
	}
	for _, tc := range cases {
		tc.f.Limit = grid.MaxPageSize
		page, err := st.ListCustomers(ctx, pa.ID, tc.f)
		if err != nil {
			t.Fatalf("ListCustomers %s: %v", tc.name, err)
		}
		checkEqual(t, "ListCustomers "+tc.name, tc.want, nilIfEmpty(customerIDs(page.Customers)))
		if page.HasMore || page.TotalCount != len(tc.want) {
			t.Errorf("ListCustomers %s: HasMore %v, TotalCount %d; want false, %d", tc.name, page.HasMore, page.TotalCount, len(tc.want))
		}
	}

	// Listed customers are complete.
	page, err := st.ListCustomers(ctx, pa.ID, grid.CustomerFilter{IncludeDeleted: true, Limit: grid.MaxPageSize})
	if err != nil {
		t.Fatalf("ListCustomers: %v", err)
	}
	want := slices.Clone(cs)
	slices.SortFunc(want, func(a, b *grid.Customer) int { return strings.Compare(a.ID, b.ID) })
	checkEqual(t, "ListCustomers full rows", want, page.Customers)
}

func testCustomerPaging(t *testing.T, st grid.Store) {
	ctx := t.Context()
	base := now()
	pa, pb := newPlatform(base), newPlatform(base)
	insertPlatforms(t, st, pa, pb)

	const n = 250
	var cs []*grid.Customer
	for i := range n {
		cs = append(cs, newCustomer(pa.ID, base.Add(time.Duration(i)*time.Microsecond)))
	}
	want := customerIDs(cs)
	slices.Sort(want)
	// Insert in random order so that id order is not insertion order, plus a few deleted ones
	// and another platform's that must not be counted.
	shuffled := slices.Clone(cs)
	rand.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	for range 5 {
		d := newCustomer(pa.ID, base)
		at := base
		d.DeletedAt = &at
		shuffled = append(shuffled, d, newCustomer(pb.ID, base))
	}
	insertCustomers(t, st, shuffled...)

	var seen []string
	after := ""
	pages := 0
	for {
		pages++
		if pages > n {
			t.Fatal("ListCustomers paging does not end")
		}
		page, err := st.ListCustomers(ctx, pa.ID, grid.CustomerFilter{AfterID: after, Limit: 7})
		if err != nil {
			t.Fatalf("ListCustomers page %d: %v", pages, err)
		}
		if page.TotalCount != n {
			t.Errorf("ListCustomers page %d: TotalCount %d, want %d", pages, page.TotalCount, n)
		}
		if len(page.Customers) > 7 {
			t.Fatalf("ListCustomers page %d: %d customers with limit 7", pages, len(page.Customers))
		}
		seen = append(seen, customerIDs(page.Customers)...)
		if !page.HasMore {
			break
		}
		if len(page.Customers) != 7 {
			t.Fatalf("ListCustomers page %d: %d customers but HasMore", pages, len(page.Customers))
		}
		after = page.Customers[len(page.Customers)-1].ID
	}
	if wantPages := (n + 6) / 7; pages != wantPages {
		t.Errorf("paging took %d pages, want %d", pages, wantPages)
	}
	checkEqual(t, "ids seen while paging (each once, in id order)", want, seen)

	// Limits: zero means the default page size, too large is clamped.
	for _, tc := range []struct{ limit, want int }{{0, grid.DefaultPageSize}, {-3, grid.DefaultPageSize}, {1, 1}, {grid.MaxPageSize + 50, grid.MaxPageSize}} {
		page, err := st.ListCustomers(ctx, pa.ID, grid.CustomerFilter{Limit: tc.limit})
		if err != nil {
			t.Fatalf("ListCustomers(limit %d): %v", tc.limit, err)
		}
		if len(page.Customers) != tc.want || !page.HasMore || page.TotalCount != n {
			t.Errorf("ListCustomers(limit %d): %d customers, HasMore %v, TotalCount %d; want %d, true, %d", tc.limit, len(page.Customers), page.HasMore, page.TotalCount, tc.want, n)
		}
		checkEqual(t, fmt.Sprintf("ListCustomers(limit %d) ids", tc.limit), want[:tc.want], customerIDs(page.Customers))
	}
	// Paging after the last id gives an empty last page that still counts everything.
	page, err := st.ListCustomers(ctx, pa.ID, grid.CustomerFilter{AfterID: want[n-1]})
	if err != nil {
		t.Fatalf("ListCustomers(after last): %v", err)
	}
	if len(page.Customers) != 0 || page.HasMore || page.TotalCount != n {
		t.Errorf("ListCustomers(after last): %d customers, HasMore %v, TotalCount %d; want 0, false, %d", len(page.Customers), page.HasMore, page.TotalCount, n)
	}
	// Paging combines with filters.
	page, err = st.ListCustomers(ctx, pa.ID, grid.CustomerFilter{AfterID: want[99], Created: grid.TimeRange{After: cs[0].CreatedAt}, Limit: 100})
	if err != nil {
		t.Fatalf("ListCustomers(after, created): %v", err)
	}
	checkEqual(t, "ListCustomers(after 100th id)", want[100:200], customerIDs(page.Customers))
	if !page.HasMore || page.TotalCount != n {
		t.Errorf("ListCustomers(after 100th id): HasMore %v, TotalCount %d; want true, %d", page.HasMore, page.TotalCount, n)
	}
}

// ---- transactions ----

var errAbort = errors.New("storetest: abort")

func testRollback(t *testing.T, st grid.Store) {
	ctx := t.Context()
	base := now()
	p := newPlatform(base)
	insertPlatforms(t, st, p)
	kept := newCustomer(p.ID, base)
	insertCustomers(t, st, kept)

	np := newPlatform(base)
	tok := newToken(p.ID, base)
	c := newCustomer(p.ID, base)
	c.Currencies = []string{"CHF"}
	upd := *kept
	upd.Region = "CH"
	sc := &grid.StatusChange{ID: grid.NewID("StatusChange"), CustomerID: c.ID, PlatformID: p.ID, To: grid.StatusPending, Reason: "CREATED", Actor: "system", At: base}
	err := st.WithTx(ctx, func(tx grid.Tx) error {
		if err := tx.InsertPlatform(ctx, np); err != nil {
			return err
		}
		if err := tx.InsertToken(ctx, tok); err != nil {
			return err
		}
		if err := tx.InsertCustomer(ctx, c); err != nil {
			return err
		}
		if err := tx.UpdateCustomer(ctx, &upd); err != nil {
			return err
		}
		if err := tx.InsertStatusChange(ctx, sc); err != nil {
			return err
		}
		if _, err := tx.PutMetaIfAbsent(ctx, "rollback-key", []byte("v")); err != nil {
			return err
		}
		return fmt.Errorf("after writes: %w", errAbort)
	})
	if !errors.Is(err, errAbort) {
		t.Fatalf("WithTx returned %v, want the error of fn", err)
	}
	if errors.Is(err, grid.ErrRetry) {
		t.Errorf("WithTx turned fn's error into ErrRetry: %v", err)
	}

	_, err = st.GetPlatform(ctx, np.ID)
	wantNotFound(t, "GetPlatform(rolled back)", err)
	_, err = st.GetToken(ctx, p.ID, tok.ID)
	wantNotFound(t, "GetToken(rolled back)", err)
	_, err = st.TokenByClientID(ctx, tok.ClientID)
	wantNotFound(t, "TokenByClientID(rolled back)", err)
	_, err = st.GetCustomer(ctx, p.ID, c.ID)
	wantNotFound(t, "GetCustomer(rolled back)", err)
	_, err = st.GetMeta(ctx, "rollback-key")
	wantNotFound(t, "GetMeta(rolled back)", err)
	got, err := st.GetCustomer(ctx, p.ID, kept.ID)
	if err != nil {
		t.Fatalf("GetCustomer(kept): %v", err)
	}
	checkEqual(t, "customer whose update was rolled back", kept, got)
	hist, err := st.ListStatusChanges(ctx, p.ID, c.ID)
	if err != nil {
		t.Fatalf("ListStatusChanges: %v", err)
	}
	if len(hist) != 0 {
		t.Errorf("rolled back status change is stored: %+v", hist)
	}
	page, err := st.ListCustomers(ctx, p.ID, grid.CustomerFilter{Currency: "CHF", IncludeDeleted: true})
	if err != nil {
		t.Fatalf("ListCustomers(CHF): %v", err)
	}
	if len(page.Customers) != 0 || page.TotalCount != 0 {
		t.Errorf("rolled back customer is listed: %v", customerIDs(page.Customers))
	}

	// The keys it would have taken are free, and the store still works.
	c2 := newCustomer(p.ID, base)
	c2.PlatformCustomerID, c2.UMAAddress = c.PlatformCustomerID, c.UMAAddress
	if err := insertCustomer(ctx, st, c2); err != nil {
		t.Fatalf("InsertCustomer after rollback: %v", err)
	}
	tok2 := newToken(p.ID, base)
	tok2.ClientID = tok.ClientID
	mustTx(t, st, func(tx grid.Tx) error { return tx.InsertToken(ctx, tok2) })
}

func testReadYourWrites(t *testing.T, st grid.Store) {
	ctx := t.Context()
	base := now()
	p := newPlatform(base)
	tok := newToken(p.ID, base)
	c := newCustomer(p.ID, base)
	c.Currencies = []string{"SEK"}
	sc := grid.StatusChange{ID: grid.NewID("StatusChange"), CustomerID: c.ID, PlatformID: p.ID, To: grid.StatusUnverified, Reason: "CREATED", Actor: tok.ID, At: base}
	mustTx(t, st, func(tx grid.Tx) error {
		if err := tx.InsertPlatform(ctx, p); err != nil {
			return err
		}
		gp, err := tx.GetPlatform(ctx, p.ID)
		if err != nil {
			return fmt.Errorf("GetPlatform in tx: %w", err)
		}
		checkEqual(t, "GetPlatform in tx", p, gp)
		ps, err := tx.ListPlatforms(ctx)
		if err != nil {
			return err
		}
		checkEqual(t, "ListPlatforms in tx", []*grid.Platform{p}, ps)

		if err := tx.InsertToken(ctx, tok); err != nil {
			return err
		}
		gt, err := tx.TokenByClientID(ctx, tok.ClientID)
		if err != nil {
			return fmt.Errorf("TokenByClientID in tx: %w", err)
		}
		checkEqual(t, "TokenByClientID in tx", tok, gt)
		if gt, err = tx.GetToken(ctx, p.ID, tok.ID); err != nil {
			return fmt.Errorf("GetToken in tx: %w", err)
		}
		checkEqual(t, "GetToken in tx", tok, gt)
		tp, err := tx.ListTokens(ctx, p.ID, grid.TokenFilter{})
		if err != nil {
			return err
		}
		checkEqual(t, "ListTokens in tx", []string{tok.ID}, tokenIDs(tp.Tokens))

		if err := tx.InsertCustomer(ctx, c); err != nil {
			return err
		}
		gc, err := tx.GetCustomer(ctx, p.ID, c.ID)
		if err != nil {
			return fmt.Errorf("GetCustomer in tx: %w", err)
		}
		checkEqual(t, "GetCustomer in tx", c, gc)
		cp, err := tx.ListCustomers(ctx, p.ID, grid.CustomerFilter{Currency: "SEK"})
		if err != nil {
			return err
		}
		checkEqual(t, "ListCustomers in tx", []string{c.ID}, customerIDs(cp.Customers))

		if err := tx.InsertStatusChange(ctx, &sc); err != nil {
			return err
		}
		h, err := tx.ListStatusChanges(ctx, p.ID, c.ID)
		if err != nil {
			return err
		}
		checkEqual(t, "ListStatusChanges in tx", []grid.StatusChange{sc}, h)

		if _, err := tx.PutMetaIfAbsent(ctx, "k", []byte("v")); err != nil {
			return err
		}
		v, err := tx.GetMeta(ctx, "k")
		if err != nil {
			return fmt.Errorf("GetMeta in tx: %w", err)
		}
		checkEqual(t, "GetMeta in tx", []byte("v"), v)

		if err := tx.DeleteToken(ctx, p.ID, tok.ID); err != nil {
			return err
		}
		if _, err := tx.GetToken(ctx, p.ID, tok.ID); !errors.Is(err, grid.ErrNotFound) {
			return fmt.Errorf("GetToken after DeleteToken in tx: %v, want ErrNotFound", err)
		}
		return nil
	})
	// And after commit, outside the transaction.
	if _, err := st.GetCustomer(ctx, p.ID, c.ID); err != nil {
		t.Errorf("GetCustomer after commit: %v", err)
	}
	if _, err := st.GetToken(ctx, p.ID, tok.ID); !errors.Is(err, grid.ErrNotFound) {
		t.Errorf("GetToken of a token deleted in the committed tx: %v, want ErrNotFound", err)
	}
}

// ---- history ----

func testStatusChanges(t *testing.T, st grid.Store) {
	ctx := t.Context()
	base := now()
	pa, pb := newPlatform(base), newPlatform(base)
	insertPlatforms(t, st, pa, pb)
	c1, c2 := newCustomer(pa.ID, base), newCustomer(pa.ID, base)
	insertCustomers(t, st, c1, c2)

	steps := []struct {
		from, to      grid.Status
		reason, actor string
	}{
		{"", grid.StatusUnverified, "CREATED", "Token:abc"},
		{grid.StatusUnverified, grid.StatusPending, "VERIFICATION_SUBMITTED", "system"},
		{grid.StatusPending, grid.StatusApproved, "MANUALLY_APPROVED", "operator"},
	}
	var want []grid.StatusChange
	for i, s := range steps {
		want = append(want, grid.StatusChange{
			ID: grid.NewID("StatusChange"), CustomerID: c1.ID, PlatformID: pa.ID,
			From: s.from, To: s.to, Reason: s.reason, Actor: s.actor,
			At: base.Add(time.Duration(i)*time.Second + time.Duration(i)*time.Microsecond),
		})
	}
	other := grid.StatusChange{ID: grid.NewID("StatusChange"), CustomerID: c2.ID, PlatformID: pa.ID, To: grid.StatusRejected, Reason: "CREATED", Actor: "system", At: base}
	// Each change in its own transaction, the way the service writes them.
	for i := range want {
		mustTx(t, st, func(tx grid.Tx) error { return tx.InsertStatusChange(ctx, &want[i]) })
	}
	mustTx(t, st, func(tx grid.Tx) error { return tx.InsertStatusChange(ctx, &other) })

	got, err := st.ListStatusChanges(ctx, pa.ID, c1.ID)
	if err != nil {
		t.Fatalf("ListStatusChanges: %v", err)
	}
	checkEqual(t, "ListStatusChanges (oldest first)", want, got)
	for _, s := range got {
		if s.At.Location() != time.UTC {
			t.Errorf("status change time %v not in UTC", s.At)
		}
	}
	if got, err = st.ListStatusChanges(ctx, pa.ID, c2.ID); err != nil {
		t.Fatalf("ListStatusChanges(c2): %v", err)
	}
	checkEqual(t, "ListStatusChanges(c2)", []grid.StatusChange{other}, got)
	if got, err = st.ListStatusChanges(ctx, pb.ID, c1.ID); err != nil {
		t.Fatalf("ListStatusChanges(other platform): %v", err)
	}
	if len(got) != 0 {
		t.Errorf("ListStatusChanges(other platform) = %+v, want none", got)
	}
	if got, err = st.ListStatusChanges(ctx, pa.ID, grid.NewID("Customer")); err != nil {
		t.Fatalf("ListStatusChanges(missing customer): %v", err)
	}
	if len(got) != 0 {
		t.Errorf("ListStatusChanges(missing customer) = %+v, want none", got)
	}
}

// ---- meta ----

func testMeta(t *testing.T, st grid.Store) {
	ctx := t.Context()
	_, err := st.GetMeta(ctx, "instance-id")
	wantNotFound(t, "GetMeta(missing)", err)

	first := []byte{0x00, 0x01, 0xff, 'a', 0x00}
	var got []byte
	mustTx(t, st, func(tx grid.Tx) (err error) {
		got, err = tx.PutMetaIfAbsent(ctx, "instance-id", first)
		return err
	})
	checkEqual(t, "PutMetaIfAbsent (first)", first, got)
	mustTx(t, st, func(tx grid.Tx) (err error) {
		got, err = tx.PutMetaIfAbsent(ctx, "instance-id", []byte("second"))
		return err
	})
	checkEqual(t, "PutMetaIfAbsent (second) returns the stored value", first, got)
	if got, err = st.GetMeta(ctx, "instance-id"); err != nil {
		t.Fatalf("GetMeta: %v", err)
	}
	checkEqual(t, "GetMeta", first, got)

	mustTx(t, st, func(tx grid.Tx) (err error) {
		got, err = tx.PutMetaIfAbsent(ctx, "other", []byte("x"))
		return err
	})
	checkEqual(t, "PutMetaIfAbsent(other key)", []byte("x"), got)
	if got, err = st.GetMeta(ctx, "instance-id"); err != nil {
		t.Fatalf("GetMeta: %v", err)
	}
	checkEqual(t, "GetMeta after another key", first, got)
}

// ---- idempotency keys ----

func newClaim(platformID, key string, at time.Time) *grid.IdempotencyRecord {
	return &grid.IdempotencyRecord{
		PlatformID: platformID, Key: key, RequestHash: grid.HashSecret("POST /customers " + key),
		State: grid.IdempotencyPending, CreatedAt: at, ClaimedAt: at,
	}
}

func getIdem(t testing.TB, st grid.Store, platformID, key string) *grid.IdempotencyRecord {
	t.Helper()
	r, err := st.GetIdempotencyKey(t.Context(), platformID, key)
	if err != nil {
		t.Fatalf("GetIdempotencyKey(%s): %v", key, err)
	}
	return r
}

func testIdempotencyKeys(t *testing.T, st grid.Store) {
	ctx := t.Context()
	base := now()
	pa, pb := newPlatform(base), newPlatform(base)
	insertPlatforms(t, st, pa, pb)

	_, err := st.GetIdempotencyKey(ctx, pa.ID, "k1")
	wantNotFound(t, "GetIdempotencyKey(missing)", err)

	claim := newClaim(pa.ID, "k1", base)
	mustTx(t, st, func(tx grid.Tx) error { return tx.InsertIdempotencyKey(ctx, claim) })
	checkEqual(t, "GetIdempotencyKey(pending)", claim, getIdem(t, st, pa.ID, "k1"))
	_, err = st.GetIdempotencyKey(ctx, pb.ID, "k1")
	wantNotFound(t, "GetIdempotencyKey(other platform)", err)

	// A taken key is a DuplicateError that leaves the transaction usable: the rest of the
	// transaction still commits.
	other := newClaim(pa.ID, "k1", base.Add(time.Second))
	other.RequestHash = []byte("different")
	marker := []byte("after duplicate")
	err = withTx(ctx, st, func(tx grid.Tx) error {
		err := tx.InsertIdempotencyKey(ctx, other)
		wantDuplicate(t, "InsertIdempotencyKey(taken key)", err, grid.KeyIdempotency)
		got, err := tx.GetIdempotencyKey(ctx, pa.ID, "k1")
		if err != nil {
			return fmt.Errorf("GetIdempotencyKey after duplicate in tx: %w", err)
		}
		checkEqual(t, "GetIdempotencyKey after duplicate in tx", claim, got)
		_, err = tx.PutMetaIfAbsent(ctx, "idem-marker", marker)
		return err
	})
	if err != nil {
		t.Fatalf("transaction continuing after a duplicate idempotency key: %v", err)
	}
	if v, err := st.GetMeta(ctx, "idem-marker"); err != nil || string(v) != string(marker) {
		t.Errorf("write after duplicate idempotency key: GetMeta = %q, %v; want %q", v, err, marker)
	}
	checkEqual(t, "key after rejected insert", claim, getIdem(t, st, pa.ID, "k1"))

	// The same key of another platform is independent.
	claimB := newClaim(pb.ID, "k1", base.Add(time.Minute))
	mustTx(t, st, func(tx grid.Tx) error { return tx.InsertIdempotencyKey(ctx, claimB) })
	checkEqual(t, "GetIdempotencyKey(pb)", claimB, getIdem(t, st, pb.ID, "k1"))

	// Complete is a compare-and-set on the pending claim.
	body := []byte{0x00, 0xff, '{', '}'}
	complete := func(platformID, key string, claimedAt time.Time) error {
		return withTx(ctx, st, func(tx grid.Tx) error {
			return tx.CompleteIdempotencyKey(ctx, platformID, key, claimedAt, 201, "application/json", body)
		})
	}
	wantNotFound(t, "CompleteIdempotencyKey(wrong claim)", complete(pa.ID, "k1", base.Add(time.Microsecond)))
	wantNotFound(t, "CompleteIdempotencyKey(other platform)", complete(pb.ID, "k1", base))
	wantNotFound(t, "CompleteIdempotencyKey(missing key)", complete(pa.ID, "nope", base))
	checkEqual(t, "key after failed completions", claim, getIdem(t, st, pa.ID, "k1"))
	if err := complete(pa.ID, "k1", base); err != nil {
		t.Fatalf("CompleteIdempotencyKey: %v", err)
	}
	done := *claim
	done.State, done.Status, done.ContentType, done.Body = grid.IdempotencyDone, 201, "application/json", body
	checkEqual(t, "GetIdempotencyKey(done)", &done, getIdem(t, st, pa.ID, "k1"))
	wantNotFound(t, "CompleteIdempotencyKey(already done)", complete(pa.ID, "k1", base))
	checkEqual(t, "GetIdempotencyKey(pb) after pa's completion", claimB, getIdem(t, st, pb.ID, "k1"))

	// Delete only removes a pending claim it names.
	del := func(platformID, key string, claimedAt time.Time) error {
		return withTx(ctx, st, func(tx grid.Tx) error { return tx.DeleteIdempotencyKey(ctx, platformID, key, claimedAt) })
	}
	wantNotFound(t, "DeleteIdempotencyKey(done row)", del(pa.ID, "k1", base))
	wantNotFound(t, "DeleteIdempotencyKey(wrong claim)", del(pb.ID, "k1", base))
	wantNotFound(t, "DeleteIdempotencyKey(missing)", del(pa.ID, "nope", base))
	if err := del(pb.ID, "k1", claimB.ClaimedAt); err != nil {
		t.Fatalf("DeleteIdempotencyKey: %v", err)
	}
	_, err = st.GetIdempotencyKey(ctx, pb.ID, "k1")
	wantNotFound(t, "GetIdempotencyKey(deleted)", err)
	checkEqual(t, "pa's key after pb's delete", &done, getIdem(t, st, pa.ID, "k1"))
	wantNotFound(t, "DeleteIdempotencyKey(twice)", del(pb.ID, "k1", claimB.ClaimedAt))

	// Reclaim is a compare-and-set on state and claimed_at, and replaces every field.
	reclaim := func(r, prev *grid.IdempotencyRecord) error {
		return withTx(ctx, st, func(tx grid.Tx) error { return tx.ReclaimIdempotencyKey(ctx, r, prev) })
	}
	fresh := newClaim(pa.ID, "k1", base.Add(time.Hour))
	fresh.RequestHash = []byte("new request")
	stale := *claim // pending, but the row is done now
	wantNotFound(t, "ReclaimIdempotencyKey(state changed)", reclaim(fresh, &stale))
	staleClaim := done
	staleClaim.ClaimedAt = base.Add(-time.Microsecond)
	wantNotFound(t, "ReclaimIdempotencyKey(claim changed)", reclaim(fresh, &staleClaim))
	missing := newClaim(pa.ID, "nope", base)
	wantNotFound(t, "ReclaimIdempotencyKey(missing)", reclaim(missing, missing))
	checkEqual(t, "key after failed reclaims", &done, getIdem(t, st, pa.ID, "k1"))
	if err := reclaim(fresh, &done); err != nil {
		t.Fatalf("ReclaimIdempotencyKey: %v", err)
	}
	checkEqual(t, "GetIdempotencyKey after reclaim", fresh, getIdem(t, st, pa.ID, "k1"))
	wantNotFound(t, "ReclaimIdempotencyKey(with the replaced row)", reclaim(newClaim(pa.ID, "k1", base.Add(2*time.Hour)), &done))
	// A takeover keeps created_at but moves the claim; the old claim can no longer complete.
	takeover := *fresh
	takeover.ClaimedAt = fresh.ClaimedAt.Add(time.Minute)
	if err := reclaim(&takeover, fresh); err != nil {
		t.Fatalf("ReclaimIdempotencyKey(takeover): %v", err)
	}
	wantNotFound(t, "CompleteIdempotencyKey(superseded claim)", complete(pa.ID, "k1", fresh.ClaimedAt))
	wantNotFound(t, "DeleteIdempotencyKey(superseded claim)", del(pa.ID, "k1", fresh.ClaimedAt))
	checkEqual(t, "key after takeover", &takeover, getIdem(t, st, pa.ID, "k1"))

	// Rolled back inserts leave nothing.
	err = st.WithTx(ctx, func(tx grid.Tx) error {
		if err := tx.InsertIdempotencyKey(ctx, newClaim(pa.ID, "rolled-back", base)); err != nil {
			return err
		}
		return errAbort
	})
	if !errors.Is(err, errAbort) {
		t.Fatalf("WithTx: %v, want the error of fn", err)
	}
	_, err = st.GetIdempotencyKey(ctx, pa.ID, "rolled-back")
	wantNotFound(t, "GetIdempotencyKey(rolled back)", err)

	// The sweep removes rows created strictly before the cutoff, on every platform.
	cut := base.Add(10 * time.Hour)
	var rows []*grid.IdempotencyRecord
	for i, off := range []time.Duration{-time.Hour, -time.Microsecond, 0, time.Microsecond} {
		pid := pa.ID
		if i%2 == 1 {
			pid = pb.ID
		}
		r := newClaim(pid, fmt.Sprintf("sweep-%d", i), cut.Add(off))
		r.ClaimedAt = cut.Add(time.Hour) // the sweep goes by created_at, not claimed_at
		rows = append(rows, r)
	}
	mustTx(t, st, func(tx grid.Tx) error {
		for _, r := range rows {
			if err := tx.InsertIdempotencyKey(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
	var n int64
	mustTx(t, st, func(tx grid.Tx) (err error) {
		n, err = tx.DeleteIdempotencyKeysBefore(ctx, cut)
		return err
	})
	// k1 (created at base+1h) and the two rows before the cutoff.
	if n != 3 {
		t.Errorf("DeleteIdempotencyKeysBefore removed %d rows, want 3", n)
	}
	for i, r := range rows {
		_, err := st.GetIdempotencyKey(ctx, r.PlatformID, r.Key)
		if i < 2 {
			wantNotFound(t, "GetIdempotencyKey(swept "+r.Key+")", err)
		} else if err != nil {
			t.Errorf("GetIdempotencyKey(%s, created at the cutoff or later): %v", r.Key, err)
		}
	}
	_, err = st.GetIdempotencyKey(ctx, pa.ID, "k1")
	wantNotFound(t, "GetIdempotencyKey(k1 after sweep)", err)
}

// testConcurrentIdempotencyClaim has 20 requests claim one key at once: exactly one gets it.
func testConcurrentIdempotencyClaim(t *testing.T, st grid.Store) {
	ctx := t.Context()
	base := now()
	p := newPlatform(base)
	insertPlatforms(t, st, p)

	const n = 20
	errs := make([]error, n)
	claims := make([]*grid.IdempotencyRecord, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		claims[i] = newClaim(p.ID, "shared", base.Add(time.Duration(i)*time.Microsecond))
		wg.Go(func() {
			<-start
			errs[i] = withTx(ctx, st, func(tx grid.Tx) error { return tx.InsertIdempotencyKey(ctx, claims[i]) })
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil:
			if winner >= 0 {
				t.Errorf("claims %d and %d both succeeded", winner, i)
			}
			winner = i
		default:
			wantDuplicate(t, fmt.Sprintf("claim %d", i), err, grid.KeyIdempotency)
		}
	}
	if winner < 0 {
		t.Fatal("no claim succeeded")
	}
	checkEqual(t, "the stored claim", claims[winner], getIdem(t, st, p.ID, "shared"))
}

// ---- concurrency ----

func testConcurrentDuplicateInsert(t *testing.T, st grid.Store) {
	ctx := t.Context()
	base := now()
	p := newPlatform(base)
	insertPlatforms(t, st, p)

	const n = 20
	pcid := "same-" + grid.NewID("x")
	cs := make([]*grid.Customer, n)
	for i := range cs {
		cs[i] = newCustomer(p.ID, base)
		cs[i].PlatformCustomerID = pcid
		cs[i].Currencies = []string{"USD", "EUR"}
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = insertCustomer(ctx, st, cs[i])
		})
	}
	close(start)
	wg.Wait()

	winner := -1
	for i, err := range errs {
		var d *grid.DuplicateError
		switch {
		case err == nil:
			if winner >= 0 {
				t.Errorf("inserts %d and %d both succeeded", winner, i)
			}
			winner = i
		case errors.As(err, &d):
			if d.Key != grid.KeyPlatformCustomerID {
				t.Errorf("insert %d: DuplicateError{Key: %q}, want %q", i, d.Key, grid.KeyPlatformCustomerID)
			}
		default:
			t.Errorf("insert %d: %v, want success or DuplicateError", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no insert succeeded")
	}
	page, err := st.ListCustomers(ctx, p.ID, grid.CustomerFilter{IncludeDeleted: true, Limit: grid.MaxPageSize})
	if err != nil {
		t.Fatalf("ListCustomers: %v", err)
	}
	if len(page.Customers) != 1 || page.TotalCount != 1 {
		t.Fatalf("after concurrent inserts: %d customers stored (TotalCount %d), want 1", len(page.Customers), page.TotalCount)
	}
	checkEqual(t, "the stored customer", cs[winner], page.Customers[0])
	page, err = st.ListCustomers(ctx, p.ID, grid.CustomerFilter{Currency: "EUR", IncludeDeleted: true})
	if err != nil {
		t.Fatalf("ListCustomers(EUR): %v", err)
	}
	checkEqual(t, "currency rows after concurrent inserts", []string{cs[winner].ID}, customerIDs(page.Customers))
}
