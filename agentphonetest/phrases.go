package agentphonetest

// The words of generated traffic. Read only. Lines include quotes, ampersands,
// angle brackets, non-ASCII letters and emoji on purpose: bodies must survive
// JSON escaping and signing byte for byte.

// scenario is one kind of call: what the agent and the caller say, and how
// the provider's analysis sums it up.
type scenario struct {
	greeting string
	user     []string
	agent    []string
	closing  []string
	summary  string
}

var scenarios = [...]scenario{
	{
		greeting: "Hello, thanks for calling Northwind support. How can I help?",
		user: []string{"Where is my order?", "It was supposed to arrive Tuesday.", "The order number is 4 4 7 1 9.",
			"Can you send the tracking link by text?", "I'm not sure, my husband placed it.", "Okay, and what if it's damaged?",
			"Honestly I've called three times already & nobody knows."},
		agent: []string{"Let me look that up for you.", "I can see it shipped this morning from our Reno warehouse.",
			"It's out for delivery and should arrive by 8 pm.", "I've just texted you the tracking link.",
			"If anything arrives damaged, reply to that text with a photo and we'll replace it.",
			"I'm sorry about the wait — I've added a note so the next person sees the whole history."},
		closing: []string{"Is there anything else I can help with?", "Thanks, bye.", "Have a great day!"},
		summary: "Caller asked about the status of an order; agent confirmed it shipped and sent tracking.",
	},
	{
		greeting: "Hi, this is Ava from Dr. Müller's office. What can I do for you?",
		user: []string{"I need to move my appointment.", "Is there anything on Thursday afternoon?", "3 pm works.",
			"Do I need to bring anything?", "Can you remind me the day before?", "Sorry, can you repeat that?"},
		agent: []string{"Of course. I see you're booked for Wednesday at 10.", "Thursday I have 1:30 or 3 pm.",
			"Done, you're confirmed for Thursday at 3 pm.", "Just your insurance card and a photo ID.",
			"Sure — you'll get a text reminder the afternoon before.", "Thursday at 3 pm, with Dr. Müller."},
		closing: []string{"See you Thursday!", "Anything else?", "Take care."},
		summary: "Caller rescheduled an appointment to Thursday 3 pm and asked for a reminder.",
	},
	{
		greeting: "Good afternoon, Contoso billing. How may I help you today?",
		user: []string{"I was charged twice this month.", "It's the $49.99 charge, both on the 3rd.",
			"When will I get the money back?", "Can you email me a receipt?", "What's my balance now?",
			"I want to cancel the premium add-on <the one with the \"pro\" badge>."},
		agent: []string{"I'm sorry about that, let me check your account.", "I see the duplicate charge and I've refunded it.",
			"Refunds take 3 to 5 business days to show up.", "I've emailed the receipt to the address on file.",
			"Your balance is $0.00 after the refund.", "The add-on is cancelled as of today; you won't be billed again."},
		closing: []string{"Is there anything else?", "Thanks for your patience.", "Goodbye."},
		summary: "Caller reported a duplicate charge; agent refunded it and cancelled an add-on.",
	},
	{
		greeting: "Hey! You've reached Fabrikam Bikes. How can I help?",
		user: []string{"Do you have the Trailblazer in a medium?", "How much is it?", "Can I test ride it Saturday?",
			"Do you do financing?", "What time do you close?", "Great, put me down for 11."},
		agent: []string{"Let me check stock — yes, we have two mediums in blue.", "It's $1,299 before tax.",
			"Absolutely, Saturday test rides run 9 to 3.", "We do, 0% for 12 months with approval.",
			"We close at 6 on weekdays and 4 on Saturday.", "You're booked for an 11 am test ride on Saturday."},
		closing: []string{"See you Saturday!", "Anything else I can answer?", "Bye now."},
		summary: "Caller asked about bike stock and financing and booked a Saturday test ride.",
	},
	{
		greeting: "Hello, this is the reservations line at Café Olé. How can I help?",
		user: []string{"Table for four tonight?", "Around 7:30.", "Do you have anything outside?", "One of us is vegan.",
			"Can we bring a cake? It's a birthday 🎂", "The name is Okafor."},
		agent: []string{"Let me see what we have.", "7:30 works, and I can seat you on the patio.",
			"Our menu has several vegan dishes, marked with a leaf.", "Of course — we'll keep it in the fridge for you.",
			"You're all set: four people, 7:30, patio, under Okafor."},
		closing: []string{"See you tonight!", "Enjoy the birthday!", "Anything else?"},
		summary: "Caller booked a patio table for four at 7:30 for a birthday.",
	},
}

var fillers = [...]string{"Mm-hmm.", "Sorry, you cut out for a second.", "Yes.", "Okay.", "Hold on one second…",
	"Can you say that again?", "Right.", "Got it, thanks."}

var inboundTexts = [...]string{
	"Can I move my appointment to 3pm?", "Hi! Is the store open on Sunday?", "what's the status of order 44719",
	"Thanks so much!! 🙏", "Do you deliver to 94110?", "I'd like to cancel my subscription.", "ok",
	"Running 10 min late, sorry", "Can you resend the invoice? The link says <expired>.", "Is parking free?",
	"Who is this?", "STOP", "Yes, Thursday works", "How much for a 3-month plan & setup?",
	"Tengo una pregunta sobre mi factura.", "The code \"WELCOME10\" isn't working", "👍",
	"Can you call me back after 5?", "My address changed to 12 Rue de l'Église, Montréal.",
	"Is this still available?",
}

var outboundTexts = [...]string{
	"Your appointment is at 2pm tomorrow.", "Yes, we're open 10–4 on Sundays.", "Your order shipped this morning!",
	"Happy to help — anything else?", "We deliver to 94110, usually next day.", "Done, your subscription is cancelled.",
	"I've resent the invoice to your email.", "Parking is free after 6 pm.", "No problem, see you soon.",
	"This is the Northwind assistant. How can I help?", "Sure, I'll have someone call you after 5.",
}

var groupTexts = [...]string{
	"Does Friday work for everyone? ✅", "I can do Friday after 2.", "Can we move it to the big room?",
	"Who's bringing snacks?", "Adding the agenda here", "Running late, start without me", "+1",
}

var names = [...]string{"Ana Ruiz", "Bo Chen", "Chidi Okafor", "Dana Kowalski", "Émile Laurent", "Farah Haddad",
	"Gus Johansson", "Hana Sato", "Ivan Petrov", "Jo O'Neill", "Kemal Aydın", "Lena Fischer"}

var agentNames = [...]string{"Support", "Front Desk", "Billing", "Sales", "Reservations", "After Hours"}

var groupNames = [...]string{"Offsite", "Book club", "Family", "Project Falcon", ""}

var reactionTypes = [...]string{"love", "like", "dislike", "laugh", "emphasize", "question"}

var sentiments = [...]string{"Positive", "Neutral", "Neutral", "Negative"}
