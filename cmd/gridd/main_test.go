package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startServer runs gridd's run() on a free loopback port and returns its base URL and a stop
// function that waits for a clean shutdown.
func startServer(t *testing.T, env map[string]string) (string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	getenv := func(k string) string { return env[k] }
	go func() {
		done <- run(ctx, []string{"serve"}, getenv, pw, io.Discard)
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	var url string
	for lines.Scan() {
		if _, after, ok := strings.Cut(lines.Text(), "listening on "); ok {
			url = after
			break
		}
	}
	go io.Copy(io.Discard, pr)
	if url == "" {
		cancel()
		t.Fatalf("server did not start: %v", <-done)
	}
	return url, func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run returned %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("server did not stop")
		}
	}
}

func call(t *testing.T, method, url, user, pass, body string) (int, string) {
	t.Helper()
	return callWith(t, method, url, user, pass, body)
}

// callWith sends a request with extra header name/value pairs.
func callWith(t *testing.T, method, url, user, pass, body string, headers ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.SetBasicAuth(user, pass)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestServeRestartKeepsDataAndBootstrapIsIdempotent(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{
		"GRIDD_ADDR":            "127.0.0.1:0",
		"GRIDD_DATABASE_URL":    filepath.Join(dir, "data", "gridd.db"),
		"GRIDD_BOOTSTRAP_TOKEN": "ci-token:ci-secret-123",
	}
	url, stop := startServer(t, env)
	status, body := call(t, "POST", url+"/customers", "ci-token", "ci-secret-123",
		`{"customerType":"INDIVIDUAL","platformCustomerId":"ind-9f84e0c2","region":"US","currencies":["USD","USDC"],"fullName":"Jane Smith","birthDate":"1990-01-15","nationality":"US"}`)
	if status != 201 {
		t.Fatalf("POST /customers = %d %s", status, body)
	}
	id := body[strings.Index(body, `"id":"`)+6:]
	id = id[:strings.Index(id, `"`)]
	if status, body := call(t, "GET", url+"/openapi.yaml", "", "", ""); status != 200 || !strings.Contains(body, "openapi: 3.1") {
		t.Errorf("GET /openapi.yaml = %d", status)
	}
	stop()

	url, stop = startServer(t, env)
	defer stop()
	if status, body := call(t, "GET", url+"/customers/"+id, "ci-token", "ci-secret-123", ""); status != 200 || !strings.Contains(body, "Jane Smith") {
		t.Errorf("after restart GET = %d %s", status, body)
	}
	if status, _ := call(t, "GET", url+"/config", "ci-token", "wrong", ""); status != 401 {
		t.Errorf("wrong secret = %d, want 401", status)
	}
}

func TestWrongEncryptionKeyRefusesToStart(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "gridd.db")
	key1 := "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	key2 := "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA="
	env := map[string]string{"GRIDD_ADDR": "127.0.0.1:0", "GRIDD_DATABASE_URL": db, "GRIDD_ENCRYPTION_KEY": key1}
	_, stop := startServer(t, env)
	stop()
	env["GRIDD_ENCRYPTION_KEY"] = key2
	err := run(context.Background(), []string{"serve"}, func(k string) string { return env[k] }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "encryption key does not match") {
		t.Fatalf("start with another key: err = %v, want a key mismatch", err)
	}
}

func TestOperatorCommands(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"GRIDD_DATABASE_URL": filepath.Join(dir, "gridd.db")}
	getenv := func(k string) string { return env[k] }
	var out strings.Builder
	if err := run(context.Background(), []string{"platform", "create", "-name", "shop", "-uma-domain", "uma.shop.test"}, getenv, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	fields := map[string]string{}
	for _, line := range strings.Split(out.String(), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			fields[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	if !strings.HasPrefix(fields["platform"], "PlatformConfig:") || fields["secret"] == "" {
		t.Fatalf("platform create printed %q", out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"token", "create", "-platform", fields["platform"], "-permissions", "VIEW"}, getenv, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	tokID := strings.TrimSpace(strings.SplitN(strings.SplitN(out.String(), "token:", 2)[1], "\n", 2)[0])
	if err := run(context.Background(), []string{"token", "revoke", "-platform", fields["platform"], "-id", tokID}, getenv, io.Discard, io.Discard); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	if err := run(context.Background(), []string{"token", "revoke", "-platform", fields["platform"], "-id", tokID}, getenv, io.Discard, io.Discard); err == nil {
		t.Errorf("second revoke succeeded, want not found")
	}
	if err := run(context.Background(), []string{"migrate"}, getenv, io.Discard, io.Discard); err != nil {
		t.Errorf("migrate: %v", err)
	}
}
