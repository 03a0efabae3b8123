package httpapi_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/gridd/gridd/internal/grid"
)

var sortStrings = cmpopts.SortSlices(func(a, b string) bool { return a < b })

// principalOf returns the caller a credential authenticates as.
func principalOf(t testing.TB, e *env, c cred) *grid.Principal {
	t.Helper()
	p, err := e.svc.Authenticate(context.Background(), c.id, c.secret)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// listIDs lists customers with a query and returns the page and the ids on it.
func listIDs(t testing.TB, e *env, c *cred, query string) (resp, []string) {
	t.Helper()
	r := e.do(c, "GET", "/customers"+query, "").want(t, 200, "")
	var ids []string
	for _, item := range r.body["data"].([]any) {
		ids = append(ids, item.(map[string]any)["id"].(string))
	}
	return r, ids
}

func TestListCustomersFilters(t *testing.T) {
	e := newEnv(t)
	p, c := e.platform(sandbox())
	a := e.do(&c, "POST", "/customers", `{"customerType":"INDIVIDUAL","platformCustomerId":"a-1","region":"US","currencies":["USD"],"umaAddress":"$Alice@uma.acme.test"}`).want(t, 201, "")
	b := e.do(&c, "POST", "/customers", `{"customerType":"BUSINESS","platformCustomerId":"b-1","region":"MX","currencies":["MXN"],
	  "businessInfo":{"legalName":"Acme SA","country":"MX","taxId":"ACM010101AAA","incorporatedOn":"2015-01-01"}}`).want(t, 201, "")
	cc := e.do(&c, "POST", "/customers", `{"customerType":"INDIVIDUAL","platformCustomerId":"c-1","region":"BR","currencies":["BRL","USDC"]}`).want(t, 201, "")
	time.Sleep(1100 * time.Millisecond) // timestamps go out in whole seconds
	d := e.do(&c, "POST", "/customers", `{"customerType":"INDIVIDUAL","platformCustomerId":"d-1","region":"US"}`).want(t, 201, "")
	e.do(&c, "PATCH", "/customers/"+a.str("id"), `{"customerType":"INDIVIDUAL","fullName":"Alice Example"}`).want(t, 200, "")
	e.do(&c, "DELETE", "/customers/"+b.str("id"), "").want(t, 200, "")
	A, B, C, D := a.str("id"), b.str("id"), cc.str("id"), d.str("id")

	q := url.QueryEscape
	cases := []struct {
		query string
		want  []string
	}{
		{"", []string{A, C, D}},
		{"?platformCustomerId=a-1", []string{A}},
		{"?platformCustomerId=b-1", nil},
		{"?platformCustomerId=b-1&isIncludingDeleted=true", []string{B}},
		{"?customerType=INDIVIDUAL", []string{A, C, D}},
		{"?customerType=BUSINESS", nil},
		{"?customerType=BUSINESS&isIncludingDeleted=true", []string{B}},
		{"?isIncludingDeleted=true", []string{A, B, C, D}},
		{"?isIncludingDeleted=false", []string{A, C, D}},
		{"?region=BR", []string{C}},
		{"?region=US", []string{A, D}},
		{"?currency=USDC", []string{C}},
		{"?currency=USD", []string{A, D}},
		{"?currency=MXN&isIncludingDeleted=true", []string{B}},
		{"?umaAddress=" + q("$ALICE@UMA.ACME.TEST"), []string{A}},
		{"?umaAddress=" + q("$nobody@uma.acme.test"), nil},
		{"?createdAfter=" + q(d.str("createdAt")), []string{D}},
		{"?createdBefore=" + q(cc.str("createdAt")), []string{A, C}},
		{"?createdBefore=" + q(cc.str("createdAt")) + "&isIncludingDeleted=true", []string{A, B, C}},
		{"?createdAfter=" + q(d.str("createdAt")) + "&createdBefore=" + q(d.str("createdAt")), []string{D}},
		{"?updatedAfter=" + q(d.str("createdAt")), []string{A, D}},
		{"?updatedBefore=" + q(cc.str("createdAt")), []string{C}},
		{"?createdAfter=2999-01-01T00:00:00Z", nil},
		{"?createdBefore=2000-01-01T00:00:00.5Z", nil},
		{"?region=US&customerType=INDIVIDUAL&currency=USD&platformCustomerId=d-1", []string{D}},
	}
	for _, tc := range cases {
		r, got := listIDs(t, e, &c, tc.query)
		if d := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); d != "" {
			t.Errorf("GET /customers%s ids (-want +got):\n%s", tc.query, d)
		}
		if r.body["totalCount"] != float64(len(tc.want)) || r.body["hasMore"] != false {
			t.Errorf("GET /customers%s: totalCount=%v hasMore=%v, want %d and false", tc.query, r.body["totalCount"], r.body["hasMore"], len(tc.want))
		}
		if _, ok := r.body["nextCursor"]; ok {
			t.Errorf("GET /customers%s: nextCursor on the last page: %s", tc.query, r.raw)
		}
	}

	// Every bad parameter is named in one answer.
	bad := e.do(&c, "GET", "/customers?limit=0&customerType=PERSON&createdAfter=yesterday&updatedBefore=2025-13-01T00:00:00Z&isIncludingDeleted=maybe&cursor=bogus", "").want(t, 400, "INVALID_INPUT")
	want := []string{"createdAfter", "cursor", "customerType", "isIncludingDeleted", "limit", "updatedBefore"}
	if d := cmp.Diff(want, bad.fields(), sortStrings); d != "" {
		t.Errorf("fields (-want +got):\n%s", d)
	}
	for _, limit := range []string{"101", "-1", "abc", "2.5"} {
		r := e.do(&c, "GET", "/customers?limit="+limit, "").want(t, 400, "INVALID_INPUT")
		if d := cmp.Diff([]string{"limit"}, r.fields()); d != "" {
			t.Errorf("limit=%s fields (-want +got):\n%s", limit, d)
		}
	}
	for _, limit := range []string{"1", "100"} {
		e.do(&c, "GET", "/customers?limit="+limit, "").want(t, 200, "")
	}

	manager := e.token(p, grid.PermManage)
	e.do(&manager, "GET", "/customers", "").want(t, 403, "FORBIDDEN")
	_, other := e.platform(grid.PlatformSpec{Name: "other", UMADomain: "uma.other.test", Sandbox: true})
	if r, ids := listIDs(t, e, &other, "?isIncludingDeleted=true"); len(ids) != 0 || r.body["totalCount"] != float64(0) {
		t.Errorf("another platform lists %v", ids)
	}
}

