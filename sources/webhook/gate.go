package webhook

import (
	"log/slog"
	"time"
)

// gate bounds what rejected requests may cost, so that a flood of them
// does not starve the deliveries beside it:
//
//	rejected request ─▶ client (peer, or X-Forwarded-For behind Proxies)
//	                 ─▶ budget of the client: room? ─yes─▶ its own answer (401, 404, 413, ...)
//	                                               └─no──▶ held penaltyDelay, then 429 + Retry-After
//
// A held request costs no CPU while it waits, and a client sending its
// requests one after another on a connection gets at most one answer a
// second there. Deliveries that verify never reach the gate (nor do
// authentic ones outside the time window, nor 503s): a correctly signed
// delivery is never counted nor refused, whoever else shares its address.
type gate struct {
	proxies Proxies
	budgets *budgets // nil: no budget
	summary *summary
	delay   time.Duration
	holding chan struct{} // one token per request being held; full: answer at once
}

const (
	// penaltyDelay is how long a rejected request of a client over its
	// budget waits for its 429.
	penaltyDelay = time.Second
	// maxHeld is how many requests may wait at once; more are answered at
	// once and their connection closed.
	maxHeld = 1024
	// maxBudgetClients is how many clients' budgets are kept.
	maxBudgetClients = 16384
)

func newGate(cfg Config, proxies Proxies, log *slog.Logger, now func() time.Time) *gate {
	g := &gate{proxies: proxies, summary: newSummary(log, now), delay: penaltyDelay, holding: make(chan struct{}, maxHeld)}
	if cfg.RejectBudget > 0 {
		g.budgets = newBudgets(cfg.RejectBudget, maxBudgetClients, now)
	}
	return g
}

// rejected counts rep, the answer to a request that was not journaled, and
// returns the answer to give: rep itself, or, when the request is one its
// client had no budget left for, a 429 given after the penalty delay.
func (g *gate) rejected(req request, rep reply) reply {
	client := g.proxies.client(req.src.peer(), req.src.forwardedFor)
	spent, wait := false, time.Duration(0)
	if g.budgets != nil && rep.code/100 == 4 && !authentic(rep.reason) {
		ok, w := g.budgets.spend(client)
		spent, wait = !ok, w
	}
	g.summary.add(rep.reason, client, spent)
	if !spent {
		return rep
	}
	over := overBudget(rep.route, wait)
	over.close = rep.close || !g.hold(req.src.done())
	return over
}

// hold waits the penalty delay, or until done is closed (the server shuts
// down). It returns false at once when too many requests are held already.
func (g *gate) hold(done <-chan struct{}) bool {
	select {
	case g.holding <- struct{}{}:
	default:
		return false
	}
	defer func() { <-g.holding }()
	t := time.NewTimer(g.delay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-done:
	}
	return true
}
