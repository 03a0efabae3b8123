package httpapi_test

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/gridd/gridd/internal/grid"
)

// The request body of the POST /customers seed page.
const seedBody = `{
  "customerType": "INDIVIDUAL",
  "platformCustomerId": "ind-9f84e0c2",
  "region": "US",
  "currencies": ["USD", "USDC"],
  "fullName": "Jane Smith",
  "birthDate": "1990-01-15",
  "nationality": "US"
}`

var (
	reCustomerID = regexp.MustCompile(`^Customer:[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	reTimestamp  = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$`)
)

func sandbox() grid.PlatformSpec {
	return grid.PlatformSpec{Name: "acme", UMADomain: "uma.acme.test", Sandbox: true}
}

func TestSeedCreateAndGet(t *testing.T) {
	e := newEnv(t)
	_, c := e.platform(sandbox())
	r := e.do(&c, "POST", "/customers", seedBody).want(t, 201, "")

	id := r.str("id")
	if !reCustomerID.MatchString(id) {
		t.Errorf("id = %q, want Customer:<UUIDv7>", id)
	}
	for _, k := range []string{"createdAt", "updatedAt"} {
		if !reTimestamp.MatchString(r.str(k)) {
			t.Errorf("%s = %q, want RFC 3339 UTC", k, r.str(k))
		}
	}
	want := map[string]any{
		"id": id, "platformCustomerId": "ind-9f84e0c2", "customerType": "INDIVIDUAL",
		"umaAddress": "$ind-9f84e0c2@uma.acme.test", "region": "US", "currencies": []any{"USD", "USDC"},
		"createdAt": r.str("createdAt"), "updatedAt": r.str("createdAt"), "isDeleted": false,
		"kycStatus": "APPROVED", "fullName": "Jane Smith", "birthDate": "1990-01-15", "nationality": "US",
	}
	if d := cmp.Diff(want, r.body); d != "" {
		t.Errorf("POST /customers body (-want +got):\n%s", d)
	}

	for _, path := range []string{"/customers/" + id, "/customers/" + url.PathEscape(id), "/customers/" + strings.Replace(id, ":", "%3A", 1)} {
		g := e.do(&c, "GET", path, "").want(t, 200, "")
		if d := cmp.Diff(r.body, g.body); d != "" {
			t.Errorf("GET %s differs from the create answer (-create +get):\n%s", path, d)
		}
	}
	e.do(&c, "GET", "/customers/Customer:019542f5-b3e7-7d02-8000-000000000001", "").want(t, 404, "USER_NOT_FOUND")
	e.do(&c, "GET", "/customers/nonsense", "").want(t, 404, "USER_NOT_FOUND")
}