func TestListCustomersPaging(t *testing.T) {
	e := newEnv(t)
	_, c := e.platform(sandbox())
	const n = 120
	created := map[string]bool{}
	for i := 0; i < n; i++ {
		r := e.do(&c, "POST", "/customers", fmt.Sprintf(`{"customerType":"INDIVIDUAL","platformCustomerId":"p-%03d"}`, i)).want(t, 201, "")
		created[r.str("id")] = true
	}
	seen := map[string]int{}
	cursor, pages := "", 0
	for {
		r, ids := listIDs(t, e, &c, "?limit=7"+cursor)
		pages++
		// The total is counted on the first page only.
		if pages == 1 && r.body["totalCount"] != float64(n) {
			t.Errorf("page 1: totalCount = %v, want %d", r.body["totalCount"], n)
		}
		if _, ok := r.body["totalCount"]; pages > 1 && ok {
			t.Errorf("page %d carries totalCount %v; only the first page counts", pages, r.body["totalCount"])
		}
		for _, id := range ids {
			seen[id]++
		}
		if r.body["hasMore"] != true {
			if _, ok := r.body["nextCursor"]; ok {
				t.Errorf("last page carries nextCursor: %s", r.raw)
			}
			if len(ids) != n%7 {
				t.Errorf("last page has %d customers, want %d", len(ids), n%7)
			}
			break
		}
		if len(ids) != 7 || r.str("nextCursor") == "" {
			t.Fatalf("page %d: %d customers, nextCursor %q; want 7 and a cursor", pages, len(ids), r.str("nextCursor"))
		}
		if pages > n {
			t.Fatal("paging does not end")
		}
		cursor = "&cursor=" + url.QueryEscape(r.str("nextCursor"))
	}
	if pages != (n+6)/7 {
		t.Errorf("%d pages, want %d", pages, (n+6)/7)
	}
	for id := range created {
		if seen[id] != 1 {
			t.Errorf("customer %s seen %d times, want once", id, seen[id])
		}
	}
	if len(seen) != n {
		t.Errorf("saw %d distinct customers, want %d", len(seen), n)
	}
}

