package grid

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Reasons recorded in a customer's status history. The responses only carry the five current
// statuses; the older, finer outcomes of the API (manual approval or rejection, expiry,
// cancellation) survive as the reason of the change that led to the status.
const (
	ReasonCreated               = "CREATED"
	ReasonSandboxSuffix         = "SANDBOX_SUFFIX"
	ReasonSetByPlatform         = "SET_BY_PLATFORM"
	ReasonVerificationSubmitted = "VERIFICATION_SUBMITTED"
	ReasonManuallyApproved      = "MANUALLY_APPROVED"
	ReasonManuallyRejected      = "MANUALLY_REJECTED"
	ReasonExpired               = "EXPIRED"
	ReasonCanceled              = "CANCELED"
)

// CodeInvalidStateTransition is the 409 code of a status change the state machine forbids.
const CodeInvalidStateTransition = "INVALID_STATE_TRANSITION"

// Transition is a change of kycStatus or kybStatus from one status to another.
type Transition struct {
	From, To Status
}

// transitions is the KYC/KYB state machine: every change of status that may happen, with the
// reasons allowed to cause it. A pair that is not listed is forbidden, and a status never
// changes to itself. The same table governs individuals, businesses and beneficial owners.
//
// In words: a verification submitted with complete data moves a customer to PENDING; an
// operator decides a pending (or held) review; sandbox suffixes decide at once; an approval can
// expire (back to UNVERIFIED), a review can be cancelled (back to UNVERIFIED); a rejection is
// final except that whoever decides KYC may overturn it into an approval. A regulated platform
// runs its own KYC and may make every change an operator may, and put customers on HOLD.
var transitions = map[Transition][]string{
	{StatusUnverified, StatusPending}:  {ReasonVerificationSubmitted, ReasonSandboxSuffix, ReasonSetByPlatform},
	{StatusUnverified, StatusApproved}: {ReasonSandboxSuffix, ReasonSetByPlatform},
	{StatusUnverified, StatusRejected}: {ReasonSandboxSuffix, ReasonSetByPlatform},
	{StatusUnverified, StatusHold}:     {ReasonSetByPlatform},

	{StatusPending, StatusUnverified}: {ReasonCanceled, ReasonSetByPlatform},
	{StatusPending, StatusApproved}:   {ReasonManuallyApproved, ReasonSandboxSuffix, ReasonSetByPlatform},
	{StatusPending, StatusRejected}:   {ReasonManuallyRejected, ReasonSandboxSuffix, ReasonSetByPlatform},
	{StatusPending, StatusHold}:       {ReasonSetByPlatform},

	{StatusHold, StatusUnverified}: {ReasonCanceled, ReasonSetByPlatform},
	{StatusHold, StatusPending}:    {ReasonVerificationSubmitted, ReasonSetByPlatform},
	{StatusHold, StatusApproved}:   {ReasonManuallyApproved, ReasonSandboxSuffix, ReasonSetByPlatform},
	{StatusHold, StatusRejected}:   {ReasonManuallyRejected, ReasonSandboxSuffix, ReasonSetByPlatform},

	{StatusApproved, StatusUnverified}: {ReasonExpired, ReasonSetByPlatform},
	{StatusApproved, StatusRejected}:   {ReasonManuallyRejected, ReasonSetByPlatform},
	{StatusApproved, StatusHold}:       {ReasonSetByPlatform},

	{StatusRejected, StatusApproved}: {ReasonManuallyApproved, ReasonSetByPlatform},
}

// TransitionAllowed reports whether the state machine lets a status change from one value to
// another for a reason.
func TransitionAllowed(from, to Status, reason string) bool {
	return slices.Contains(transitions[Transition{from, to}], reason)
}

// TransitionReasons returns the reasons that may move a status from one value to another, or
// nil when the change is forbidden.
func TransitionReasons(from, to Status) []string {
	return slices.Clone(transitions[Transition{from, to}])
}

// transitionError is the error for a change the table forbids.
func transitionError(field string, from, to Status, reason string) *Error {
	allowed := TransitionReasons(from, to)
	msg := fmt.Sprintf("%s cannot change from %s to %s", field, from, to)
	if len(allowed) > 0 {
		msg += fmt.Sprintf(" by %s (allowed: %s)", reason, strings.Join(allowed, ", "))
	}
	return &Error{Status: 409, Code: CodeInvalidStateTransition, Message: msg}
}

