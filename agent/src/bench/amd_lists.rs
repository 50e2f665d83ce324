//! The answer-detection corpora written into the code: the tuning corpus (`tune`), the held-out
//! one (`holdout`) and the first independent one (`fresh`), with their voices and speeds. Later
//! corpora are text files (`amd_fresh*.txt`).

use super::Voice;

pub(super) const HUMAN: &[&str] = &[
    "Hello?",
    "Yeah, who's this?",
    "Hi, this is Dana.",
    "Hello, Mike speaking.",
    "Yes?",
    "Hello, who is calling?",
    "Hi there.",
    "Good morning, this is Sarah.",
];
pub(super) const VOICEMAIL: &[&str] = &[
    "Hi, you've reached Sam. I can't come to the phone right now, please leave a message after the tone.",
    "Hello, this is Jordan. Sorry I missed your call. Leave your name and number and I'll get back to you.",
    "The number you have dialed is not available. Please leave a message after the beep.",
    "Hey, it's Chris, I'm away from my phone right now. Leave me a message!",
    "You have reached the voicemail of Pat Lee. Please record your message.",
    "Hi, this is Dana at Summit Fitness. I'm not available right now, but leave a message and I'll call you back.",
];
pub(super) const SCREENING: &[&str] = &[
    "Hi, the person you're calling is using a screening service. Go ahead and say your name and why you're calling.",
    "Please state your name and the reason for your call, and I'll see if this person is available.",
    "This call is being screened. Please record your name after the tone.",
    "Hello, I'm a call assistant. Before I try to connect you, what's the reason for your call?",
];
pub(super) const IVR: &[&str] = &[
    "Thank you for calling Acme Fitness. For sales, press one. For billing, press two.",
    "Please listen carefully, as our menu options have changed.",
    "Your call is important to us. Please stay on the line for the next available representative.",
    "Welcome to Summit Gym. If you know your party's extension, dial it now.",
];
pub(super) const VOICES: &[Voice] = &[
    Voice::Espeak("en-us"),
    Voice::Espeak("en-us+f3"),
    Voice::Espeak("en-gb+m3"),
    Voice::Espeak("en-us+f2"),
];
pub(super) const SPEEDS: &[u32] = &[150, 185];

/// A corpus written after the cue lists were tuned (`--corpus holdout`): other words, voices and
/// speeds. Its errors then shaped the weighted phrase model, so it is no longer independent;
/// the fresh corpus below is.
pub(super) const HOLDOUT_HUMAN: &[&str] = &[
    "Hello.",
    "Yep, hello?",
    "Hi, who's calling please?",
    "This is Robin.",
    "Hello, Taylor here.",
    "Speaking.",
    "Hey, what's up?",
    "Good afternoon.",
    "Hello, can I help you?",
    "Uh, hello?",
];
pub(super) const HOLDOUT_VOICEMAIL: &[&str] = &[
    "Hi, this is Morgan. I can't answer right now. Please leave a message and I will return your call.",
    "You've reached the office of Doctor Kim. We are closed. Please leave a message after the tone.",
    "Hey, you got Alex. Leave a message.",
    "The person you are trying to reach is not available. At the tone, please record your message.",
    "Hello, you have reached Greenway Climbing. Nobody can take your call right now, leave us a message.",
    "Hi, it's Jamie. I'm not around at the moment, so leave a message and I'll get back to you soon.",
    "Your call has been forwarded to an automated voice messaging system.",
    "Hi, Sam and Robin here, we can't get to the phone. Leave a message after the beep.",
];
pub(super) const HOLDOUT_SCREENING: &[&str] = &[
    "Hi, this number uses call screening. Please say your name and why you are calling.",
    "Before I put you through, can you tell me who you are and what this is about?",
    "The person you are calling uses a service that screens calls. Please state your name.",
    "Hello, this is an assistant answering for Jordan. What is the purpose of your call?",
    "Please say your name and the reason for your call after the tone.",
];
pub(super) const HOLDOUT_IVR: &[&str] = &[
    "Welcome to Peak Performance. To speak with a trainer, press one. For memberships, press two.",
    "Thank you for calling. If you are calling about an existing order, press one.",
    "You have reached the main line. Please select from the following options.",
    "For hours and directions, press three. To hear these options again, press nine.",
    "All of our representatives are busy. Please hold and your call will be answered in the order it was received.",
];
pub(super) const HOLDOUT_VOICES: &[Voice] = &[Voice::Espeak("en-us+m5"), Voice::Espeak("en-gb+f4")];
pub(super) const HOLDOUT_SPEEDS: &[u32] = &[165, 200];

