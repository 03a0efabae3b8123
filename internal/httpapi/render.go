package httpapi

import (
	"fmt"

	"github.com/gridd/gridd/internal/grid"
)

// Render returns the wire form of a domain resource, as its GET operation answers it. The
// service uses it for the data of webhooks, so a webhook carries exactly what GET returns.
func Render(resource any) (any, error) {
	switch v := resource.(type) {
	case *grid.Customer:
		return toCustomerJSON(v), nil
	case *grid.Verification:
		return toVerificationJSON(v), nil
	case *grid.BulkJob:
		return toBulkJobJSON(v), nil
	}
	return nil, fmt.Errorf("httpapi: no wire form for %T", resource)
}