// transition is the one gate every change of a stored customer's status passes: it checks the
// change against the table, applies what the change implies for the customer's verification
// under review and, for a decision, its beneficial owners, and then writes the history entry and the webhook
// through recordStatusChange. The caller has set c.Status to ch.To and stores c in tx.
func (s *Service) transition(ctx context.Context, tx Tx, c *Customer, ch *StatusChange) error {
	if !TransitionAllowed(ch.From, ch.To, ch.Reason) {
		return transitionError(statusField(c.Type), ch.From, ch.To, ch.Reason)
	}
	if err := s.settleVerifications(ctx, tx, c, ch); err != nil {
		return err
	}
	if c.Type == Business && (ch.To == StatusApproved || ch.To == StatusRejected) {
		if err := s.resolveOwners(ctx, tx, c, ch); err != nil {
			return err
		}
	}
	if c.Type == Business {
		// The webhook carries the customer as GET returns it, owners included.
		if err := s.loadOwners(ctx, tx, c); err != nil {
			return err
		}
	}
	return s.recordStatusChange(ctx, tx, c, ch)
}

// changeStatus moves a stored customer to a new status inside tx: it sets and stores the
// status and records the change through transition. It does nothing when the customer already
// has that status.
func (s *Service) changeStatus(ctx context.Context, tx Tx, c *Customer, to Status, reason, actor string) error {
	if c.Status == to {
		return nil
	}
	now := s.Now()
	ch := &StatusChange{
		ID: NewID("StatusChange"), CustomerID: c.ID, PlatformID: c.PlatformID,
		From: c.Status, To: to, Reason: reason, Actor: actor, At: now,
	}
	if !TransitionAllowed(ch.From, ch.To, ch.Reason) {
		return transitionError(statusField(c.Type), ch.From, ch.To, ch.Reason)
	}
	c.Status, c.UpdatedAt = to, now
	if err := tx.UpdateCustomer(ctx, c); err != nil {
		return err
	}
	return s.transition(ctx, tx, c, ch)
}

// lockedCustomer reads one of the caller's platform's customers inside tx, which locks it for
// the rest of tx (see Tx.GetCustomer); 404 for an unknown id. Every transaction that changes a
// customer's status reads it this way, so that the transition it checks starts from the stored
// status.
func (s *Service) lockedCustomer(ctx context.Context, tx Tx, p *Principal, id string) (*Customer, error) {
	return s.customer(ctx, tx, p, id)
}

// checkSentStatus records a field error when a platform asks for a status change the state
// machine forbids. It runs with the other field checks of an update, before anything changes.
func checkSentStatus(fe *FieldErrors, c *Customer, typ CustomerType, sent *string) {
	field := statusField(typ)
	if sent == nil || typ != c.Type || hasField(*fe, field) || !slices.Contains(AllStatuses, *sent) {
		return
	}
	to := Status(*sent)
	if to != c.Status && !TransitionAllowed(c.Status, to, ReasonSetByPlatform) {
		fe.Add(field, "cannot change from %s to %s", c.Status, to)
	}
}

// Operator review decisions.
const (
	DecisionApprove = "approve"
	DecisionReject  = "reject"
	DecisionExpire  = "expire"
	DecisionCancel  = "cancel"
)

// ReviewDecisions lists the decisions an operator may take.
var ReviewDecisions = []string{DecisionApprove, DecisionReject, DecisionExpire, DecisionCancel}

// OperatorActor is the history actor of changes an operator makes outside the API.
const OperatorActor = "operator"

// reviewOutcome maps an operator decision to the status it sets and the reason it records.
func reviewOutcome(decision string) (Status, string, bool) {
	switch decision {
	case DecisionApprove:
		return StatusApproved, ReasonManuallyApproved, true
	case DecisionReject:
		return StatusRejected, ReasonManuallyRejected, true
	case DecisionExpire:
		return StatusUnverified, ReasonExpired, true
	case DecisionCancel:
		return StatusUnverified, ReasonCanceled, true
	}
	return "", "", false
}

// ReviewCustomer applies an operator's decision to a customer of a platform: approve or reject
// a review, expire an approval, or cancel a review. It is an operator action outside the API;
// the change is recorded with actor "operator" and announced like any other.
func (s *Service) ReviewCustomer(ctx context.Context, platformID, customerID, decision string) (*Customer, error) {
	to, reason, ok := reviewOutcome(decision)
	if !ok {
		return nil, fmt.Errorf("unknown decision %q: use one of %s", decision, strings.Join(ReviewDecisions, ", "))
	}
	var out *Customer
	err := s.tx(ctx, func(tx Tx) error {
		c, err := tx.GetCustomer(ctx, platformID, customerID) // locks the row for this transaction
		if err != nil {
			return err
		}
		if c.Deleted() {
			return customerDeleted(c.ID)
		}
		if c.Status == to {
			return Errorf(409, CodeInvalidStateTransition, "%s is already %s", statusField(c.Type), to)
		}
		if err := s.changeStatus(ctx, tx, c, to, reason, OperatorActor); err != nil {
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
