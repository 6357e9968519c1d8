package bigquerysink

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/transform"
)

// traffic is a small deterministic simulation of an account: AgentPhone
// webhook bodies normalized by transform.Normalize, plus transcript.turn
// events as the transcript stream produces them.
type traffic struct {
	rng    *rand.Rand
	start  time.Time
	seq    int
	events []*connector.Event
}

var (
	agents     = []string{"agt_alpha", "agt_bravo", "agt_charlie"}
	sentiments = []any{"Positive", "Neutral", "Negative", nil}
	channels   = []string{"sms", "mms", "imessage", "whatsapp", "voice"}
)

// simulate returns the events of calls calls, messages messages and
// reactions reactions spread over three days.
func simulate(seed uint64, calls, messages, reactions int) []*connector.Event {
	tr := &traffic{rng: rand.New(rand.NewPCG(seed, 1)), start: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)}
	for range calls {
		tr.call()
	}
	for range messages {
		tr.message()
	}
	for range reactions {
		tr.reaction()
	}
	return tr.events
}

func (tr *traffic) pick(n int) int { return tr.rng.IntN(n) }

func (tr *traffic) at() time.Time {
	return tr.start.Add(time.Duration(tr.rng.IntN(3*24*3600)) * time.Second)
}

func (tr *traffic) body(event, channel, agent string, ts time.Time, data map[string]any) *connector.Event {
	tr.seq++
	b, err := json.Marshal(map[string]any{"event": event, "channel": channel, "timestamp": ts.Format(time.RFC3339), "agentId": agent, "data": data})
	if err != nil {
		panic(err)
	}
	e := transform.Normalize(transform.Meta{ID: fmt.Sprintf("wh_%05d", tr.seq), Source: "agentphone/webhook/project", ReceivedAt: ts.Add(time.Second)}, b)
	tr.events = append(tr.events, e)
	return e
}

func (tr *traffic) call() {
	agent := agents[tr.pick(len(agents))]
	started := tr.at()
	dur := 5 + tr.pick(900)
	dir := []string{"inbound", "inbound", "outbound", "web"}[tr.pick(4)]
	status := []string{"completed", "completed", "completed", "failed"}[tr.pick(4)]
	callID := fmt.Sprintf("call_%04d", tr.seq)
	var turns []map[string]any
	for i := range 1 + tr.pick(5) {
		turns = append(turns, map[string]any{"role": []string{"agent", "user"}[i%2], "content": fmt.Sprintf("turn %d of %s", i, callID)})
	}
	success := []any{true, true, false, nil}[tr.pick(4)]
	ended := started.Add(time.Duration(dur) * time.Second)
	tr.body("agent.call_ended", "voice", agent, ended, map[string]any{
		"callId": callID, "numberId": "num_" + agent[4:], "from": "+1415555" + fmt.Sprintf("%04d", tr.pick(10000)), "to": "+14155550999",
		"direction": dir, "status": status, "startedAt": started.Format(time.RFC3339), "endedAt": ended.Format(time.RFC3339),
		"durationSeconds": dur, "disconnectionReason": []string{"user_hangup", "agent_hangup"}[tr.pick(2)],
		"transcript": turns, "summary": "summary of " + callID, "userSentiment": sentiments[tr.pick(len(sentiments))], "callSuccessful": success,
	})
	if tr.pick(3) == 0 { // a live call followed on the transcript stream
		for i, t := range turns {
			tr.turn(agent, callID, i, t["role"].(string), t["content"].(string), started.Add(time.Duration(i)*time.Second))
		}
	}
}

func (tr *traffic) turn(agent, callID string, pos int, role, content string, at time.Time) {
	tr.seq++
	data, err := json.Marshal(connector.TranscriptTurn{CallID: callID, Position: pos, Role: role, Content: content, CreatedAt: &at})
	if err != nil {
		panic(err)
	}
	k := connector.KindOf(connector.TypePrefix + connector.EventTranscriptTurn)
	tr.events = append(tr.events, &connector.Event{
		ID: fmt.Sprintf("turn_%s_%d", callID, pos), Source: "agentphone/transcript", Type: k.Type(), Subject: callID,
		Time: at, DataSchema: k.Schema(), AgentID: agent, CallID: callID, Channel: "voice",
		Status: connector.StatusOK, ReceivedAt: at, Data: data, Raw: data,
	})
}

func (tr *traffic) message() {
	agent := agents[tr.pick(len(agents))]
	ch := channels[tr.pick(len(channels))]
	at := tr.at()
	data := map[string]any{
		"messageId": fmt.Sprintf("msg_%05d", tr.seq), "conversationId": fmt.Sprintf("conv_%d", tr.pick(20)), "numberId": "num_" + agent[4:],
		"from": "+14155550123", "to": "+14155550999", "direction": []string{"inbound", "inbound", "outbound"}[tr.pick(3)],
		"message": "hello", "mediaUrls": []string{}, "receivedAt": at.Format(time.RFC3339),
	}
	if ch == "mms" || ch == "imessage" {
		n := tr.pick(3)
		urls := make([]string, n)
		for i := range urls {
			urls[i] = fmt.Sprintf("https://media.example/%d.jpg", i)
		}
		data["mediaUrls"] = urls
	}
	if ch == "imessage" && tr.pick(2) == 0 {
		data["group"] = map[string]any{"isGroup": true, "groupId": "grp_1", "groupName": "Offsite",
			"participants": []map[string]any{{"identifier": "+14155550123", "name": "Ana"}}}
	}
	if ch == "voice" {
		data = map[string]any{"callId": fmt.Sprintf("call_v%d", tr.seq), "from": "+14155550123", "to": "+14155550999",
			"status": "in-progress", "transcript": "I need help", "confidence": 0.9, "direction": "inbound"}
	}
	tr.body("agent.message", ch, agent, at, data)
}

func (tr *traffic) reaction() {
	agent := agents[tr.pick(len(agents))]
	at := tr.at()
	tr.body("agent.reaction", "imessage", agent, at, map[string]any{
		"conversationId": "conv_1", "reactionType": []string{"love", "like", "laugh"}[tr.pick(3)], "fromNumber": "+14155550123",
		"direction": "inbound", "messageId": fmt.Sprintf("msg_%05d", tr.seq), "createdAt": at.Format(time.RFC3339),
	})
}