func TestCreateFullIndividualAndBusiness(t *testing.T) {
	e := newEnv(t)
	_, c := e.platform(sandbox())
	ind := e.do(&c, "POST", "/customers", `{
	  "customerType": "INDIVIDUAL", "platformCustomerId": "p-1", "region": "US", "currencies": ["USD"],
	  "email": "jane@example.com", "phoneNumber": "+14155551234", "umaAddress": "$Jane.Doe@uma.acme.test",
	  "fullName": "Jane Doe", "birthDate": "1990-01-15", "nationality": "US",
	  "address": {"line1": "123 Main Street", "line2": "Apt 4B", "city": "San Francisco", "state": "CA", "postalCode": "94105", "country": "US"},
	  "idType": "SSN", "identifier": "123-45-6789",
	  "endUserTermsConsent": {"acceptedAt": "2025-07-21T17:32:28Z", "ipAddress": "198.51.100.24", "termsVersion": "V1", "acceptanceMethod": "CHECKBOX"},
	  "sourceOfFundsCategories": ["SALARY"], "purposeOfAccount": "P2P_TRANSFERS", "pepStatus": "NONE"
	}`).want(t, 201, "")
	if ind.str("umaAddress") != "$jane.doe@uma.acme.test" {
		t.Errorf("umaAddress = %q, want it lower-cased", ind.str("umaAddress"))
	}
	if _, ok := ind.body["identifier"]; ok {
		t.Errorf("identifier is write-only but was returned: %s", ind.raw)
	}
	if ind.str("countryOfIssuance") != "US" {
		t.Errorf("countryOfIssuance = %q, want the US default", ind.str("countryOfIssuance"))
	}

	biz := e.do(&c, "POST", "/customers", `{
	  "customerType": "BUSINESS", "platformCustomerId": "biz-acme-001", "region": "US", "currencies": ["USD", "USDC"],
	  "email": "finance@acme.com", "phoneNumber": "+14155559876",
	  "businessInfo": {"legalName": "Acme Corporation", "doingBusinessAs": "Acme", "country": "US", "registrationNumber": "5523041",
	    "incorporatedOn": "2018-03-14", "entityType": "LLC", "taxId": "47-1234567", "countriesOfOperation": ["US"],
	    "businessType": "INFORMATION", "purposeOfAccount": "CONTRACTOR_PAYOUTS", "sourceOfFunds": "Software revenue",
	    "expectedMonthlyTransactionCount": "COUNT_100_TO_500", "expectedMonthlyTransactionVolume": "VOLUME_100K_TO_1M",
	    "expectedRecipientJurisdictions": ["US", "MX"]},
	  "address": {"line1": "123 Market Street", "line2": "Suite 400", "city": "Seattle", "state": "WA", "postalCode": "98101", "country": "US"}
	}`).want(t, 201, "")
	if biz.body["kybStatus"] != "UNVERIFIED" || biz.body["kycStatus"] != nil {
		t.Errorf("business statuses: kybStatus=%v kycStatus=%v, want UNVERIFIED and none", biz.body["kybStatus"], biz.body["kycStatus"])
	}
	bi, _ := biz.body["businessInfo"].(map[string]any)
	if _, ok := bi["taxId"]; ok || bi["legalName"] != "Acme Corporation" {
		t.Errorf("businessInfo = %v: want legalName and no taxId", bi)
	}

	// Write-only values are stored encrypted: neither appears in the database file.
	e.store.Close()
	for _, path := range []string{e.dbPath, e.dbPath + "-wal"} {
		raw, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		for _, secret := range []string{"123-45-6789", "47-1234567"} {
			if bytes.Contains(raw, []byte(secret)) {
				t.Errorf("%s holds %q in clear text", path, secret)
			}
		}
	}
}

func TestInference(t *testing.T) {
	e := newEnv(t)
	_, c := e.platform(sandbox())
	cases := []struct {
		name, body, region string
		currencies         []any
	}{
		{"region gives currency", `{"customerType":"INDIVIDUAL","region":"MX","fullName":"Carlos García"}`, "MX", []any{"MXN"}},
		{"currency gives region", `{"customerType":"INDIVIDUAL","currencies":["BRL"],"fullName":"Ana Oliveira"}`, "BR", []any{"BRL"}},
		{"neither: platform default", `{"customerType":"INDIVIDUAL","fullName":"Jane Doe 001","birthDate":"1990-01-15","nationality":"US"}`, "US", []any{"USD"}},
		{"shared currency: no region", `{"customerType":"INDIVIDUAL","currencies":["EUR"]}`, "", []any{"EUR"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(&c, "POST", "/customers", tc.body).want(t, 201, "")
			if r.body["region"] != nil && r.str("region") != tc.region || (tc.region != "" && r.str("region") != tc.region) {
				t.Errorf("region = %v, want %q", r.body["region"], tc.region)
			}
			if d := cmp.Diff(tc.currencies, r.body["currencies"]); d != "" {
				t.Errorf("currencies (-want +got):\n%s", d)
			}
		})
	}
	e.do(&c, "POST", "/customers", `{"customerType":"INDIVIDUAL","region":"JP"}`).want(t, 400, "INVALID_INPUT")
	r := e.do(&c, "POST", "/customers", `{"customerType":"INDIVIDUAL","currencies":["USD","JPY"]}`).want(t, 400, "INVALID_INPUT")
	if d := cmp.Diff([]string{"currencies[1]"}, r.fields()); d != "" {
		t.Errorf("fields (-want +got):\n%s", d)
	}
}

