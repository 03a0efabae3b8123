package grid

import (
	"context"
	"errors"
	"strings"
)

// ListCustomers returns one page of the caller's platform's customers in id order. It needs
// VIEW. The umaAddress filter is lower-cased the way addresses are stored.
func (s *Service) ListCustomers(ctx context.Context, p *Principal, f CustomerFilter) (CustomerPage, error) {
	if err := p.Require(PermView); err != nil {
		return CustomerPage{}, err
	}
	f.UMAAddress = normalizeUMA(strings.TrimSpace(f.UMAAddress))
	switch {
	case f.Limit <= 0:
		f.Limit = DefaultPageSize
	case f.Limit > MaxPageSize:
		f.Limit = MaxPageSize
	}
	return s.store.ListCustomers(ctx, p.Platform.ID, f)
}

// UpdateCustomer applies a partial update to one of the caller's platform's customers and
// returns the customer as stored. It needs MANAGE. A change of verification status is written
// with its history entry in the same transaction.
func (s *Service) UpdateCustomer(ctx context.Context, p *Principal, id string, in *CustomerInput) (*Customer, error) {
	if err := p.Require(PermManage); err != nil {
		return nil, err
	}
	// Check the request against the customer as read now, so that a request that cannot
	// succeed never waits for the writer; then do it again on the row the transaction reads.
	cur, err := s.customer(ctx, s.store, p, id)
	if err != nil {
		return nil, err
	}
	if _, err := s.applyUpdate(p, cur, in); err != nil {
		return nil, err
	}
	var out *Customer
	err = s.tx(ctx, func(tx Tx) error {
		c, err := s.lockedCustomer(ctx, tx, p, id)
		if err != nil {
			return err
		}
		change, err := s.applyUpdate(p, c, in)
		if err != nil {
			return err
		}
		if err := tx.UpdateCustomer(ctx, c); err != nil {
			return err
		}
		if err := s.customerWritten(ctx, tx, c, false); err != nil {
			return err
		}
		if change != nil {
			if err := s.transition(ctx, tx, c, change); err != nil {
				return err
			}
		}
		out = c
		return nil
	})
	if err != nil {
		return nil, duplicateToConflict(err)
	}
	return out, nil
}

// customer reads one of the caller's platform's customers through r and answers 404 for an
// unknown id.
func (s *Service) customer(ctx context.Context, r Reader, p *Principal, id string) (*Customer, error) {
	c, err := r.GetCustomer(ctx, p.Platform.ID, id)
	if errors.Is(err, ErrNotFound) {
		return nil, NotFound(CodeUserNotFound, "customer "+id)
	}
	return c, err
}

func customerDeleted(id string) *Error {
	return Errorf(410, CodeCustomerDeleted, "customer %s was deleted", id)
}