// TestListCustomersPagingUnderWrites pages through the customers while another goroutine
// creates and deletes customers: every customer that existed before and was never deleted is
// seen exactly once, and no customer twice.
func TestListCustomersPagingUnderWrites(t *testing.T) {
	e := newEnv(t)
	_, c := e.platform(sandbox())
	pr := principalOf(t, e, c)
	ctx := context.Background()
	const n = 90
	var before []string
	for i := 0; i < n; i++ {
		cust, err := e.svc.CreateCustomer(ctx, pr, &grid.CustomerInput{CustomerType: ptrTo("INDIVIDUAL"), PlatformCustomerID: ptrTo(fmt.Sprintf("old-%03d", i))})
		if err != nil {
			t.Fatal(err)
		}
		before = append(before, cust.ID)
	}

	var (
		mu      sync.Mutex
		deleted = map[string]bool{}
		rounds  atomic.Int64
		// Each page lets the writer run one round, concurrently with the next page. Paging
		// by id would never end if customers were added faster than pages are read.
		ticks = make(chan struct{}, 1)
		stop  = make(chan struct{})
		done  = make(chan struct{})
	)
	var once sync.Once
	halt := func() { once.Do(func() { close(stop); <-done }) }
	t.Cleanup(halt) // before the store closes
	go func() {
		defer close(done)
		rng := rand.New(rand.NewPCG(1, 2))
		var fresh []string
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-ticks:
			}
			for j := 0; j < 3; j++ {
				cust, err := e.svc.CreateCustomer(ctx, pr, &grid.CustomerInput{CustomerType: ptrTo("INDIVIDUAL"), PlatformCustomerID: ptrTo(fmt.Sprintf("new-%04d-%d", i, j))})
				if err != nil {
					t.Errorf("concurrent create: %v", err)
					return
				}
				fresh = append(fresh, cust.ID)
			}
			victims := []string{before[rng.IntN(len(before))], before[rng.IntN(len(before))], fresh[rng.IntN(len(fresh))]}
			for _, id := range victims {
				mu.Lock()
				// Mark it before the delete can be seen, so the check below never misses one.
				already := deleted[id]
				deleted[id] = true
				mu.Unlock()
				if already {
					continue
				}
				if _, err := e.svc.DeleteCustomer(ctx, pr, id); err != nil {
					t.Errorf("concurrent delete %s: %v", id, err)
					return
				}
			}
			rounds.Add(1)
		}
	}()

	seen := map[string]int{}
	cursor := ""
	for pages := 0; ; pages++ {
		r, ids := listIDs(t, e, &c, "?limit=7"+cursor)
		for _, id := range ids {
			seen[id]++
		}
		if r.body["hasMore"] != true {
			break
		}
		if pages > 10*n {
			t.Fatal("paging does not end")
		}
		cursor = "&cursor=" + url.QueryEscape(r.str("nextCursor"))
		select {
		case ticks <- struct{}{}:
		default:
		}
	}
	halt()

	if rounds.Load() == 0 {
		t.Fatal("the writer made no change while paging")
	}
	kept := 0
	for _, id := range before {
		if deleted[id] {
			continue
		}
		kept++
		if seen[id] != 1 {
			t.Errorf("customer %s existed throughout but was seen %d times", id, seen[id])
		}
	}
	for id, k := range seen {
		if k > 1 {
			t.Errorf("customer %s seen %d times", id, k)
		}
	}
	if kept == 0 || kept == n {
		t.Errorf("%d of %d old customers survived; the test wants some deleted and some kept", kept, n)
	}
}