func TestSandboxSuffixesAndRegulation(t *testing.T) {
	e := newEnv(t)
	_, sb := e.platform(sandbox())
	for name, want := range map[string]string{"Jane Doe 001": "PENDING", "Jane Doe 002": "REJECTED", "Jane Doe 003": "UNVERIFIED", "Jane Doe": "APPROVED", "Jane Doe 004": "APPROVED"} {
		r := e.do(&sb, "POST", "/customers", `{"customerType":"INDIVIDUAL","fullName":"`+name+`"}`).want(t, 201, "")
		if r.str("kycStatus") != want {
			t.Errorf("sandbox %q: kycStatus = %s, want %s", name, r.str("kycStatus"), want)
		}
	}
	_, live := e.platform(grid.PlatformSpec{Name: "live", UMADomain: "uma.live.test"})
	r := e.do(&live, "POST", "/customers", `{"customerType":"INDIVIDUAL","fullName":"Jane Doe"}`).want(t, 201, "")
	if r.str("kycStatus") != "UNVERIFIED" {
		t.Errorf("non-sandbox kycStatus = %s, want UNVERIFIED", r.str("kycStatus"))
	}
	r = e.do(&live, "POST", "/customers", `{"customerType":"INDIVIDUAL","kycStatus":"APPROVED"}`).want(t, 400, "INVALID_INPUT")
	if d := cmp.Diff([]string{"kycStatus"}, r.fields()); d != "" {
		t.Errorf("fields (-want +got):\n%s", d)
	}
	_, reg := e.platform(grid.PlatformSpec{Name: "bank", UMADomain: "uma.bank.test", Regulated: true})
	r = e.do(&reg, "POST", "/customers", `{"customerType":"INDIVIDUAL","kycStatus":"APPROVED"}`).want(t, 201, "")
	if r.str("kycStatus") != "APPROVED" {
		t.Errorf("regulated kycStatus = %s, want APPROVED", r.str("kycStatus"))
	}
	hist, err := e.store.ListStatusChanges(context.Background(), mustPlatformOf(t, e, reg), r.str("id"))
	if err != nil || len(hist) != 1 || hist[0].To != grid.StatusApproved || hist[0].Reason != "SET_BY_PLATFORM" {
		t.Errorf("history = %+v, %v; want one SET_BY_PLATFORM entry to APPROVED", hist, err)
	}
}

func mustPlatformOf(t testing.TB, e *env, c cred) string {
	t.Helper()
	p, err := e.svc.Authenticate(context.Background(), c.id, c.secret)
	if err != nil {
		t.Fatal(err)
	}
	return p.Platform.ID
}

