package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/gridd/gridd/api"
	"github.com/gridd/gridd/internal/bulkimport"
	"github.com/gridd/gridd/internal/grid"
	"github.com/gridd/gridd/internal/httpapi"
)

// serve runs the API server until ctx ends.
func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.bind(fs, getenv)
	publicURL := fs.String("public-url", getenv("GRIDD_PUBLIC_URL"), "URL clients reach this server at, from which hosted KYC links are built (GRIDD_PUBLIC_URL); default: the scheme and Host of each request")
	pprofAddr := fs.String("pprof-addr", getenv("GRIDD_PPROF_ADDR"), "address of a separate listener serving net/http/pprof profiles (GRIDD_PPROF_ADDR); default: off")
	cacheDefault := 10000
	if v := getenv("GRIDD_CUSTOMER_CACHE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("GRIDD_CUSTOMER_CACHE must be a count of customers, 0 to turn the cache off: %q", v)
		}
		cacheDefault = n
	}
	cacheSize := fs.Int("customer-cache", cacheDefault, "customers GET /customers/{id} keeps in memory on SQLite, 0 for none (GRIDD_CUSTOMER_CACHE); PostgreSQL always reads the database")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cacheSize < 0 {
		return errors.New("-customer-cache (GRIDD_CUSTOMER_CACHE) must be 0 or more")
	}
	if err := httpapi.CheckPublicURL(*publicURL); err != nil {
		return err
	}
	log := c.logger(stderr)
	tuneGC(getenv)
	svc, st, err := c.open(ctx, log)
	if err != nil {
		return err
	}
	defer st.Close()
	if svc.EnableCustomerCache(*cacheSize) {
		log.Info("customer cache on", "entries", *cacheSize)
	}
	if err := useContactSender(svc, getenv, log); err != nil {
		return err
	}
	if err := bootstrap(ctx, svc, c.bootstrapToken, stderr); err != nil {
		return err
	}
	hooks, err := newWebhooks(ctx, svc, getenv, log)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	handler := httpapi.New(svc, httpapi.Options{BasePath: c.basePath, OpenAPI: api.OpenAPI, Logger: log, Webhooks: hooks.client, PublicURL: *publicURL})
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("gridd listening", "addr", ln.Addr().String(), "base", c.basePath)
	fmt.Fprintf(stdout, "gridd listening on http://%s%s\n", ln.Addr(), c.basePath)

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error { return bulkimport.New(svc, log).Run(gctx) })
	g.Go(func() error { return hooks.Run(gctx) })
	if *pprofAddr != "" {
		g.Go(func() error { return servePprof(gctx, *pprofAddr, log) })
	}
	g.Go(func() error {
		<-gctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), c.shutdownGrace)
		defer cancel()
		return srv.Shutdown(shutdownCtx)
	})
	return g.Wait()
}

// bootstrap makes sure there is a platform to log in to. With a bootstrap token it ensures
// the default platform holds exactly that token with every permission; without one, on an
// empty database, it creates a sandbox platform and prints its credentials once. Nodes that
// start together agree on one platform and one token.
func bootstrap(ctx context.Context, svc *grid.Service, spec string, stderr io.Writer) error {
	if spec == "" {
		platforms, err := svc.Store().ListPlatforms(ctx)
		if err != nil || len(platforms) > 0 {
			return err
		}
	}
	platform, created, err := svc.DefaultPlatform(ctx, grid.PlatformSpec{Name: "default", UMADomain: "sandbox.gridd.local", Sandbox: true})
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	if spec == "" {
		if !created {
			return nil // another node created it and printed the credentials
		}
		tok, secret, err := svc.IssueToken(ctx, platform.ID, grid.NewTokenSpec{Name: "bootstrap", Permissions: grid.AllPermissions})
		if err != nil {
			return fmt.Errorf("bootstrap: create token: %w", err)
		}
		fmt.Fprintf(stderr, "\nCreated sandbox platform %s with an API token (shown once):\n  client id: %s\n  secret:    %s\n  curl -u %s:%s ...\n\n",
			platform.ID, tok.ClientID, secret, tok.ClientID, secret)
		return nil
	}
	clientID, secret, ok := strings.Cut(spec, ":")
	if !ok || clientID == "" || secret == "" {
		return errors.New("GRIDD_BOOTSTRAP_TOKEN must be TOKEN_ID:SECRET")
	}
	check := func() (bool, error) {
		p, err := svc.Authenticate(ctx, clientID, secret)
		if errors.Is(err, grid.ErrUnauthorized) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if len(p.Token.Permissions) != len(grid.AllPermissions) {
			return false, fmt.Errorf("bootstrap token %s exists without every permission: revoke it first", clientID)
		}
		return true, nil
	}
	if ok, err := check(); ok || err != nil {
		return err
	}
	_, _, err = svc.IssueToken(ctx, platform.ID, grid.NewTokenSpec{Name: "bootstrap", Permissions: grid.AllPermissions, ClientID: clientID, Secret: secret})
	if e, isErr := grid.AsError(err); isErr && e.Status == 409 {
		// Another node may have issued the same token a moment ago.
		if ok, cerr := check(); ok || cerr != nil {
			return cerr
		}
		return fmt.Errorf("bootstrap token %s exists with another secret: revoke it (gridd token revoke) or use another id", clientID)
	}
	return err
}
