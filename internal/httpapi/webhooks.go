package httpapi

import (
	"net/http"
	"time"

	"github.com/gridd/gridd/internal/grid"
)

// webhookRoutes registers Grid's test webhook and the gridd extensions that let a platform's
// operators see and steer the delivery of its webhooks.
func (a *API) webhookRoutes() {
	a.handle("POST /sandbox/webhooks/test", a.sendTestWebhook)
	a.handle("GET /webhooks/public-key", a.getWebhookPublicKey)
	a.handle("GET /webhooks/events", a.listWebhookEvents)
	a.handle("GET /webhooks/events/{eventId}", a.getWebhookEvent)
	a.handle("GET /webhooks/events/{eventId}/attempts", a.listWebhookAttempts)
	a.handle("POST /webhooks/events/{eventId}/redeliver", a.redeliverWebhookEvent)
}

// testWebhookJSON is Grid's TestWebhookResponse.
type testWebhookJSON struct {
	URL            string `json:"url"`
	ResponseStatus int    `json:"response_status"`
	ResponseBody   string `json:"response_body"`
}

type publicKeyJSON struct {
	PublicKey string `json:"publicKey"`
}

type webhookEventJSON struct {
	ID            string `json:"id"`
	Type          string `json:"type"`
	State         string `json:"state"`
	Attempts      int    `json:"attempts"`
	CreatedAt     string `json:"createdAt"`
	DeliveredAt   string `json:"deliveredAt,omitempty"`
	NextAttemptAt string `json:"nextAttemptAt,omitempty"`
}

type webhookEventListJSON struct {
	Data       []*webhookEventJSON `json:"data"`
	HasMore    bool                `json:"hasMore"`
	NextCursor string              `json:"nextCursor,omitempty"`
	TotalCount int                 `json:"totalCount"`
}

type webhookAttemptJSON struct {
	ID          string `json:"id"`
	AttemptedAt string `json:"attemptedAt"`
	StatusCode  int    `json:"statusCode,omitempty"`
	LatencyMs   int64  `json:"latencyMs"`
	Error       string `json:"error,omitempty"`
}

type webhookAttemptListJSON struct {
	EventID string               `json:"eventId"`
	Data    []webhookAttemptJSON `json:"data"`
}

// preciseTime formats delivery times to the millisecond: retries can be that close.
func preciseTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

func toWebhookEventJSON(e *grid.EventDelivery) *webhookEventJSON {
	out := &webhookEventJSON{ID: e.ID, Type: e.Type, State: string(e.State), Attempts: e.Attempts, CreatedAt: timestamp(e.CreatedAt)}
	if !e.DeliveredAt.IsZero() {
		out.DeliveredAt = preciseTime(e.DeliveredAt)
	}
	if e.State == grid.DeliveryPending {
		out.NextAttemptAt = preciseTime(e.NextAttemptAt)
	}
	return out
}

// sendTestWebhook serves POST /sandbox/webhooks/test. The operation takes no body; one sent
// anyway is ignored.
func (a *API) sendTestWebhook(w http.ResponseWriter, r *http.Request, p *grid.Principal) error {
	res, err := a.svc.SendTestWebhook(r.Context(), p, a.webhooks)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, testWebhookJSON{URL: res.URL, ResponseStatus: res.Status, ResponseBody: res.Body})
	return nil
}

func (a *API) getWebhookPublicKey(w http.ResponseWriter, r *http.Request, p *grid.Principal) error {
	key, err := a.svc.WebhookPublicKey(p, a.webhooks)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, publicKeyJSON{PublicKey: key})
	return nil
}

func (a *API) listWebhookEvents(w http.ResponseWriter, r *http.Request, p *grid.Principal) error {
	lq := listQuery{q: r.URL.Query()}
	f := grid.EventFilter{State: grid.DeliveryState(lq.enum("state", grid.DeliveryStates())), BeforeID: lq.cursor(), Limit: lq.limit()}
	if err := lq.fe.Err(); err != nil {
		return err
	}
	page, err := a.svc.ListWebhookEvents(r.Context(), p, f)
	if err != nil {
		return err
	}
	out := webhookEventListJSON{Data: make([]*webhookEventJSON, len(page.Events)), HasMore: page.HasMore, TotalCount: page.TotalCount}
	for i, e := range page.Events {
		out.Data[i] = toWebhookEventJSON(e)
	}
	if page.HasMore {
		out.NextCursor = encodeCursor(page.Events[len(page.Events)-1].ID)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) getWebhookEvent(w http.ResponseWriter, r *http.Request, p *grid.Principal) error {
	e, err := a.svc.GetWebhookEvent(r.Context(), p, r.PathValue("eventId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toWebhookEventJSON(e))
	return nil
}

func (a *API) listWebhookAttempts(w http.ResponseWriter, r *http.Request, p *grid.Principal) error {
	e, as, err := a.svc.WebhookEventAttempts(r.Context(), p, r.PathValue("eventId"))
	if err != nil {
		return err
	}
	out := webhookAttemptListJSON{EventID: e.ID, Data: make([]webhookAttemptJSON, len(as))}
	for i, at := range as {
		out.Data[i] = webhookAttemptJSON{ID: at.ID, AttemptedAt: preciseTime(at.At), StatusCode: at.StatusCode, LatencyMs: at.Latency.Milliseconds(), Error: at.Error}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// redeliverWebhookEvent serves POST /webhooks/events/{eventId}/redeliver: the event is due
// again at once, whatever its state.
func (a *API) redeliverWebhookEvent(w http.ResponseWriter, r *http.Request, p *grid.Principal) error {
	e, err := a.svc.RedeliverWebhookEvent(r.Context(), p, r.PathValue("eventId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, toWebhookEventJSON(e))
	return nil
}