func TestValidationSweep(t *testing.T) {
	e := newEnv(t)
	_, c := e.platform(sandbox())
	cases := []struct {
		name, body string
		status     int
		code       string
		fields     []string
	}{
		{"malformed json", `{"customerType": "INDIVIDUAL",`, 400, "INVALID_INPUT", []string{"body"}},
		{"not an object", `["INDIVIDUAL"]`, 400, "INVALID_INPUT", []string{"body"}},
		{"trailing data", `{"customerType":"INDIVIDUAL"} {}`, 400, "INVALID_INPUT", []string{"body"}},
		{"missing type", `{}`, 400, "INVALID_INPUT", []string{"customerType"}},
		{"bad enum", `{"customerType":"PERSON"}`, 400, "INVALID_INPUT", []string{"customerType"}},
		{"wrong types", `{"customerType":"INDIVIDUAL","fullName":42,"currencies":"USD","address":"x","region":true}`, 400, "INVALID_INPUT", []string{"address", "currencies", "fullName", "region"}},
		{"unknown fields", `{"customerType":"INDIVIDUAL","nickname":"x","address":{"line1":"a","postalCode":"1","country":"US","planet":"earth"}}`, 400, "INVALID_INPUT", []string{"address.planet", "nickname"}},
		{"many bad fields at once", `{"customerType":"INDIVIDUAL","region":"XX","nationality":"usa","birthDate":"1990-02-30","email":"not-an-email","phoneNumber":"+1 415 555 1234","currencies":["USD","DEM"],"address":{"line1":"a","country":"ZZ"}}`, 400, "INVALID_INPUT",
			[]string{"address.country", "address.postalCode", "birthDate", "currencies[1]", "email", "nationality", "phoneNumber", "region"}},
		{"future birth date", `{"customerType":"INDIVIDUAL","birthDate":"2999-01-01"}`, 400, "INVALID_INPUT", []string{"birthDate"}},
		{"invalid phone", `{"customerType":"INDIVIDUAL","phoneNumber":"+999123456789"}`, 400, "INVALID_INPUT", []string{"phoneNumber"}},
		{"business without info", `{"customerType":"BUSINESS"}`, 400, "INVALID_INPUT", []string{"businessInfo"}},
		{"business missing required", `{"customerType":"BUSINESS","businessInfo":{"legalName":"Acme","entityType":"GUILD"}}`, 400, "INVALID_INPUT",
			[]string{"businessInfo.country", "businessInfo.entityType", "businessInfo.incorporatedOn", "businessInfo.taxId"}},
		{"individual fields on business", `{"customerType":"BUSINESS","fullName":"x","businessInfo":{"legalName":"A","country":"US","taxId":"1","incorporatedOn":"2020-01-01"}}`, 400, "INVALID_INPUT", []string{"fullName"}},
		{"bad ssn", `{"customerType":"INDIVIDUAL","idType":"SSN","identifier":"123456789"}`, 400, "INVALID_INPUT", []string{"identifier"}},
		{"bad consent", `{"customerType":"INDIVIDUAL","endUserTermsConsent":{"acceptedAt":"yesterday","ipAddress":"300.1.1.1","termsVersion":"V1","acceptanceMethod":"NOD"}}`, 400, "INVALID_INPUT",
			[]string{"endUserTermsConsent.acceptanceMethod", "endUserTermsConsent.acceptedAt", "endUserTermsConsent.ipAddress"}},
		{"unknown terms version", `{"customerType":"INDIVIDUAL","endUserTermsConsent":{"acceptedAt":"2025-01-01T00:00:00Z","ipAddress":"198.51.100.24","termsVersion":"V9","acceptanceMethod":"CHECKBOX"}}`, 400, "END_USER_TERMS_VERSION_NOT_FOUND", nil},
		{"uma of another domain", `{"customerType":"INDIVIDUAL","umaAddress":"$jane@elsewhere.test"}`, 400, "INVALID_UMA_ADDRESS", nil},
		{"uma malformed", `{"customerType":"INDIVIDUAL","umaAddress":"jane@uma.acme.test"}`, 400, "INVALID_UMA_ADDRESS", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(&c, "POST", "/customers", tc.body).want(t, tc.status, tc.code)
			if tc.fields != nil {
				if d := cmp.Diff(tc.fields, r.fields(), cmpopts.SortSlices(func(a, b string) bool { return a < b })); d != "" {
					t.Errorf("field errors (-want +got):\n%s\nbody: %s", d, r.raw)
				}
			}
		})
	}
	page, err := e.store.ListCustomers(context.Background(), mustPlatformOf(t, e, c), grid.CustomerFilter{IncludeDeleted: true})
	if err != nil || page.TotalCount != 0 {
		t.Errorf("rejected requests stored %d customers (err %v), want 0", page.TotalCount, err)
	}
}

func TestTransportErrors(t *testing.T) {
	e := newEnv(t)
	_, c := e.platform(sandbox())
	e.do(&c, "POST", "/customers", `{"customerType":"INDIVIDUAL"}`, "Content-Type", "text/plain").want(t, 415, "UNSUPPORTED_MEDIA_TYPE")
	huge := `{"customerType":"INDIVIDUAL","fullName":"` + strings.Repeat("a", 2<<20) + `"}`
	e.do(&c, "POST", "/customers", huge).want(t, 413, "PAYLOAD_TOO_LARGE")
	e.do(&c, "GET", "/no-such-thing", "").want(t, 404, "NOT_FOUND")
	r := e.do(&c, "PUT", "/customers", `{}`).want(t, 405, "METHOD_NOT_ALLOWED")
	if allow := r.header.Get("Allow"); !strings.Contains(allow, "POST") {
		t.Errorf("Allow = %q, want it to list POST", allow)
	}
	e.do(&c, "POST", "/quotes", `{}`).want(t, 501, "NOT_IMPLEMENTED")
	e.do(&c, "GET", "/transactions", "").want(t, 501, "NOT_IMPLEMENTED")
}