func ptrTo[T any](v T) *T { return &v }

func TestUpdateCustomer(t *testing.T) {
	e := newEnv(t)
	p, c := e.platform(sandbox())
	orig := e.do(&c, "POST", "/customers", `{"customerType":"INDIVIDUAL","platformCustomerId":"u-1","region":"US","currencies":["USD"],
	  "fullName":"Jane Doe","email":"jane@example.com","idType":"SSN","identifier":"123-45-6789"}`).want(t, 201, "")
	id := orig.str("id")
	other := e.do(&c, "POST", "/customers", `{"customerType":"INDIVIDUAL","platformCustomerId":"u-2","umaAddress":"$taken@uma.acme.test"}`).want(t, 201, "")
	time.Sleep(1100 * time.Millisecond) // timestamps go out in whole seconds

	u := e.do(&c, "PATCH", "/customers/"+url.PathEscape(id), `{"customerType":"INDIVIDUAL","platformCustomerId":"u-1b","region":"US",
	  "currencies":["USD","EUR"],"fullName":"Jane Roe","umaAddress":"$Jane.Roe@uma.acme.test","identifier":"987-65-4321",
	  "address":{"line1":"1 Main St","postalCode":"94105","country":"US"},
	  "endUserTermsConsent":{"acceptedAt":"2025-07-21T17:32:28Z","ipAddress":"198.51.100.24","termsVersion":"V1","acceptanceMethod":"CHECKBOX"}}`).want(t, 200, "")
	want := map[string]any{
		"id": id, "platformCustomerId": "u-1b", "customerType": "INDIVIDUAL", "kycStatus": "APPROVED",
		"umaAddress": "$jane.roe@uma.acme.test", "region": "US", "currencies": []any{"USD", "EUR"},
		"email": "jane@example.com", "fullName": "Jane Roe", "idType": "SSN", "countryOfIssuance": "US",
		"address":             map[string]any{"line1": "1 Main St", "postalCode": "94105", "country": "US"},
		"endUserTermsConsent": map[string]any{"acceptedAt": "2025-07-21T17:32:28Z", "ipAddress": "198.51.100.24", "termsVersion": "V1", "acceptanceMethod": "CHECKBOX"},
		"createdAt":           orig.str("createdAt"), "updatedAt": u.str("updatedAt"), "isDeleted": false,
	}
	if d := cmp.Diff(want, u.body); d != "" {
		t.Errorf("PATCH answer (-want +got):\n%s", d)
	}
	if u.str("updatedAt") <= orig.str("updatedAt") {
		t.Errorf("updatedAt = %s, want later than %s", u.str("updatedAt"), orig.str("updatedAt"))
	}
	if g := e.do(&c, "GET", "/customers/"+id, "").want(t, 200, ""); !cmp.Equal(u.body, g.body) {
		t.Errorf("GET after PATCH differs (-patch +get):\n%s", cmp.Diff(u.body, g.body))
	}
	stored, err := e.store.GetCustomer(context.Background(), p.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	if sec, err := e.svc.OpenSecrets(stored); err != nil || sec.Identifier != "987-65-4321" {
		t.Errorf("stored secrets = %+v, %v; want the new identifier", sec, err)
	}
	// The old identifiers are free again; the new ones are taken.
	e.do(&c, "POST", "/customers", `{"customerType":"INDIVIDUAL","platformCustomerId":"u-1","umaAddress":"$u-1@uma.acme.test"}`).want(t, 201, "")
	e.do(&c, "POST", "/customers", `{"customerType":"INDIVIDUAL","platformCustomerId":"u-1b"}`).want(t, 409, "CONFLICT")

	viewer := e.token(p, grid.PermView)
	_, stranger := e.platform(grid.PlatformSpec{Name: "other", UMADomain: "uma.other.test", Sandbox: true})
	gone := e.do(&c, "POST", "/customers", `{"customerType":"INDIVIDUAL","platformCustomerId":"gone"}`).want(t, 201, "")
	e.do(&c, "DELETE", "/customers/"+gone.str("id"), "").want(t, 200, "")

	path := "/customers/" + id
	cases := []struct {
		name, path, body string
		who              *cred
		status           int
		code             string
		fields           []string
	}{
		{"customerType missing", path, `{"fullName":"X"}`, &c, 400, "INVALID_INPUT", []string{"customerType"}},
		{"customerType differs", path, `{"customerType":"BUSINESS","businessInfo":{"legalName":"X"}}`, &c, 400, "INVALID_INPUT", []string{"customerType"}},
		{"region differs", path, `{"customerType":"INDIVIDUAL","region":"MX"}`, &c, 400, "INVALID_INPUT", []string{"region"}},
		{"email and phone together", path, `{"customerType":"INDIVIDUAL","email":"a@example.com","phoneNumber":"+14155551234"}`, &c, 400, "INVALID_INPUT", []string{"email", "phoneNumber"}},
		{"unsupported currency", path, `{"customerType":"INDIVIDUAL","currencies":["JPY"]}`, &c, 400, "INVALID_INPUT", []string{"currencies[0]"}},
		{"status from an unregulated platform", path, `{"customerType":"INDIVIDUAL","kycStatus":"REJECTED"}`, &c, 400, "INVALID_INPUT", []string{"kycStatus"}},
		{"invalid values", path, `{"customerType":"INDIVIDUAL","birthDate":"1990-02-30","nickname":"J"}`, &c, 400, "INVALID_INPUT", []string{"nickname"}},
		{"invalid date", path, `{"customerType":"INDIVIDUAL","birthDate":"1990-02-30","address":{"line1":"x","country":"US"}}`, &c, 400, "INVALID_INPUT", []string{"address.postalCode", "birthDate"}},
		{"malformed UMA address", path, `{"customerType":"INDIVIDUAL","umaAddress":"jane@uma.acme.test"}`, &c, 400, "INVALID_UMA_ADDRESS", nil},
		{"UMA address taken", path, `{"customerType":"INDIVIDUAL","umaAddress":"$TAKEN@uma.acme.test"}`, &c, 409, "UMA_ADDRESS_EXISTS", nil},
		{"platformCustomerId taken", path, `{"customerType":"INDIVIDUAL","platformCustomerId":"` + other.str("platformCustomerId") + `"}`, &c, 409, "CONFLICT", nil},
		{"unknown terms version", path, `{"customerType":"INDIVIDUAL","endUserTermsConsent":{"acceptedAt":"2025-07-21T17:32:28Z","ipAddress":"198.51.100.24","termsVersion":"V7","acceptanceMethod":"CHECKBOX"}}`, &c, 400, "END_USER_TERMS_VERSION_NOT_FOUND", nil},
		{"not JSON", path, `{"customerType":`, &c, 400, "INVALID_INPUT", []string{"body"}},
		{"deleted customer", "/customers/" + gone.str("id"), `{"customerType":"INDIVIDUAL","fullName":"X"}`, &c, 410, "CUSTOMER_DELETED", nil},
		{"unknown customer", "/customers/Customer:019542f5-b3e7-7d02-8000-000000000001", `{"customerType":"INDIVIDUAL"}`, &c, 404, "USER_NOT_FOUND", nil},
		{"another platform's customer", path, `{"customerType":"INDIVIDUAL","fullName":"X"}`, &stranger, 404, "USER_NOT_FOUND", nil},
		{"view-only token", path, `{"customerType":"INDIVIDUAL","fullName":"X"}`, &viewer, 403, "FORBIDDEN", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(tc.who, "PATCH", tc.path, tc.body).want(t, tc.status, tc.code)
			if tc.fields != nil {
				if d := cmp.Diff(tc.fields, r.fields(), sortStrings); d != "" {
					t.Errorf("fields (-want +got):\n%s\nbody: %s", d, r.raw)
				}
			}
		})
	}
	if g := e.do(&c, "GET", path, "").want(t, 200, ""); !cmp.Equal(u.body, g.body) {
		t.Errorf("rejected updates changed the customer (-before +after):\n%s", cmp.Diff(u.body, g.body))
	}

	// The region may be repeated, email and phone may change one at a time.
	e.do(&c, "PATCH", path, `{"customerType":"INDIVIDUAL","region":"US","email":"jane.roe@example.com"}`).want(t, 200, "")
	r := e.do(&c, "PATCH", path, `{"customerType":"INDIVIDUAL","phoneNumber":"+14155551234"}`).want(t, 200, "")
	if r.str("email") != "jane.roe@example.com" || r.str("phoneNumber") != "+14155551234" {
		t.Errorf("after two contact updates: email %q phone %q", r.str("email"), r.str("phoneNumber"))
	}
	// A deleted customer's platformCustomerId may be taken over.
	e.do(&c, "PATCH", path, `{"customerType":"INDIVIDUAL","platformCustomerId":"gone"}`).want(t, 200, "")
}

