package httpapi

import (
	"net/http"

	"github.com/gridd/gridd/internal/grid"
)

type verificationRequest struct {
	CustomerID *string `json:"customerId"`
}

type verificationJSON struct {
	ID                 string                  `json:"id"`
	CustomerID         string                  `json:"customerId"`
	VerificationStatus string                  `json:"verificationStatus"`
	Errors             []verificationErrorJSON `json:"errors"`
	CreatedAt          string                  `json:"createdAt"`
	UpdatedAt          string                  `json:"updatedAt"`
}

type verificationErrorJSON struct {
	ResourceID            string   `json:"resourceId"`
	Type                  string   `json:"type"`
	Field                 string   `json:"field,omitempty"`
	AcceptedDocumentTypes []string `json:"acceptedDocumentTypes,omitempty"`
	Reason                string   `json:"reason"`
}

type verificationListJSON struct {
	Data       []*verificationJSON `json:"data"`
	HasMore    bool                `json:"hasMore"`
	NextCursor string              `json:"nextCursor,omitempty"`
	TotalCount int                 `json:"totalCount"`
}

func toVerificationJSON(v *grid.Verification) *verificationJSON {
	errs := make([]verificationErrorJSON, len(v.Errors))
	for i, e := range v.Errors {
		errs[i] = verificationErrorJSON{ResourceID: e.ResourceID, Type: e.Type, Field: e.Field, AcceptedDocumentTypes: e.AcceptedDocumentTypes, Reason: e.Reason}
	}
	return &verificationJSON{
		ID: v.ID, CustomerID: v.CustomerID, VerificationStatus: v.Status, Errors: errs,
		CreatedAt: timestamp(v.CreatedAt), UpdatedAt: timestamp(v.UpdatedAt),
	}
}

// createVerification serves POST /verifications. Like Grid it answers 200 with the
// verification whatever its status: RESOLVE_ERRORS lists what is missing.
func (a *API) createVerification(w http.ResponseWriter, r *http.Request, p *grid.Principal) error {
	if err := p.Require(grid.PermManage); err != nil {
		return err
	}
	var req verificationRequest
	if _, err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.CustomerID == nil {
		return grid.InvalidInput(grid.FieldError{Field: "customerId", Message: "is required"})
	}
	v, err := a.svc.SubmitVerification(r.Context(), p, *req.CustomerID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toVerificationJSON(v))
	return nil
}

func (a *API) getVerification(w http.ResponseWriter, r *http.Request, p *grid.Principal) error {
	v, err := a.svc.GetVerification(r.Context(), p, r.PathValue("verificationId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toVerificationJSON(v))
	return nil
}

func (a *API) listVerifications(w http.ResponseWriter, r *http.Request, p *grid.Principal) error {
	if err := p.Require(grid.PermView); err != nil {
		return err
	}
	lq := listQuery{q: r.URL.Query()}
	f := grid.VerificationFilter{
		CustomerID: lq.q.Get("customerId"),
		Status:     lq.enum("verificationStatus", grid.VerificationStatuses),
		AfterID:    lq.cursor(),
		Limit:      lq.limit(),
	}
	if err := lq.fe.Err(); err != nil {
		return err
	}
	page, err := a.svc.ListVerifications(r.Context(), p, f)
	if err != nil {
		return err
	}
	out := verificationListJSON{Data: make([]*verificationJSON, len(page.Verifications)), HasMore: page.HasMore, TotalCount: page.TotalCount}
	for i, v := range page.Verifications {
		out.Data[i] = toVerificationJSON(v)
	}
	if page.HasMore {
		out.NextCursor = encodeCursor(page.Verifications[len(page.Verifications)-1].ID)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// verificationRoutes registers the KYC/KYB operations: beneficial owners, documents,
// verifications, and the internal accounts opened with each customer.
func (a *API) verificationRoutes() {
	a.handle("POST /beneficial-owners", a.createOwner)
	a.handle("GET /beneficial-owners", a.listOwners)
	a.handle("GET /beneficial-owners/{beneficialOwnerId}", a.getOwner)
	a.handle("PATCH /beneficial-owners/{beneficialOwnerId}", a.updateOwner)

	a.handleUpload("POST /documents", a.uploadDocument)
	a.handle("GET /documents", a.listDocuments)
	a.handle("GET /documents/{documentId}", a.getDocument)
	a.handle("PUT /documents/{documentId}", a.replaceDocument)
	a.handle("DELETE /documents/{documentId}", a.deleteDocument)

	a.handle("POST /verifications", a.createVerification)
	a.handle("GET /verifications", a.listVerifications)
	a.handle("GET /verifications/{verificationId}", a.getVerification)

	a.handle("GET /customers/internal-accounts", a.listInternalAccounts)
}