func TestAuthAndPermissions(t *testing.T) {
	e := newEnv(t)
	p, admin := e.platform(sandbox())
	viewer := e.token(p, grid.PermView)
	e.do(nil, "GET", "/config", "").want(t, 401, "UNAUTHORIZED")
	e.do(&cred{admin.id, "wrong"}, "GET", "/config", "").want(t, 401, "UNAUTHORIZED")
	e.do(&cred{"nobody", "x"}, "GET", "/config", "").want(t, 401, "UNAUTHORIZED")
	e.do(&viewer, "POST", "/customers", seedBody).want(t, 403, "FORBIDDEN")
	e.do(&viewer, "POST", "/tokens", `{"name":"x","permissions":["VIEW"]}`).want(t, 403, "FORBIDDEN")
	e.do(&viewer, "PATCH", "/config", `{"umaDomain":"x.test"}`).want(t, 403, "FORBIDDEN")
	e.do(&viewer, "GET", "/config", "").want(t, 200, "")
}

func TestPlatformIsolation(t *testing.T) {
	e := newEnv(t)
	_, a := e.platform(sandbox())
	_, b := e.platform(grid.PlatformSpec{Name: "other", UMADomain: "uma.other.test", Sandbox: true})
	cust := e.do(&a, "POST", "/customers", seedBody).want(t, 201, "")
	e.do(&b, "GET", "/customers/"+cust.str("id"), "").want(t, 404, "USER_NOT_FOUND")
	// The same platformCustomerId is free on another platform.
	e.do(&b, "POST", "/customers", seedBody).want(t, 201, "")
	tok := e.do(&a, "POST", "/tokens", `{"name":"ci","permissions":["VIEW"]}`).want(t, 201, "")
	e.do(&b, "GET", "/tokens/"+tok.str("id"), "").want(t, 404, "TOKEN_NOT_FOUND")
	e.do(&b, "DELETE", "/tokens/"+tok.str("id"), "").want(t, 404, "TOKEN_NOT_FOUND")
	list := e.do(&b, "GET", "/tokens", "").want(t, 200, "")
	for _, item := range list.body["data"].([]any) {
		if item.(map[string]any)["id"] == tok.str("id") {
			t.Errorf("platform B lists platform A's token")
		}
	}
}

func TestConflicts(t *testing.T) {
	e := newEnv(t)
	_, c := e.platform(sandbox())
	e.do(&c, "POST", "/customers", seedBody).want(t, 201, "")
	e.do(&c, "POST", "/customers", seedBody).want(t, 409, "CONFLICT")
	e.do(&c, "POST", "/customers", `{"customerType":"INDIVIDUAL","umaAddress":"$ind-9f84e0c2@uma.acme.test"}`).want(t, 409, "UMA_ADDRESS_EXISTS")
	// A generated address that would collide falls back to a random one.
	e.do(&c, "POST", "/customers", `{"customerType":"INDIVIDUAL","umaAddress":"$taken@uma.acme.test"}`).want(t, 201, "")
	r := e.do(&c, "POST", "/customers", `{"customerType":"INDIVIDUAL","platformCustomerId":"taken"}`).want(t, 201, "")
	if r.str("umaAddress") == "$taken@uma.acme.test" || !strings.HasSuffix(r.str("umaAddress"), "@uma.acme.test") {
		t.Errorf("umaAddress = %q, want a fresh address on the platform domain", r.str("umaAddress"))
	}
}