func TestUpdateBusinessCustomer(t *testing.T) {
	e := newEnv(t)
	p, c := e.platform(sandbox())
	b := e.do(&c, "POST", "/customers", `{"customerType":"BUSINESS","region":"US","businessInfo":{"legalName":"Acme Corporation","country":"US","taxId":"47-1234567","incorporatedOn":"2018-03-14"}}`).want(t, 201, "")
	path := "/customers/" + b.str("id")
	r := e.do(&c, "PATCH", path, `{"customerType":"BUSINESS","businessInfo":{"doingBusinessAs":"Acme"}}`).want(t, 200, "")
	want := map[string]any{"legalName": "Acme Corporation", "doingBusinessAs": "Acme", "country": "US", "incorporatedOn": "2018-03-14"}
	if d := cmp.Diff(want, r.body["businessInfo"]); d != "" {
		t.Errorf("businessInfo (-want +got):\n%s", d)
	}
	e.do(&c, "PATCH", path, `{"customerType":"BUSINESS","businessInfo":{"taxId":"47-7654321"}}`).want(t, 200, "")
	stored, err := e.store.GetCustomer(context.Background(), p.ID, b.str("id"))
	if err != nil {
		t.Fatal(err)
	}
	if sec, err := e.svc.OpenSecrets(stored); err != nil || sec.TaxID != "47-7654321" {
		t.Errorf("stored secrets = %+v, %v; want the new taxId", sec, err)
	}
	bad := e.do(&c, "PATCH", path, `{"customerType":"BUSINESS","fullName":"X","kycStatus":"APPROVED","businessInfo":{"entityType":"GUILD"}}`).want(t, 400, "INVALID_INPUT")
	if d := cmp.Diff([]string{"businessInfo.entityType", "fullName", "kycStatus"}, bad.fields(), sortStrings); d != "" {
		t.Errorf("fields (-want +got):\n%s", d)
	}
}

