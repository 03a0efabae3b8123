package main

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// process is a gridd binary running as its own process.
type process struct {
	cmd *exec.Cmd
	url string
}

func buildGridd(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "gridd")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func startProcess(t *testing.T, bin string, env []string) *process {
	t.Helper()
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		if _, after, ok := strings.Cut(lines.Text(), "listening on "); ok {
			go io.Copy(io.Discard, stdout)
			return &process{cmd: cmd, url: after}
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	t.Fatalf("gridd did not start")
	return nil
}

func (p *process) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.cmd.Wait()
}

// TestSIGKILLMidDeliveryAndMidImport kills a real gridd process while webhooks are being
// retried and a large import runs, restarts it, and checks that every webhook arrives signed,
// that nothing arrives for a rejected request, and that the import completes with one
// customer per valid distinct row.
func TestSIGKILLMidDeliveryAndMidImport(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildGridd(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "gridd.db")

	env := []string{"GRIDD_ADDR=127.0.0.1:0", "GRIDD_DATABASE_URL=" + db, "GRIDD_BOOTSTRAP_TOKEN=kill-token:kill-secret", "GRIDD_LOG_LEVEL=error"}
	p := startProcess(t, bin, env)
	sandbox := [2]string{"kill-token", "kill-secret"}

	// A non-sandbox platform for the import: its customers start UNVERIFIED, so the import
	// raises no customer webhooks. It is made while the server runs (SQLite takes a second
	// writer process in turns), after the bootstrap created the default sandbox platform.
	out, err := exec.Command(bin, "platform", "create", "-database-url", db, "-name", "importer", "-uma-domain", "uma.importer.test", "-sandbox=false").Output()
	if err != nil {
		t.Fatalf("platform create: %v", err)
	}
	creds := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			creds[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	importer := [2]string{creds["client id"], creds["secret"]}

	// The receiver is down (503) until up is set.
	var up atomic.Bool
	var mu sync.Mutex
	received := map[string]map[string]any{} // webhook id -> body
	var bad atomic.Int32
	var publicKey *ecdsa.PublicKey
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !up.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		sig, err := base64.StdEncoding.DecodeString(r.Header.Get("X-Grid-Signature"))
		digest := sha256.Sum256(body)
		if err != nil || publicKey == nil || !ecdsa.VerifyASN1(publicKey, digest[:], sig) {
			bad.Add(1)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var v map[string]any
		json.Unmarshal(body, &v)
		received[v["id"].(string)] = v
	}))
	defer recv.Close()

	apiJSON := func(c [2]string, method, path, body string) (int, map[string]any) {
		t.Helper()
		status, resp := call(t, method, p.url+path, c[0], c[1], body)
		var v map[string]any
		json.Unmarshal([]byte(resp), &v)
		return status, v
	}
	status, key := apiJSON(sandbox, "GET", "/webhooks/public-key", "")
	if status != 200 {
		t.Fatalf("public key = %d", status)
	}
	block, _ := pem.Decode([]byte(key["publicKey"].(string)))
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	publicKey = pub.(*ecdsa.PublicKey)
	if status, _ := apiJSON(sandbox, "PATCH", "/config", `{"webhookEndpoint":"`+recv.URL+`"}`); status != 200 {
		t.Fatalf("set webhook endpoint = %d", status)
	}

	// Thirty approved sandbox customers: thirty CUSTOMER.KYC_APPROVED webhooks, now failing.
	want := map[string]bool{}
	for i := 0; i < 30; i++ {
		status, c := apiJSON(sandbox, "POST", "/customers", fmt.Sprintf(`{"customerType":"INDIVIDUAL","platformCustomerId":"hook-%02d","fullName":"Hook %02d"}`, i, i))
		if status != 201 {
			t.Fatalf("create = %d", status)
		}
		want[c["id"].(string)] = true
	}
	// A rejected request announces nothing.
	if status, _ := apiJSON(sandbox, "POST", "/customers", `{"customerType":"INDIVIDUAL","birthDate":"1990-02-30"}`); status != 400 {
		t.Fatalf("invalid create = %d, want 400", status)
	}

	// A large import: 30,000 rows, every 100th invalid.
	const rows, badEvery = 30000, 100
	var csv bytes.Buffer
	csv.WriteString("platformCustomerId,customerType,fullName,birthDate,email,addressLine1,city,state,postalCode,country\n")
	for i := 1; i <= rows; i++ {
		birth := "1980-05-17"
		if i%badEvery == 0 {
			birth = "1980-02-30"
		}
		fmt.Fprintf(&csv, "imp-%06d,INDIVIDUAL,Person %d,%s,p%d@example.com,%d Main Street,Austin,TX,78701,US\n", i, i, birth, i, i)
	}
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	fw, _ := mw.CreateFormFile("file", "customers.csv")
	fw.Write(csv.Bytes())
	mw.Close()
	req, _ := http.NewRequest("POST", p.url+"/customers/bulk/csv", &form)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.SetBasicAuth(importer[0], importer[1])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var accepted map[string]any
	json.NewDecoder(res.Body).Decode(&accepted)
	res.Body.Close()
	if res.StatusCode != 202 {
		t.Fatalf("upload = %d %v", res.StatusCode, accepted)
	}
	jobPath := "/customers/bulk/jobs/" + accepted["jobId"].(string)

	// Kill the process once the import is under way.
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, job := apiJSON(importer, "GET", jobPath, "")
		prog, _ := job["progress"].(map[string]any)
		if n, _ := prog["processed"].(float64); n >= 2000 && n < rows {
			break
		}
		if job["status"] == "COMPLETED" || time.Now().After(deadline) {
			t.Fatalf("could not catch the import mid-way: %v", job)
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.kill(t)

	up.Store(true)
	p = startProcess(t, bin, env)
	defer p.kill(t)

	deadline = time.Now().Add(120 * time.Second)
	var job map[string]any
	for {
		_, job = apiJSON(importer, "GET", jobPath, "")
		if job["status"] == "COMPLETED" || job["status"] == "FAILED" || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	prog, _ := job["progress"].(map[string]any)
	if job["status"] != "COMPLETED" || prog["successful"] != float64(rows-rows/badEvery) || prog["failed"] != float64(rows/badEvery) {
		t.Errorf("import after SIGKILL: status %v, progress %v; want COMPLETED with %d successful, %d failed", job["status"], prog, rows-rows/badEvery, rows/badEvery)
	}
	_, list := apiJSON(importer, "GET", "/customers?limit=1", "")
	if list["totalCount"] != float64(rows-rows/badEvery) {
		t.Errorf("importer has %v customers, want %d (one per valid distinct row)", list["totalCount"], rows-rows/badEvery)
	}

	// Every webhook arrives, signed; nothing else arrives.
	for {
		mu.Lock()
		got := map[string]bool{}
		for _, v := range received {
			if v["type"] == "CUSTOMER.KYC_APPROVED" {
				got[v["data"].(map[string]any)["id"].(string)] = true
			}
		}
		mu.Unlock()
		if len(got) == len(want) || time.Now().After(deadline) {
			for id := range want {
				if !got[id] {
					t.Errorf("webhook for %s never arrived", id)
				}
			}
			if len(got) != len(want) {
				t.Errorf("%d customers announced, want %d", len(got), len(want))
			}
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if n := bad.Load(); n != 0 {
		t.Errorf("%d webhooks failed signature verification", n)
	}
}