func TestTokens(t *testing.T) {
	e := newEnv(t)
	_, admin := e.platform(sandbox())
	r := e.do(&admin, "POST", "/tokens", `{"name":"ci","permissions":["VIEW","MANAGE"]}`).want(t, 201, "")
	secret, id, clientID := r.str("clientSecret"), r.str("id"), r.str("clientId")
	if secret == "" || !strings.HasPrefix(id, "Token:") || clientID == "" {
		t.Fatalf("create token answer lacks id, clientId or clientSecret: %s", r.raw)
	}
	g := e.do(&admin, "GET", "/tokens/"+id, "").want(t, 200, "")
	if _, ok := g.body["clientSecret"]; ok {
		t.Errorf("GET /tokens/{id} shows the secret: %s", g.raw)
	}
	fresh := cred{clientID, secret}
	e.do(&fresh, "GET", "/config", "").want(t, 200, "")
	e.do(&admin, "POST", "/tokens", `{"name":"","permissions":["ROOT"]}`).want(t, 400, "INVALID_INPUT")

	for i := 0; i < 4; i++ {
		e.do(&admin, "POST", "/tokens", `{"name":"bulk","permissions":["VIEW"]}`).want(t, 201, "")
	}
	seen := map[string]bool{}
	cursor := ""
	for pages := 0; pages < 10; pages++ {
		l := e.do(&admin, "GET", "/tokens?limit=2"+cursor, "").want(t, 200, "")
		for _, item := range l.body["data"].([]any) {
			tid := item.(map[string]any)["id"].(string)
			if seen[tid] {
				t.Errorf("token %s listed twice", tid)
			}
			seen[tid] = true
		}
		if l.body["hasMore"] != true {
			break
		}
		cursor = "&cursor=" + l.str("nextCursor")
	}
	if len(seen) != 6 {
		t.Errorf("paged through %d tokens, want 6", len(seen))
	}
	e.do(&admin, "GET", "/tokens?limit=0", "").want(t, 400, "INVALID_INPUT")
	e.do(&admin, "GET", "/tokens?cursor=bogus", "").want(t, 400, "INVALID_INPUT")

	e.do(&admin, "DELETE", "/tokens/"+id, "").want(t, 204, "")
	e.do(&fresh, "GET", "/config", "").want(t, 401, "UNAUTHORIZED")
	e.do(&admin, "DELETE", "/tokens/"+id, "").want(t, 404, "TOKEN_NOT_FOUND")
}

func TestConfig(t *testing.T) {
	e := newEnv(t)
	_, c := e.platform(sandbox())
	g := e.do(&c, "GET", "/config", "").want(t, 200, "")
	if g.str("umaDomain") != "uma.acme.test" || g.body["isRegulatedFinancialInstitution"] != false {
		t.Errorf("config = %s", g.raw)
	}
	time.Sleep(1100 * time.Millisecond)
	u := e.do(&c, "PATCH", "/config", `{"umaDomain":"pay.acme.test","webhookEndpoint":"https://hooks.acme.test/grid",
	  "supportedCurrencies":[{"currencyCode":"USD","minAmount":1,"maxAmount":1000,"requiredCounterpartyFields":[{"name":"FULL_NAME","mandatory":true}],"enabledTransactionTypes":["OUTGOING"]}]}`).want(t, 200, "")
	if u.str("umaDomain") != "pay.acme.test" || u.str("webhookEndpoint") != "https://hooks.acme.test/grid" || u.str("updatedAt") == g.str("updatedAt") {
		t.Errorf("updated config = %s", u.raw)
	}
	r := e.do(&c, "POST", "/customers", `{"customerType":"INDIVIDUAL","platformCustomerId":"after"}`).want(t, 201, "")
	if r.str("umaAddress") != "$after@pay.acme.test" {
		t.Errorf("umaAddress = %q, want the new domain", r.str("umaAddress"))
	}
	bad := e.do(&c, "PATCH", "/config", `{"umaDomain":"not a domain","webhookEndpoint":"ftp://x","supportedCurrencies":[{"currencyCode":"XXX","minAmount":5,"maxAmount":1}]}`).want(t, 400, "INVALID_INPUT")
	want := []string{"supportedCurrencies[0].currencyCode", "supportedCurrencies[0].maxAmount", "umaDomain", "webhookEndpoint"}
	if d := cmp.Diff(want, bad.fields(), cmpopts.SortSlices(func(a, b string) bool { return a < b })); d != "" {
		t.Errorf("fields (-want +got):\n%s", d)
	}
	e.do(&c, "PATCH", "/config", `{"isRegulatedFinancialInstitution":true}`).want(t, 400, "INVALID_INPUT")
	e.do(&c, "PATCH", "/config", `{"feeConfigs":[]}`).want(t, 501, "NOT_IMPLEMENTED")
}