func TestUpdateStatusOnRegulatedPlatform(t *testing.T) {
	e := newEnv(t)
	_, c := e.platform(grid.PlatformSpec{Name: "bank", UMADomain: "uma.bank.test", Regulated: true, ContactVerification: []string{"email"}})
	tokenID := principalOf(t, e, c).Token.ID
	cust := e.do(&c, "POST", "/customers", `{"customerType":"INDIVIDUAL","kycStatus":"PENDING","email":"jane@example.com"}`).want(t, 201, "")
	path := "/customers/" + cust.str("id")
	r := e.do(&c, "PATCH", path, `{"customerType":"INDIVIDUAL","kycStatus":"APPROVED"}`).want(t, 200, "")
	if r.str("kycStatus") != "APPROVED" {
		t.Errorf("kycStatus = %q, want APPROVED", r.str("kycStatus"))
	}
	e.do(&c, "PATCH", path, `{"customerType":"INDIVIDUAL","kycStatus":"APPROVED"}`).want(t, 200, "")
	e.do(&c, "PATCH", path, `{"customerType":"INDIVIDUAL","kybStatus":"APPROVED"}`).want(t, 400, "INVALID_INPUT")

	h := e.do(&c, "GET", path+"/status-history", "").want(t, 200, "")
	entries := h.body["data"].([]any)
	if len(entries) != 2 {
		t.Fatalf("history has %d entries, want 2 (a repeated status records nothing): %s", len(entries), h.raw)
	}
	got := entries[1].(map[string]any)
	want := map[string]any{"id": got["id"], "from": "PENDING", "to": "APPROVED", "reason": "SET_BY_PLATFORM", "actor": tokenID, "at": r.str("updatedAt")}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("history entry (-want +got):\n%s", d)
	}

	// A new email must be verified again.
	r = e.do(&c, "PATCH", path, `{"customerType":"INDIVIDUAL","email":"jane.roe@example.com"}`).want(t, 200, "")
	if cv, _ := r.body["contactVerification"].(map[string]any); cv["email"] != "PENDING" {
		t.Errorf("contactVerification = %v, want email PENDING", r.body["contactVerification"])
	}
}

