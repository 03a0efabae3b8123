package httpapi

import (
	"net/http"

	"github.com/gridd/gridd/internal/grid"
)

// ownerRequest is the wire body of POST /beneficial-owners and PATCH
// /beneficial-owners/{beneficialOwnerId}.
type ownerRequest struct {
	CustomerID          *string              `json:"customerId"`
	Roles               *[]string            `json:"roles"`
	OwnershipPercentage *int                 `json:"ownershipPercentage"`
	PersonalInfo        *ownerPersonalInfoIn `json:"personalInfo"`
}

type ownerPersonalInfoIn struct {
	FirstName         *string         `json:"firstName"`
	MiddleName        *string         `json:"middleName"`
	LastName          *string         `json:"lastName"`
	BirthDate         *string         `json:"birthDate"`
	Nationality       *string         `json:"nationality"`
	Email             *string         `json:"email"`
	PhoneNumber       *string         `json:"phoneNumber"`
	Address           *addressRequest `json:"address"`
	IDType            *string         `json:"idType"`
	Identifier        *string         `json:"identifier"`
	CountryOfIssuance *string         `json:"countryOfIssuance"`
}

// ownerPatchRequest is the PATCH body: the owner's business cannot be named.
type ownerPatchRequest struct {
	Roles               *[]string            `json:"roles"`
	OwnershipPercentage *int                 `json:"ownershipPercentage"`
	PersonalInfo        *ownerPersonalInfoIn `json:"personalInfo"`
}

func (req *ownerRequest) toInput() *grid.OwnerInput {
	in := &grid.OwnerInput{CustomerID: req.CustomerID, Roles: req.Roles, OwnershipPercentage: req.OwnershipPercentage}
	if pi := req.PersonalInfo; pi != nil {
		in.Info = &grid.OwnerInfoInput{
			FirstName: pi.FirstName, MiddleName: pi.MiddleName, LastName: pi.LastName, BirthDate: pi.BirthDate,
			Nationality: pi.Nationality, Email: pi.Email, PhoneNumber: pi.PhoneNumber, IDType: pi.IDType,
			Identifier: pi.Identifier, CountryOfIssuance: pi.CountryOfIssuance,
		}
		if a := pi.Address; a != nil {
			in.Info.Address = &grid.AddressInput{Line1: a.Line1, Line2: a.Line2, City: a.City, State: a.State, PostalCode: a.PostalCode, Country: a.Country}
		}
	}
	return in
}

// ownerJSON is the wire form of a beneficial owner. The identifier is write-only and has no
// field here.
type ownerJSON struct {
	ID                  string            `json:"id"`
	CustomerID          string            `json:"customerId"`
	Roles               []string          `json:"roles"`
	OwnershipPercentage int               `json:"ownershipPercentage"`
	PersonalInfo        ownerPersonalInfo `json:"personalInfo"`
	KYCStatus           string            `json:"kycStatus"`
	CreatedAt           string            `json:"createdAt"`
	UpdatedAt           string            `json:"updatedAt"`
}

type ownerPersonalInfo struct {
	FirstName         string        `json:"firstName"`
	MiddleName        string        `json:"middleName,omitempty"`
	LastName          string        `json:"lastName"`
	BirthDate         string        `json:"birthDate,omitempty"`
	Nationality       string        `json:"nationality,omitempty"`
	Email             string        `json:"email,omitempty"`
	PhoneNumber       string        `json:"phoneNumber,omitempty"`
	Address           *grid.Address `json:"address,omitempty"`
	IDType            string        `json:"idType,omitempty"`
	CountryOfIssuance string        `json:"countryOfIssuance,omitempty"`
}

type ownerListJSON struct {
	Data       []*ownerJSON `json:"data"`
	HasMore    bool         `json:"hasMore"`
	NextCursor string       `json:"nextCursor,omitempty"`
	TotalCount int          `json:"totalCount"`
}

func toOwnerJSON(o *grid.BeneficialOwner) *ownerJSON {
	roles := o.Roles
	if roles == nil {
		roles = []string{}
	}
	i := &o.Info
	return &ownerJSON{
		ID: o.ID, CustomerID: o.CustomerID, Roles: roles, OwnershipPercentage: o.OwnershipPercentage,
		PersonalInfo: ownerPersonalInfo{
			FirstName: i.FirstName, MiddleName: i.MiddleName, LastName: i.LastName, BirthDate: i.BirthDate,
			Nationality: i.Nationality, Email: i.Email, PhoneNumber: i.PhoneNumber, Address: i.Address,
			IDType: i.IDType, CountryOfIssuance: i.CountryOfIssuance,
		},
		KYCStatus: string(o.Status), CreatedAt: timestamp(o.CreatedAt), UpdatedAt: timestamp(o.UpdatedAt),
	}
}

// ownersJSON is the beneficialOwners field of a business customer's wire form.
func ownersJSON(owners []*grid.BeneficialOwner) []any {
	if len(owners) == 0 {
		return nil
	}
	out := make([]any, len(owners))
	for i, o := range owners {
		out[i] = toOwnerJSON(o)
	}
	return out
}

func (a *API) createOwner(w http.ResponseWriter, r *http.Request, p *grid.Principal) error {
	if err := p.Require(grid.PermManage); err != nil {
		return err
	}
	var req ownerRequest
	if _, err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	o, err := a.svc.CreateBeneficialOwner(r.Context(), p, req.toInput())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toOwnerJSON(o))
	return nil
}

func (a *API) listOwners(w http.ResponseWriter, r *http.Request, p *grid.Principal) error {
	if err := p.Require(grid.PermView); err != nil {
		return err
	}
	lq := listQuery{q: r.URL.Query()}
	f := grid.OwnerFilter{CustomerID: lq.q.Get("customerId"), AfterID: lq.cursor(), Limit: lq.limit()}
	if f.CustomerID == "" {
		lq.fe.Add("customerId", "is required")
	}
	if err := lq.fe.Err(); err != nil {
		return err
	}
	page, err := a.svc.ListBeneficialOwners(r.Context(), p, f)
	if err != nil {
		return err
	}
	out := ownerListJSON{Data: make([]*ownerJSON, len(page.Owners)), HasMore: page.HasMore, TotalCount: page.TotalCount}
	for i, o := range page.Owners {
		out.Data[i] = toOwnerJSON(o)
	}
	if page.HasMore {
		out.NextCursor = encodeCursor(page.Owners[len(page.Owners)-1].ID)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) getOwner(w http.ResponseWriter, r *http.Request, p *grid.Principal) error {
	o, err := a.svc.GetBeneficialOwner(r.Context(), p, r.PathValue("beneficialOwnerId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toOwnerJSON(o))
	return nil
}

func (a *API) updateOwner(w http.ResponseWriter, r *http.Request, p *grid.Principal) error {
	if err := p.Require(grid.PermManage); err != nil {
		return err
	}
	var req ownerPatchRequest
	if _, err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	full := ownerRequest{Roles: req.Roles, OwnershipPercentage: req.OwnershipPercentage, PersonalInfo: req.PersonalInfo}
	o, err := a.svc.UpdateBeneficialOwner(r.Context(), p, r.PathValue("beneficialOwnerId"), full.toInput())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toOwnerJSON(o))
	return nil
}
