package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/gridd/gridd/internal/grid"
	"github.com/gridd/gridd/internal/httpapi"
)

// customerCmd runs the operator's customer commands. "review" applies a KYC/KYB decision to a
// customer: approve or reject a review, expire an approval, cancel a review. The change is
// recorded in the customer's history with actor "operator" (reasons MANUALLY_APPROVED,
// MANUALLY_REJECTED, EXPIRED, CANCELED) and announced by webhook like any other.
func customerCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "review" {
		return errors.New("usage: gridd customer review -platform PlatformConfig:... -customer Customer:... -decision " + strings.Join(grid.ReviewDecisions, "|"))
	}
	var c config
	fs := flag.NewFlagSet("customer review", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.bind(fs, getenv)
	platform := fs.String("platform", "", "platform id (PlatformConfig:...)")
	customer := fs.String("customer", "", "customer id (Customer:...)")
	decision := fs.String("decision", "", "one of "+strings.Join(grid.ReviewDecisions, ", "))
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	switch {
	case *platform == "":
		return errors.New("-platform is required")
	case *customer == "":
		return errors.New("-customer is required")
	case *decision == "":
		return errors.New("-decision is required")
	}
	svc, st, err := c.open(ctx, c.logger(stderr))
	if err != nil {
		return err
	}
	defer st.Close()
	// Webhooks carry the customer as the API shows it.
	svc.SetRenderer(httpapi.Render)
	cust, err := svc.ReviewCustomer(ctx, *platform, *customer, strings.ToLower(*decision))
	if errors.Is(err, grid.ErrNotFound) {
		return fmt.Errorf("customer %s not found on platform %s", *customer, *platform)
	}
	if err != nil {
		return err
	}
	field := "kycStatus"
	if cust.Type == grid.Business {
		field = "kybStatus"
	}
	fmt.Fprintf(stdout, "%s %s: %s\n", cust.ID, field, cust.Status)
	return nil
}