func TestDeleteCustomer(t *testing.T) {
	e := newEnv(t)
	p, c := e.platform(sandbox())
	orig := e.do(&c, "POST", "/customers", seedBody).want(t, 201, "")
	id := orig.str("id")
	path := "/customers/" + url.PathEscape(id)

	e.do(ptrTo(e.token(p, grid.PermView)), "DELETE", path, "").want(t, 403, "FORBIDDEN")
	_, stranger := e.platform(grid.PlatformSpec{Name: "other", UMADomain: "uma.other.test", Sandbox: true})
	e.do(&stranger, "DELETE", path, "").want(t, 404, "USER_NOT_FOUND")
	e.do(&c, "DELETE", "/customers/Customer:019542f5-b3e7-7d02-8000-000000000001", "").want(t, 404, "USER_NOT_FOUND")

	d := e.do(&c, "DELETE", path, "").want(t, 200, "")
	if d.body["isDeleted"] != true || d.str("id") != id || d.str("platformCustomerId") != "ind-9f84e0c2" {
		t.Errorf("DELETE answer = %s, want the customer with isDeleted true", d.raw)
	}
	g := e.do(&c, "GET", path, "").want(t, 200, "")
	if d := cmp.Diff(d.body, g.body); d != "" {
		t.Errorf("GET after DELETE differs (-delete +get):\n%s", d)
	}
	e.do(&c, "DELETE", path, "").want(t, 410, "CUSTOMER_DELETED")
	e.do(&c, "PATCH", path, `{"customerType":"INDIVIDUAL","fullName":"X"}`).want(t, 410, "CUSTOMER_DELETED")

	// Its platformCustomerId and UMA address are free again.
	again := e.do(&c, "POST", "/customers", seedBody).want(t, 201, "")
	if again.str("umaAddress") != orig.str("umaAddress") {
		t.Errorf("new umaAddress = %q, want the freed %q", again.str("umaAddress"), orig.str("umaAddress"))
	}
	if _, ids := listIDs(t, e, &c, ""); !cmp.Equal(ids, []string{again.str("id")}) {
		t.Errorf("list = %v, want only the new customer", ids)
	}
	if _, ids := listIDs(t, e, &c, "?isIncludingDeleted=true"); !cmp.Equal(ids, []string{id, again.str("id")}) {
		t.Errorf("list with deleted = %v, want both", ids)
	}
	// A delete records nothing in the verification history.
	h := e.do(&c, "GET", path+"/status-history", "").want(t, 200, "")
	if n := len(h.body["data"].([]any)); n != 1 {
		t.Errorf("history of the deleted customer has %d entries, want 1: %s", n, h.raw)
	}
}

