"""What the fictitious people of the demo history are called, ask, answer and type.

Names are drawn from short lists: every patient is fictitious.
"""

FIRST_NAMES = (
    "Jeanne", "Robert", "Maria", "Hans", "Aiko", "Giulia", "Thomas", "Fatima", "Pieter",
    "Ingrid", "Samuel", "Rosa", "Ahmed", "Margaret", "Luis", "Elena", "Walter", "Nadia",
    "George", "Helen", "Olga", "Kwame", "Dorothy", "Antonio", "Mei", "Bernard", "Agnes",
    "Rajesh", "Irene", "Frank",
)  # fmt: skip
LAST_NAMES = (
    "Dubois", "Hartmann", "Rossi", "Novak", "Andersen", "Costa", "Yamamoto", "Byrne",
    "Schmidt", "Haddad", "Kowalski", "Fischer", "Moreno", "Jansen", "Papadopoulos", "Sato",
    "Okonkwo", "Lambert", "Nilsson", "Ferreira", "Keller", "Murphy", "Horvat", "Silva",
    "Brennan", "Weber", "Mensah", "Laurent", "Petrov", "Quinn",
)  # fmt: skip
INTERPRETER_LANGUAGES = (
    "Spanish", "Portuguese", "Arabic", "Mandarin", "Polish", "Vietnamese", "Italian",
    "Turkish", "Russian", "Somali",
)  # fmt: skip
PATIENT_QUESTIONS = (
    ("How long will I stay in hospital?", "Usually one to three nights; we will plan it."),
    ("Can I keep taking my blood thinner?", "We will tell you when to stop it before the day."),
    ("When can I drive again?", "Usually after about a week, if you feel well."),
    ("Will I be awake during the procedure?", "No, you will be asleep under general anaesthetic."),
    ("Is the clip made of metal? Can I still have an MRI scan?", "Yes, scans are still possible."),
    ("What happens if the clip does not work?", "We talked about surgery and medicines."),
    ("Can my daughter stay with me on the ward?", "Yes, during visiting hours."),
    ("How big is the cut in my leg?", "A small puncture in the groin, no big cut."),
    ("Will I feel the clip in my heart?", "No, you will not feel it."),
    ("When can I go back to my garden work?", "Light work after a week; heavy lifting later."),
    ("Do I need antibiotics before the dentist?", "Yes, tell your dentist about the clip."),
    ("What does 1 in 100 mean for me?", "We went through the picture of 100 people together."),
)
OWN_WORDS_ANSWERS = (
    # (text, share of the key points it covers)
    ("A clip pinches the two flaps of the valve together so less blood leaks back. "
     "Surgery would be too risky for me.", 1.0),
    ("They put a clip on the leaking valve through a vein in the leg, so the heart works "
     "better and I get less short of breath.", 1.0),
    ("The clip holds the valve so it leaks less. It goes in through the leg.", 0.67),
    ("It fixes the leak in my heart valve.", 0.34),
    ("To help my heart. The doctor said it is better than an operation for me.", 0.34),
    ("I am not sure. Something to make the valve close better.", 0.0),
)  # fmt: skip
FLAG_NOTES = (
    "Explained again with the picture of 100 people; the patient then explained it correctly.",
    "Went through the section together; the patient repeated it back in their own words.",
    "Discussed with the family present; understood after a second explanation.",
)
CANCEL_REASONS = (
    "Procedure postponed by the heart team.",
    "The patient chose to be treated at another hospital.",
    "Created for the wrong procedure version.",
    "The link was never used; consent will restart at the next visit.",
    "The patient was admitted elsewhere; consent to be taken later.",
)
DECLINE_REASONS = (
    "I want more time to think about it.",
    "I prefer to keep taking my medicines for now.",
    "I am worried about the risk of stroke.",
    "My family and I decided against it.",
    "",
)
WITHDRAWAL_TEXTS = (
    "The patient phoned the clinic to withdraw consent; the procedure is cancelled.",
    "At the pre-admission visit the patient withdrew consent after talking with family.",
)
CORRECTION_TEXTS = (
    "Correction: the follow-up visit discussed is at six weeks, not four.",
    "Correction: the patient's son was present during the discussion and did not sign.",
)
STAFF_CLIENT = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari"
PATIENT_CLIENTS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile Safari",
    "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 Chrome/124.0 Mobile Safari",
    "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile Safari",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Safari/605.1.15",
)
CLINIC_TABLET_CLIENT = PATIENT_CLIENTS[2]
