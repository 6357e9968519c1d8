package agentphonetest

import (
	"slices"
	"time"
)

func (g *gen) makeCalls() {
	for range g.o.Calls {
		g.a.Calls = append(g.a.Calls, g.call(g.moment()))
	}
	slices.SortStableFunc(g.a.Calls, func(a, b Call) int { return a.StartedAt.Compare(b.StartedAt) })
	for range g.o.Live {
		c := g.call(g.moment())
		for c.Status == StatusFailed || len(c.Turns) < 4 || len(c.Turns) > 24 { // worth following, over in a minute or so
			c = g.call(c.StartedAt)
		}
		g.a.Live = append(g.a.Live, c)
	}
}

// call returns a finished call that started at start.
func (g *gen) call(start time.Time) Call {
	ag, num := g.agentNumber()
	p := pick(g, g.people)
	c := Call{ID: g.hexID("call_", 12), AgentID: ag.ID, NumberID: num.ID, PhoneNumber: num.PhoneNumber,
		StartedAt: start, RecordingAvailable: g.chance(0.6), Contact: p.contact}
	failP := 0.08
	switch x := g.r.Float64(); {
	case x < 0.6:
		c.Direction, c.From, c.To = "inbound", p.phone, num.PhoneNumber
	case x < 0.9:
		c.Direction, c.From, c.To = "outbound", num.PhoneNumber, p.phone
		failP = 0.25
	default:
		// A browser call has no caller number; AgentPhone's value is not
		// documented.
		c.Direction, c.From, c.To, c.Contact = "web", "web", num.PhoneNumber, nil
		failP = 0.05
	}
	if g.chance(failP) {
		g.fail(&c)
		return c
	}
	g.converse(&c)
	return c
}

func (g *gen) fail(c *Call) {
	c.Status = StatusFailed
	c.EndedAt = c.StartedAt.Add(g.between(3*time.Second, 40*time.Second)).Truncate(time.Second)
	c.RecordingAvailable = false
	reasons := []string{"", "error_inbound_webhook", "error_unknown"}
	if c.Direction == "outbound" {
		reasons = []string{"", "dial_no_answer", "dial_busy", "dial_failed"}
	}
	c.DisconnectionReason = pick(g, reasons)
}

// converse fills a completed call: its transcript, its end and the analysis.
func (g *gen) converse(c *Call) {
	c.Status = StatusCompleted
	sc := &scenarios[g.r.IntN(len(scenarios))]
	at := c.StartedAt.Add(g.between(time.Second, 3*time.Second))
	say := func(role, content string) {
		t := Turn{Role: role, Content: content, At: at.Truncate(time.Second)}
		if role == "user" {
			t.Confidence = float64(55+g.r.IntN(45)) / 100
		}
		c.Turns = append(c.Turns, t)
		at = at.Add(time.Duration(len(content))*70*time.Millisecond + g.between(time.Second, 4*time.Second))
	}
	if c.Direction == "outbound" && g.chance(0.15) {
		say("agent", "Hi, this is the assistant returning your call. Please call us back when you can — thanks!")
		c.EndedAt, c.DisconnectionReason = at.Truncate(time.Second), "voicemail_reached"
		return
	}
	say("agent", sc.greeting)
	// Walk the scenario's lines in a random order; long calls come round to
	// the same questions again, as long calls do.
	users, agents := g.r.Perm(len(sc.user)), g.r.Perm(len(sc.agent))
	for i := range g.exchanges() {
		if g.chance(0.12) {
			say("user", pick(g, fillers[:]))
		}
		say("user", sc.user[users[i%len(users)]])
		say("agent", sc.agent[agents[i%len(agents)]])
	}
	say("agent", pick(g, sc.closing))
	c.EndedAt = at.Truncate(time.Second)
	c.DisconnectionReason = pick(g, []string{"user_hangup", "user_hangup", "agent_hangup", "agent_hangup", "call_transfer", "inactivity"})
	if len(c.Turns) > 40 && g.chance(0.5) {
		c.DisconnectionReason = "max_duration_reached"
	}
	g.analyse(c, sc)
}

// exchanges returns how many question-and-answer pairs a call has: most
// calls are short, some run long.
func (g *gen) exchanges() int {
	switch x := g.r.Float64(); {
	case x < 0.35:
		return 1 + g.r.IntN(3)
	case x < 0.85:
		return 4 + g.r.IntN(8)
	default:
		return 12 + g.r.IntN(20)
	}
}

// analyse sets the provider's post-call analysis; about one call in ten has
// none.
func (g *gen) analyse(c *Call, sc *scenario) {
	if g.chance(0.1) {
		return
	}
	c.Summary = sc.summary
	c.UserSentiment = pick(g, sentiments[:])
	ok := g.chance(0.8)
	c.CallSuccessful = &ok
}
