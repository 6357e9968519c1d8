package agentphonetest

import (
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// AccountOptions says what Generate makes. The same options give the same
// account, byte for byte.
type AccountOptions struct {
	Seed     uint64
	Day      time.Time // the day the traffic happens (its UTC date); zero is 2026-03-02
	Agents   int       // agents, each with one number; 0 means 3. Every third agent (the second, fifth, …) is in webhook voice mode
	Calls    int       // placed calls: inbound, outbound and web; completed and failed
	Messages int       // inbound messages (sms, mms, imessage with groups, whatsapp), each answered by a stored outbound reply
	Live     int       // extra scripted calls (completed, 4 to 24 turns) left in Account.Live for Server.StartCall
	// ContextLimit is how many earlier messages (or turns) recentHistory
	// carries: 0 means the provider's default 10, negative means none.
	ContextLimit int
}

// Generate returns an account with a day of traffic. Besides the messages,
// calls and their call_ended webhooks it makes reactions to about one in five
// outbound iMessage and WhatsApp messages, voice agent.message webhooks for
// every caller turn of a webhook-mode agent's calls, and every forty or so
// events one the connector has never seen (or agent.contact_shared, whose
// payload AgentPhone does not document).
func Generate(o AccountOptions) *Account {
	g := newGen(o)
	g.makeAgents()
	g.makeCalls()
	g.makeMessages()
	g.makeReactions()
	g.makeEvents()
	return g.a
}

// DefaultDay is the day traffic happens on when AccountOptions.Day is zero.
func DefaultDay() time.Time { return time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC) }

// gen holds the state of one Generate call.
type gen struct {
	o      AccountOptions
	r      *rand.Rand
	a      *Account
	day    time.Time
	used   map[string]bool // IDs and numbers handed out
	people []person
}

// person is someone who calls or texts the account.
type person struct {
	phone   string
	address string // iMessage address: the phone, or an email
	contact *Contact
}

func newGen(o AccountOptions) *gen {
	if o.Agents <= 0 {
		o.Agents = 3
	}
	if o.ContextLimit == 0 {
		o.ContextLimit = 10
	}
	o.ContextLimit = max(o.ContextLimit, 0)
	day := o.Day
	if day.IsZero() {
		day = DefaultDay()
	}
	y, m, d := day.UTC().Date()
	return &gen{
		o: o, r: rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15)), a: &Account{},
		day: time.Date(y, m, d, 0, 0, 0, 0, time.UTC), used: map[string]bool{},
	}
}

const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// id returns prefix + n random characters of chars, never the same twice.
func (g *gen) id(prefix string, n int, chars string) string {
	for {
		var b strings.Builder
		b.WriteString(prefix)
		for range n {
			b.WriteByte(chars[g.r.IntN(len(chars))])
		}
		if s := b.String(); !g.used[s] {
			g.used[s] = true
			return s
		}
	}
}

func (g *gen) hexID(prefix string, n int) string { return g.id(prefix, n, "0123456789abcdef") }

var areaCodes = [...]string{"415", "212", "312", "646", "206", "512", "617", "305"}

func (g *gen) phone() string {
	return g.id("+1"+areaCodes[g.r.IntN(len(areaCodes))]+"555", 4, "0123456789")
}

func (g *gen) chance(p float64) bool { return g.r.Float64() < p }

func pick[T any](g *gen, s []T) T { return s[g.r.IntN(len(s))] }

// between returns a duration uniformly in [lo, hi).
func (g *gen) between(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(g.r.Int64N(int64(hi-lo)))
}

// hourWeights shape the day: quiet at night, busy in office hours.
var hourWeights = [24]int{1, 1, 1, 1, 1, 1, 2, 3, 8, 9, 9, 8, 6, 7, 9, 9, 8, 6, 4, 3, 3, 2, 2, 1}

// moment returns a time of the day, more likely in office hours.
func (g *gen) moment() time.Time {
	total := 0
	for _, w := range hourWeights {
		total += w
	}
	n, hour := g.r.IntN(total), 0
	for n >= hourWeights[hour] {
		n -= hourWeights[hour]
		hour++
	}
	return g.day.Add(time.Duration(hour)*time.Hour + g.between(0, time.Hour).Truncate(time.Second))
}

func (g *gen) makeAgents() {
	for i := range g.o.Agents {
		ag := Agent{ID: g.id("agt_", 5, alnum), Name: agentNames[i%len(agentNames)], VoiceMode: "hosted", NumberID: g.hexID("num_", 6)}
		if i%3 == 1 {
			ag.VoiceMode = "webhook"
		}
		g.a.Agents = append(g.a.Agents, ag)
		g.a.Numbers = append(g.a.Numbers, Number{ID: ag.NumberID, PhoneNumber: g.phone(), AgentID: ag.ID})
	}
	for range max(8, (g.o.Calls+g.o.Messages)/3) {
		g.people = append(g.people, g.person())
	}
}

func (g *gen) person() person {
	p := person{phone: g.phone()}
	p.address = p.phone
	if g.chance(0.4) {
		name := pick(g, names[:])
		p.contact = &Contact{ID: g.hexID("ct_", 6), Name: name, PhoneNumber: p.phone}
		if g.chance(0.5) {
			p.contact.Email = emailOf(name)
		}
		if g.chance(0.3) {
			p.address = emailOf(name)
		}
	}
	return p
}

func emailOf(name string) string {
	first, _, _ := strings.Cut(strings.ToLower(name), " ")
	first = strings.NewReplacer("é", "e", "ı", "i", "'", "").Replace(first)
	return first + "@example.com"
}

// agentNumber returns a random agent and its number.
func (g *gen) agentNumber() (Agent, Number) {
	i := g.r.IntN(len(g.a.Agents))
	return g.a.Agents[i], g.a.Numbers[i]
}

func (g *gen) makeEvents() {
	for _, c := range g.a.Calls {
		g.a.Events = append(g.a.Events, CallEndedEvent(c))
		if g.voiceMode(c.AgentID) == "webhook" {
			for i, t := range c.Turns {
				if t.Role == "user" {
					g.a.Events = append(g.a.Events, VoiceTurnEvent(c, i, g.o.ContextLimit))
				}
			}
		}
	}
	g.messageEvents()
	g.oddEvents()
	slices.SortStableFunc(g.a.Events, func(a, b Event) int { return a.At.Compare(b.At) })
	for i := range g.a.Events {
		g.a.Events[i].WebhookID = g.hexID("whd_", 16)
	}
}

func (g *gen) voiceMode(agentID string) string {
	for _, ag := range g.a.Agents {
		if ag.ID == agentID {
			return ag.VoiceMode
		}
	}
	return ""
}
