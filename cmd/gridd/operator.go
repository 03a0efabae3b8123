package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/gridd/gridd/internal/grid"
	"github.com/gridd/gridd/internal/sqlstore"
)

// migrateCmd applies migrations and reports the schema version.
func migrateCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c config
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.bind(fs, getenv)
	if err := fs.Parse(args); err != nil {
		return err
	}
	st, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Fprintf(stdout, "schema at version %d\n", sqlstore.LatestVersion())
	return nil
}

func platformCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: gridd platform create|list [flags]")
	}
	var c config
	fs := flag.NewFlagSet("platform "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.bind(fs, getenv)
	name := fs.String("name", "platform", "platform name")
	domain := fs.String("uma-domain", "uma.example.com", "UMA domain of the platform's customers")
	webhook := fs.String("webhook-endpoint", "", "URL that receives the platform's webhooks")
	currencies := fs.String("currencies", strings.Join(grid.DefaultCurrencies, ","), "comma-separated supported currencies")
	regulated := fs.Bool("regulated", false, "the platform is a regulated financial institution")
	sandbox := fs.Bool("sandbox", true, "sandbox platform: KYC/KYB outcomes follow the magic suffixes")
	contact := fs.String("contact-verification", "", "channels customers must verify before KYC: email, phone or email,phone")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	log := c.logger(stderr)
	svc, st, err := c.open(ctx, log)
	if err != nil {
		return err
	}
	defer st.Close()
	switch args[0] {
	case "create":
		spec := grid.PlatformSpec{Name: *name, UMADomain: *domain, Webhook: *webhook, Currencies: splitList(*currencies),
			Regulated: *regulated, Sandbox: *sandbox, ContactVerification: splitList(*contact)}
		p, err := svc.CreatePlatform(ctx, spec)
		if err != nil {
			return err
		}
		tok, secret, err := svc.IssueToken(ctx, p.ID, grid.NewTokenSpec{Name: "admin", Permissions: grid.AllPermissions})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "platform:  %s\ntoken:     %s\nclient id: %s\nsecret:    %s\n", p.ID, tok.ID, tok.ClientID, secret)
	case "list":
		ps, err := st.ListPlatforms(ctx)
		if err != nil {
			return err
		}
		for _, p := range ps {
			fmt.Fprintf(stdout, "%s\t%s\t%s\tsandbox=%t\tregulated=%t\n", p.ID, p.Name, p.UMADomain, p.Sandbox, p.Regulated)
		}
	default:
		return fmt.Errorf("unknown platform command %q", args[0])
	}
	return nil
}

func tokenCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: gridd token create|revoke [flags]")
	}
	var c config
	fs := flag.NewFlagSet("token "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.bind(fs, getenv)
	platform := fs.String("platform", "", "platform id (PlatformConfig:...)")
	name := fs.String("name", "operator", "token name (create)")
	perms := fs.String("permissions", "VIEW,TRANSACT,MANAGE", "comma-separated permissions (create)")
	id := fs.String("id", "", "token id (revoke)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *platform == "" {
		return errors.New("-platform is required")
	}
	svc, st, err := c.open(ctx, c.logger(stderr))
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.GetPlatform(ctx, *platform); err != nil {
		return fmt.Errorf("platform %s: %w", *platform, err)
	}
	switch args[0] {
	case "create":
		var ps []grid.Permission
		for _, p := range splitList(*perms) {
			ps = append(ps, grid.Permission(strings.ToUpper(p)))
		}
		tok, secret, err := svc.IssueToken(ctx, *platform, grid.NewTokenSpec{Name: *name, Permissions: ps})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "token:     %s\nclient id: %s\nsecret:    %s\n", tok.ID, tok.ClientID, secret)
	case "revoke":
		if err := svc.RevokeToken(ctx, *platform, *id); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "revoked %s\n", *id)
	default:
		return fmt.Errorf("unknown token command %q", args[0])
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