// applyUpdate validates an update against the stored customer c and applies it to c in place.
// It returns the history entry a change of verification status needs, or nil. It does no I/O.
//
// The rules beyond those of a create: customerType is required and must be the stored type;
// region cannot change; email and phoneNumber cannot change in one request; write-only values
// are merged with the stored ones and sealed again.
func (s *Service) applyUpdate(p *Principal, c *Customer, in *CustomerInput) (*StatusChange, error) {
	if c.Deleted() {
		return nil, customerDeleted(c.ID)
	}
	now := s.Now()
	var fe FieldErrors
	typ := customerTypeOf(&fe, in)
	switch {
	case typ == "":
		// Check the other fields against the customer's own shape.
		typ = c.Type
	case typ != c.Type:
		fe.Add("customerType", "must be %s: the type of a customer cannot change", c.Type)
	}
	v := *in
	if v.Identifier != nil && v.IDType == nil && c.Profile.IDType != "" {
		// A new identifier alone is checked against the stored idType.
		idType := c.Profile.IDType
		v.IDType = &idType
	}
	v.validateSent(&fe, p.Platform, typ, now)
	if v.Region != nil && *v.Region != c.Region && !hasField(fe, "region") {
		if c.Region == "" {
			fe.Add("region", "cannot be changed after creation; the customer has no region")
		} else {
			fe.Add("region", "cannot be changed after creation; the customer's region is %s", c.Region)
		}
	}
	if v.Email != nil && v.PhoneNumber != nil {
		fe.Add("email", "cannot be changed together with phoneNumber; send them in separate requests")
		fe.Add("phoneNumber", "cannot be changed together with email; send them in separate requests")
	}
	checkSentStatus(&fe, c, typ, v.sentStatus(typ))
	fe = sortFieldErrors(fe)
	if err := fe.Err(); err != nil {
		return nil, err
	}
	if err := v.checkTermsAndUMA(p.Platform); err != nil {
		return nil, err
	}

	sec := &Secrets{}
	reseal := v.Identifier != nil || (v.Business != nil && v.Business.TaxID != nil)
	if reseal {
		var err error
		if sec, err = s.OpenSecrets(c); err != nil {
			return nil, err
		}
	}
	email, phone := c.Profile.Email, c.Profile.PhoneNumber
	v.apply(c, sec)
	if reseal {
		if err := s.sealSecrets(c, sec); err != nil {
			return nil, err
		}
	}
	if v.PlatformCustomerID != nil {
		c.PlatformCustomerID = strings.TrimSpace(*v.PlatformCustomerID)
	}
	if v.UMAAddress != nil {
		c.UMAAddress = normalizeUMA(*v.UMAAddress)
	}
	// A new email or phone number has not been verified yet.
	cv := c.Profile.ContactVerification
	if _, ok := cv["email"]; ok && c.Profile.Email != email {
		cv["email"] = "PENDING"
	}
	if _, ok := cv["phone"]; ok && c.Profile.PhoneNumber != phone {
		cv["phone"] = "PENDING"
	}
	c.UpdatedAt = now
	sent := v.sentStatus(typ)
	if sent == nil || Status(*sent) == c.Status {
		return nil, nil
	}
	change := &StatusChange{
		ID: NewID("StatusChange"), CustomerID: c.ID, PlatformID: c.PlatformID,
		From: c.Status, To: Status(*sent), Reason: "SET_BY_PLATFORM", Actor: p.Token.ID, At: now,
	}
	c.Status = change.To
	return change, nil
}

func hasField(fe FieldErrors, field string) bool {
	for _, f := range fe {
		if f.Field == field {
			return true
		}
	}
	return false
}

// DeleteCustomer soft-deletes one of the caller's platform's customers and returns it. It needs
// MANAGE. The customer stays readable by id; its platformCustomerId and UMA address become free
// for other customers. Deleting it again answers 410.
func (s *Service) DeleteCustomer(ctx context.Context, p *Principal, id string) (*Customer, error) {
	if err := p.Require(PermManage); err != nil {
		return nil, err
	}
	var out *Customer
	err := s.tx(ctx, func(tx Tx) error {
		c, err := s.customer(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if c.Deleted() {
			return customerDeleted(c.ID)
		}
		now := s.Now()
		c.DeletedAt, c.UpdatedAt = &now, now
		if err := tx.UpdateCustomer(ctx, c); err != nil {
			return err
		}
		out = c
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CustomerStatusHistory returns the verification history of one of the caller's platform's
// customers, oldest first. It needs VIEW.
func (s *Service) CustomerStatusHistory(ctx context.Context, p *Principal, id string) ([]StatusChange, error) {
	if err := p.Require(PermView); err != nil {
		return nil, err
	}
	if _, err := s.customer(ctx, s.store, p, id); err != nil {
		return nil, err
	}
	return s.store.ListStatusChanges(ctx, p.Platform.ID, id)
}

// Terms describes a version of the end-user terms.
type Terms struct {
	Version string
	URL     string
}

// EndUserTerms returns the current end-user terms. It needs VIEW.
func (s *Service) EndUserTerms(p *Principal) (Terms, error) {
	if err := p.Require(PermView); err != nil {
		return Terms{}, err
	}
	return Terms{Version: CurrentTermsVersion(), URL: TermsURL}, nil
}
