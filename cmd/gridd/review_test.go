package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestCustomerReview drives a live platform's customer into manual review over HTTP and lets
// the operator command decide, as an operator would while the server runs.
func TestCustomerReview(t *testing.T) {
	db := filepath.Join(t.TempDir(), "gridd.db")
	getenv := func(k string) string { return map[string]string{"GRIDD_DATABASE_URL": db}[k] }
	var out bytes.Buffer
	if err := run(context.Background(), []string{"platform", "create", "-name", "live", "-uma-domain", "uma.live.test", "-sandbox=false"}, getenv, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	field := func(name string) string {
		m := regexp.MustCompile(name + `:\s+(\S+)`).FindStringSubmatch(out.String())
		if m == nil {
			t.Fatalf("no %s in %q", name, out.String())
		}
		return m[1]
	}
	platform, user, pass := field("platform"), field("client id"), field("secret")

	url, stop := startServer(t, map[string]string{"GRIDD_ADDR": "127.0.0.1:0", "GRIDD_DATABASE_URL": db})
	defer stop()
	status, body := call(t, "POST", url+"/customers", user, pass, `{"customerType":"INDIVIDUAL","fullName":"Jane Doe","birthDate":"1990-01-15",
	  "nationality":"US","idType":"SSN","identifier":"111-22-3333","address":{"line1":"1 Main St","postalCode":"98101","country":"US"}}`)
	if status != 201 {
		t.Fatalf("create customer: %d %s", status, body)
	}
	var cust struct{ ID, KYCStatus string }
	json.Unmarshal([]byte(body), &cust)

	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	mw.WriteField("documentHolder", cust.ID)
	mw.WriteField("documentType", "PASSPORT")
	mw.WriteField("country", "US")
	fw, _ := mw.CreateFormFile("file", "passport.pdf")
	fw.Write([]byte("%PDF-1.4\n%%EOF\n"))
	mw.Close()
	req, _ := http.NewRequest("POST", url+"/documents", &form)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.SetBasicAuth(user, pass)
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 201 {
		t.Fatalf("upload: %v %v", res.StatusCode, err)
	}
	res.Body.Close()
	if status, body = call(t, "POST", url+"/verifications", user, pass, `{"customerId":"`+cust.ID+`"}`); status != 200 || !strings.Contains(body, "PENDING_MANUAL_REVIEW") {
		t.Fatalf("verification: %d %s", status, body)
	}

	review := func(decision string) (string, error) {
		var out bytes.Buffer
		err := run(context.Background(), []string{"customer", "review", "-platform", platform, "-customer", cust.ID, "-decision", decision}, getenv, &out, io.Discard)
		return out.String(), err
	}
	// The server has just read the customer, so a cached copy must give way to the operator's
	// change, made through a store of its own as another process would.
	if _, body = call(t, "GET", url+"/customers/"+cust.ID, user, pass, ""); !strings.Contains(body, `"kycStatus":"PENDING"`) {
		t.Fatalf("customer in review: %s", body)
	}
	if got, err := review("approve"); err != nil || got != cust.ID+" kycStatus: APPROVED\n" {
		t.Fatalf("review approve = %q, %v", got, err)
	}
	if _, body = call(t, "GET", url+"/customers/"+cust.ID, user, pass, ""); !strings.Contains(body, `"kycStatus":"APPROVED"`) {
		t.Errorf("customer after approval: %s", body)
	}
	if _, body = call(t, "GET", url+"/customers/"+cust.ID+"/status-history", user, pass, ""); !strings.Contains(body, `"reason":"MANUALLY_APPROVED","actor":"operator"`) {
		t.Errorf("history after approval: %s", body)
	}
	if _, err := review("approve"); err == nil {
		t.Error("approving an approved customer: no error")
	}
	if _, err := review("maybe"); err == nil {
		t.Error("unknown decision: no error")
	}
	if got, err := review("expire"); err != nil || got != cust.ID+" kycStatus: UNVERIFIED\n" {
		t.Errorf("review expire = %q, %v", got, err)
	}
	if err := run(context.Background(), []string{"customer", "review", "-platform", platform, "-customer", "Customer:nope", "-decision", "approve"}, getenv, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("unknown customer: %v", err)
	}
}
