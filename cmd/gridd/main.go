// Command gridd is a self-hostable server for the customer part of the Grid payments API.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gridd:", err)
		os.Exit(1)
	}
}

const usage = `usage: gridd <command> [flags]

commands:
  serve            run the API server (the default)
  migrate          apply database migrations and exit
  platform create  create a platform and its first token
  platform list    list platforms
  token create     create an API token for a platform
  token revoke     revoke an API token
  webhook public-key  print the PEM key that verifies webhook signatures
  customer review  apply an operator's KYC/KYB decision to a customer
  seed             load many customers quickly, for benchmarks
  bench            drive a running server and compare it with its ceilings

Run "gridd <command> -h" for the flags of a command. Every flag can also be set by the
environment variable shown in its help.
`

// run is the whole program, with its inputs passed in so tests can drive it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, getenv, stdout, stderr)
	case "migrate":
		return migrateCmd(ctx, args, getenv, stdout, stderr)
	case "platform":
		return platformCmd(ctx, args, getenv, stdout, stderr)
	case "token":
		return tokenCmd(ctx, args, getenv, stdout, stderr)
	case "webhook":
		return webhookCmd(ctx, args, getenv, stdout, stderr)
	case "customer":
		return customerCmd(ctx, args, getenv, stdout, stderr)
	case "seed":
		return seedCmd(ctx, args, getenv, stdout, stderr)
	case "bench":
		return benchCmd(ctx, args, getenv, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}