func TestEndUserTerms(t *testing.T) {
	e := newEnv(t)
	p, c := e.platform(sandbox())
	r := e.do(&c, "GET", "/customers/end-user-terms", "").want(t, 200, "")
	want := map[string]any{"version": "V1", "url": grid.TermsURL}
	if d := cmp.Diff(want, r.body); d != "" {
		t.Errorf("terms (-want +got):\n%s", d)
	}
	e.do(ptrTo(e.token(p, grid.PermManage)), "GET", "/customers/end-user-terms", "").want(t, 403, "FORBIDDEN")
	e.do(nil, "GET", "/customers/end-user-terms", "").want(t, 401, "UNAUTHORIZED")
	// The version it names is the one consent must carry.
	e.do(&c, "POST", "/customers", `{"customerType":"INDIVIDUAL","endUserTermsConsent":{"acceptedAt":"2025-07-21T17:32:28Z","ipAddress":"198.51.100.24","termsVersion":"`+r.str("version")+`","acceptanceMethod":"CLICK_TO_ACCEPT"}}`).want(t, 201, "")
}

func TestStatusHistory(t *testing.T) {
	e := newEnv(t)
	p, c := e.platform(sandbox())
	cust := e.do(&c, "POST", "/customers", `{"customerType":"INDIVIDUAL","fullName":"Jane Doe 001"}`).want(t, 201, "")
	path := "/customers/" + cust.str("id")
	h := e.do(ptrTo(e.token(p, grid.PermView)), "GET", path+"/status-history", "").want(t, 200, "")
	entries := h.body["data"].([]any)
	if len(entries) != 1 {
		t.Fatalf("history = %s, want one entry", h.raw)
	}
	first := entries[0].(map[string]any)
	want := map[string]any{"id": first["id"], "to": "PENDING", "reason": "SANDBOX_SUFFIX", "actor": principalOf(t, e, c).Token.ID, "at": cust.str("createdAt")}
	if d := cmp.Diff(want, first); d != "" {
		t.Errorf("first entry (-want +got):\n%s", d)
	}
	if id, _ := first["id"].(string); !strings.HasPrefix(id, "StatusChange:") {
		t.Errorf("entry id = %q, want StatusChange:<uuid>", id)
	}

	e.do(ptrTo(e.token(p, grid.PermManage)), "GET", path+"/status-history", "").want(t, 403, "FORBIDDEN")
	_, stranger := e.platform(grid.PlatformSpec{Name: "other", UMADomain: "uma.other.test", Sandbox: true})
	e.do(&stranger, "GET", path+"/status-history", "").want(t, 404, "USER_NOT_FOUND")
	e.do(&c, "GET", "/customers/Customer:019542f5-b3e7-7d02-8000-000000000001/status-history", "").want(t, 404, "USER_NOT_FOUND")

	// Routing around the extension: Grid has no kyc-history, other methods are not allowed,
	// and Grid's external-account reads still answer 501.
	e.do(&c, "GET", path+"/kyc-history", "").want(t, 404, "NOT_FOUND")
	e.do(&c, "POST", path+"/no-such-thing", `{}`).want(t, 404, "NOT_FOUND")
	r := e.do(&c, "DELETE", path+"/status-history", "").want(t, 405, "METHOD_NOT_ALLOWED")
	if allow := r.header.Get("Allow"); allow != "GET" {
		t.Errorf("Allow = %q, want GET", allow)
	}
	e.do(&c, "GET", "/customers/external-accounts/ExternalAccount:1", "").want(t, 501, "NOT_IMPLEMENTED")
}