/// A third corpus (`--corpus fresh`), written after the phrase model was settled by an engineer
/// who had not seen its phrase lists or the other corpora (asked for realistic US/UK greetings,
/// carrier messages, screening services and menus, borderline cases included); scored once.
pub(super) const FRESH_HUMAN: &[&str] = &[
    "Hello?",
    "Yeah?",
    "Hi.",
    "Hello, this is Marcus.",
    "Front desk, this is Lee.",
    "Who is this?",
    "Hello, sorry, I'm driving, who's calling?",
    "Um, hello?",
    "Yep, Dave speaking.",
    "Hiya, who's that?",
    "Good afternoon, Harper Plumbing, Jen speaking.",
    "Hello? Hello? Can you hear me?",
    "Yes, hello, who am I speaking to?",
    "Hey, what's up?",
    "Hello, Sarah Jenkins.",
    "Uh, yeah, hi, who's this?",
    "Morning, it's Tom.",
    "Hello, I can't really talk right now, what is it?",
    "Speaking.",
    "Hi, is this about the delivery?",
];
pub(super) const FRESH_VOICEMAIL: &[&str] = &[
    "Hi, you've reached Jessica. I can't get to the phone right now, but leave your name and number and I'll call you back.",
    "The wireless customer you are calling is not available. Please try your call again later.",
    "Hello, the person you are calling has a voice mailbox that has not been set up yet. Goodbye.",
    "The mailbox is full and cannot accept any messages at this time.",
    "It's Kim. Do your thing.",
    "Hey, it's Mike. Honestly, just text me, I never check these.",
    "You've reached the Garcias! We're probably chasing the kids around, so leave us a message and we'll get back to you.",
    "Thank you for calling Riverside Dental. Our office is currently closed. Our regular hours are Monday through Friday, eight to five. Please leave a message after the tone.",
    "Hi, this is Dr. Alan Whitfield. I'm unavailable to take your call. Please leave your name, number, and a brief message, and I will return your call as soon as possible.",
    "Sorry, the person you have called is not available. Please leave a message after the tone.",
    "Your call has been forwarded to an automatic voice message system. 5 5 5 8 6 2 1 is not available. At the tone, please record your message.",
    "Hey, this is Chris. I'm out on the water this week with no signal. Back Monday.",
    "Yo. Beep's coming. You know what to do.",
    "Hi, you've reached Linda and Paul. We can't come to the phone, so please leave a short message.",
    "Hello? ... Hello? ... Ha, got you, this is voicemail. Leave it at the beep.",
    "Hi, this is Rachel from Coastal Realty. I'm with clients or out showing homes. Send me a text at this number for the quickest reply.",
    "You have reached the office of Hargrove and Finch solicitors. Our offices are closed for the bank holiday and will reopen on Tuesday at nine a.m.",
    "The subscriber you have dialled is not available. Please try again later.",
    "Hi, it's Nora. I'm away from my desk or on the other line. Leave your details and I'll ring you back.",
    "This is Ben. Can't talk. Text is better.",
];
pub(super) const FRESH_SCREENING: &[&str] = &[
    "Hi, the person you're calling is using a screening service from Google and will get a copy of this conversation. Go ahead and say your name and why you're calling.",
    "Hello, if you record your name and reason for calling, I'll see if this person is available.",
    "Hi, this is an automated assistant answering for Jordan. Can you tell me who you are and what this call is about?",
    "The party you are trying to reach does not accept unidentified calls. Please unmask your number or state your name after the tone.",
    "This is Smart Call. Please say your name and the purpose of your call, and I'll let them know you're on the line.",
    "Before your call is connected, please press the number five on your keypad to confirm you are not a robot.",
    "Hi there, the person you're trying to reach is unavailable right now. Please stay on the line and share your name and why you're calling; they'll see it as you speak.",
    "Call Protect is checking this call. Please state your name after the tone, and the person you called will decide whether to answer.",
    "Thanks for calling. Before I put you through, may I ask who's calling and what it's regarding?",
    "You've reached a number that only accepts calls from known contacts. If you know this person, say your name and they'll be notified.",
    "Hello, this phone is protected by a call blocker. If you are a real caller, please press the pound key now. Otherwise, please hang up.",
    "Hi, I'm a virtual assistant. Are you calling about something specific? Please tell me briefly and I'll pass it along.",
    "The person you are calling does not accept calls from private or blocked numbers. Press one to say your name, or hang up and call back with caller ID.",
    "Please hold while we try to connect you. First, please say your full name after the beep.",
    "Hi, they're not taking calls from unknown numbers right now, but if you let me know who you are and why you're calling, I'll send them a note.",
    "This call is being answered by a digital assistant. Please speak your name clearly, then stay on the line while I see if they're free.",
];
pub(super) const FRESH_IVR: &[&str] = &[
    "Thank you for calling First Valley Bank. For account balances, press 1. To report a lost or stolen card, press 2. For all other inquiries, press 0.",
    "For English, press one. Para espanol, oprima el numero dos.",
    "Thank you for calling Maplewood Medical Group. If this is a medical emergency, please hang up and dial 911.",
    "Welcome to Northstar Energy. This call may be monitored or recorded for quality and training purposes. Please listen carefully, as our menu options have recently changed.",
    "All of our agents are currently assisting other customers. Please hold, and your call will be answered in the order it was received.",
    "If you know your party's extension, you may dial it at any time. To use our company directory, press 9.",
    "Using your telephone keypad, spell the last name of the person you wish to reach, followed by the pound sign.",
    "Hi, I'm the virtual assistant for Zephyr Airlines. In a few words, tell me what you're calling about. You can say things like flight status or baggage.",
    "Thank you for calling Greenleaf Pharmacy. We're open today from nine a.m. to seven p.m. To refill a prescription, press 1. To speak with a pharmacist, press 2.",
    "Welcome to Brightline Internet. Please say or enter your account number, or the phone number associated with your account.",
    "Thanks for calling Citywide Council. Calls may be recorded. For bin collections, press 1. For council tax, press 2. For housing repairs, press 3.",
    "You're currently number four in the queue. Your estimated wait time is eight minutes. Thank you for your patience.",
    "Our offices are now closed. To leave a message for the billing department, press 1. To hear our business hours, press 2.",
    "Hello and welcome to Henderson Ford. For sales, press 1. For service, press 2. For parts, press 3. To repeat these options, press star.",
    "Please enter your sixteen digit card number, followed by the hash key.",
    "Thank you for calling the Law Offices of Patel and Brooks. This call may be recorded. If you are a new client, say new client. Otherwise, say operator.",
];
pub(super) const FRESH_VOICES: &[Voice] =
    &[Voice::Espeak("en-us-nyc"), Voice::Espeak("en-gb-x-rp+f5")];
pub(super) const FRESH_SPEEDS: &[u32] = &[180];
