"""Every text Samvad itself says, one catalogue per language, plain text (no markup).

Rasa's small-talk responses live in ``domain.yml``; everything else the engine, the actions, the
bot and the local chat say is here. Markup (bold labels, links) is added by each channel's
renderer, never written into a text. Both catalogues have the same keys (a test checks).

>>> text("source", "en"), text("source", "mr")
('Source', 'स्रोत')
>>> both("error", " / ")
'माफ करा, काहीतरी चूक झाली. कृपया पुन्हा प्रयत्न करा. / Sorry, something went wrong. Please try again.'
>>> written_date("2026-11-29", "en"), written_date("2026-11-29", "mr"), written_date("soon", "en")
('29 November 2026', '२९ नोव्हेंबर २०२६', 'soon')
"""

from __future__ import annotations

import datetime as dt
import re

from samvad.language import LANGUAGES, Lang

MR: dict[str, str] = {
    # answers
    "source": "स्रोत",
    "other_language_note": "(हे उत्तर इंग्रजी लेखातून दिले आहे; हा लेख मराठीत उपलब्ध नाही.)",
    "refused": "माफ करा, या प्रश्नाचे उत्तर देणारा लेख माझ्याकडे सध्या नाही. तुमचा प्रश्न "
    "महानगरपालिकेच्या कर्मचाऱ्यांसाठी नोंदवला आहे. {helpline} मी कोणत्या विषयांवर उत्तर "
    "देऊ शकतो हे पाहण्यासाठी /topics पाठवा.",
    "helpline": "तातडीच्या मदतीसाठी ठाणे महानगरपालिकेच्या नागरिक हेल्पलाइनशी संपर्क साधा.",
    "offered": "मला खात्री नाही की या प्रश्नाचे उत्तर देणारा लेख माझ्याकडे आहे. जवळचे लेख "
    "हे आहेत — तुम्हाला यापैकी कशाबद्दल विचारायचे आहे?",
    "empty": "कृपया तुमचा प्रश्न लिहा.",
    # buttons
    "button_more": "आणखी वाचा",
    "button_helpful": "👍 उपयोगी",
    "button_not_helpful": "👎 उपयोगी नाही",
    "button_none_of_these": "यापैकी काहीही नाही",
    # the actions
    "engine_error": "माफ करा, आत्ता उत्तर शोधताना अडचण आली. कृपया थोड्या वेळाने पुन्हा प्रयत्न करा.",
    "feedback_thanks": "अभिप्रायाबद्दल धन्यवाद! त्यामुळे आमची माहिती सुधारण्यास मदत होते.",
    "no_more": "या लेखात यापुढे आणखी माहिती नाही. दुसरा प्रश्न विचारा.",
    "nothing_to_continue": 'आधी एखादा प्रश्न विचारा, मग "आणखी" लिहून पुढील माहिती वाचता येईल.',
    "not_understood": "माफ करा, मला समजले नाही. कृपया तुमचा प्रश्न वेगळ्या शब्दांत विचारा.",
    # the bot
    "welcome": "नमस्कार! मी संवाद, ठाणे महानगरपालिकेचा मदतनीस. महापालिकेच्या अधिकृत "
    "लेखांमधून मी तुमच्या प्रश्नांची उत्तरे देतो आणि प्रत्येक उत्तराचा स्रोत सांगतो.",
    "commands": "आदेश: /topics — मी कोणत्या विषयांवर उत्तर देऊ शकतो; /lang — भाषा बदला; "
    "/privacy — तुमची कोणती माहिती ठेवली जाते; /forget — ती पुसा; /help — मदत. प्रश्न थेट "
    "लिहा.",
    "topics_header": "मी या विषयांवर उत्तर देऊ शकतो:",
    "topics_footer": "यापैकी कशाबद्दलही तुमचा प्रश्न लिहा.",
    "no_topics": "माफ करा, सध्या कोणतेही लेख उपलब्ध नाहीत. कृपया नंतर पुन्हा प्रयत्न करा.",
    "text_only": "माफ करा, मी सध्या फक्त लिहिलेले संदेश समजू शकतो. कृपया तुमचा प्रश्न मजकुरात लिहा.",
    "unknown_command": "हा आदेश मला माहीत नाही.",
    "unavailable": "माफ करा, आत्ता उत्तर देणारी सेवा उपलब्ध नाही. कृपया थोड्या वेळाने पुन्हा प्रयत्न करा.",
    "error": "माफ करा, काहीतरी चूक झाली. कृपया पुन्हा प्रयत्न करा.",
    "flood": "तुम्ही खूप वेगाने संदेश पाठवत आहात. कृपया थोडे थांबा आणि मग पुन्हा लिहा.",
    "button_expired": "हे बटण आता चालत नाही. कृपया तुमचा प्रश्न पुन्हा लिहा.",
    "goodbye": "धन्यवाद! पुन्हा भेटू.",
    # privacy
    "privacy": "तुमची माहिती: तुम्ही विचारलेले प्रश्न (आधार, मोबाइल, ई-मेल, पॅन, वाहन क्रमांक "
    "लपवून), निवडलेले लेख आणि 👍/👎 हे कर्मचाऱ्यांना उत्तरे सुधारण्यासाठी {days} दिवस ठेवले "
    "जातात — तुमच्या Telegram ओळखीऐवजी एका गुप्त सांकेतिक क्रमांकाखाली. सर्व माहिती आत्ता "
    "पुसण्यासाठी /forget पाठवा.",
    "forget_confirm": "तुमचे सर्व प्रश्न, अभिप्राय आणि संभाषण कायमचे पुसायचे का?",
    "forget_done": "तुमची माहिती पुसली आहे: {count} नोंदी काढल्या. पुढचा प्रश्न नव्याने सुरू होईल.",
    "forget_cancelled": "ठीक आहे, काहीही पुसले नाही.",
    # staff, on Telegram (shown in both languages: "मराठी / English")
    "staff_stats_header": "📊 प्रश्न",
    "staff_day": "गेले २४ तास",
    "staff_week": "गेले ७ दिवस",
    "staff_no_unanswered": "गेल्या ७ दिवसांत सर्व प्रश्नांना उत्तर मिळाले.",
    "staff_unanswered_header": "❓ उत्तर न मिळालेले प्रश्न (७ दिवस, सर्वाधिक विचारलेले आधी)",
    "staff_reloaded": "🔄 अनुक्रमणिका अद्ययावत केली",
    "staff_reload_failed": "⚠️ अनुक्रमणिका अद्ययावत झाली नाही",
    "staff_check_ok": "✅ सर्व लेख बरोबर आहेत",
    "staff_check_problems": "⚠️ काही फायलींमध्ये चुका आहेत",
    "staff_saved": "✅ लेख जतन केला",
    "staff_replaced": "✅ लेख बदलला",
    "staff_unchanged": "📄 हा लेख आधीच असाच आहे; काहीही बदलले नाही.",
    "staff_rejected": "❌ लेख नाकारला, काहीही जतन केले नाही",
    "staff_exists": "⛔ या id आणि भाषेचा लेख आधीच आहे; बदलण्यासाठी /replace वापरा.",
    "staff_add_usage": "/add नंतर पुढच्या ओळीपासून लेख (--- ने सुरू होणारा) पाठवा, किंवा .md फाइल पाठवा.",
    "staff_invalid_file": "⚠️ ज्ञान फाइल तपासणीत चूक; आधीची चांगली आवृत्ती (असल्यास) चालू राहील.",
    "staff_uploads_too_fast": "⏳ एका मिनिटात खूप लेख पाठवले; कृपया थोडे थांबा.",
    "message_cut": "तुमचा संदेश खूप मोठा आहे: मी फक्त पहिली {limit} अक्षरे वाचली आहेत. कृपया तुमचा "
    "प्रश्न थोडक्यात विचारा.",
    "button_forget": "🗑 माझी माहिती पुसा",
    "button_forget_yes": "होय, पुसा",
    "button_cancel": "रद्द करा",
}

EN: dict[str, str] = {
    "source": "Source",
    "other_language_note": "(This answer is from a Marathi article; it is not available "
    "in English.)",
    "refused": "Sorry, I don't have an article that answers this yet. Your question has been "
    "noted for municipal staff. {helpline} Send /topics to see what I can answer.",
    "helpline": "For urgent help, contact Thane Municipal Corporation's citizen helpline.",
    "offered": "I'm not sure I have an article that answers this. These are the closest "
    "ones; is your question about one of them?",
    "empty": "Please type your question.",
    "button_more": "Read more",
    "button_helpful": "👍 Helpful",
    "button_not_helpful": "👎 Not helpful",
    "button_none_of_these": "None of these",
    "engine_error": "Sorry, something went wrong while looking for the answer; please try "
    "again later.",
    "feedback_thanks": "Thank you for the feedback! It helps us improve the information.",
    "no_more": "There is nothing more in that article. Please ask another question.",
    "nothing_to_continue": 'Ask a question first; then type "more" to read on.',
    "not_understood": "Sorry, I did not understand. Please ask your question in other words.",
    "welcome": "Hello! I am Samvad, the Thane Municipal Corporation helper. I answer your "
    "questions from the corporation's official articles and say where each answer comes from.",
    "commands": "Commands: /topics — what I can answer about; /lang — change language; "
    "/privacy — what is kept about you; /forget — erase it; /help — help. Just type your "
    "question.",
    "topics_header": "I can answer questions about:",
    "topics_footer": "Type your question about any of these.",
    "no_topics": "Sorry, no articles are available right now. Please try again later.",
    "text_only": "Sorry, I can only read text messages for now. Please type your question.",
    "unknown_command": "I don't know that command.",
    "unavailable": "Sorry, the answering service is not available right now. Please try again "
    "in a little while.",
    "error": "Sorry, something went wrong. Please try again.",
    "flood": "You are sending messages very quickly. Please wait a moment, then write again.",
    "button_expired": "This button no longer works. Please type your question again.",
    "goodbye": "Thank you! Goodbye.",
    "privacy": "Your data: the questions you ask (with Aadhaar, mobile, e-mail, PAN and "
    "vehicle numbers hidden), the articles you pick and your 👍/👎 are kept for {days} days "
    "so staff can improve the answers — under a secret code, not your Telegram identity. "
    "Send /forget to erase all of it now.",
    "forget_confirm": "Erase all your questions, feedback and conversation for good?",
    "forget_done": "Your data is erased: {count} records removed. Your next question starts "
    "afresh.",
    "forget_cancelled": "OK, nothing was erased.",
    "staff_stats_header": "Questions",
    "staff_day": "Last 24 hours",
    "staff_week": "Last 7 days",
    "staff_no_unanswered": "No unanswered questions in the last 7 days.",
    "staff_unanswered_header": "Unanswered questions (7 days, most frequent first):",
    "staff_reloaded": "Index updated:",
    "staff_reload_failed": "Re-indexing failed:",
    "staff_check_ok": "All articles are fine",
    "staff_check_problems": "Some files have problems",
    "staff_saved": "Article saved",
    "staff_replaced": "Article replaced",
    "staff_unchanged": "This article is already exactly so; nothing changed.",
    "staff_rejected": "Article rejected, nothing saved:",
    "staff_exists": "An article with this id and language already exists; use /replace to "
    "overwrite it.",
    "staff_add_usage": "Send /add followed by the article (starting with ---) on the next lines, "
    "or send a .md file.",
    "staff_invalid_file": "A knowledge file failed validation; its last good version (if any) "
    "stays in service:",
    "staff_uploads_too_fast": "Too many articles in a minute; please wait a moment.",
    "message_cut": "Your message is very long: I read only its first {limit} characters. "
    "Please ask your question briefly.",
    "button_forget": "🗑 Erase my data",
    "button_forget_yes": "Yes, erase",
    "button_cancel": "Cancel",
}

CATALOGUES: dict[Lang, dict[str, str]] = {"mr": MR, "en": EN}

MONTHS: dict[Lang, tuple[str, ...]] = {
    "en": (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
    "mr": (
        "जानेवारी", "फेब्रुवारी", "मार्च", "एप्रिल", "मे", "जून",
        "जुलै", "ऑगस्ट", "सप्टेंबर", "ऑक्टोबर", "नोव्हेंबर", "डिसेंबर",
    ),
}  # fmt: skip
_DEVANAGARI_DIGITS = str.maketrans("0123456789", "०१२३४५६७८९")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")

# The language buttons: the prompt is in both languages, since the language is not known yet.
LANGUAGE_PROMPT = "भाषा निवडा / Choose your language:"
LANGUAGE_BUTTONS: tuple[tuple[str, str], ...] = (
    ("मराठी", '/choose_language{"language":"mr"}'),
    ("English", '/choose_language{"language":"en"}'),
)
# The bot's commands as Telegram lists them, per language of the user's Telegram app.
COMMANDS: dict[str, dict[Lang, str]] = {
    "start": {"mr": "सुरुवात / Start", "en": "Start / सुरुवात"},
    "topics": {"mr": "विषय / Topics", "en": "Topics / विषय"},
    "lang": {"mr": "भाषा बदला / Language", "en": "Language / भाषा बदला"},
    "help": {"mr": "मदत / Help", "en": "Help / मदत"},
    "privacy": {"mr": "माहितीची गोपनीयता / Privacy", "en": "Privacy / गोपनीयता"},
    "forget": {"mr": "माझी माहिती पुसा / Erase my data", "en": "Erase my data / माहिती पुसा"},
}


def text(key: str, language: Lang) -> str:
    """The catalogue text ``key`` in ``language`` (``KeyError`` for an unknown key)."""
    return CATALOGUES[language][key]


def both(key: str, separator: str = "\n\n") -> str:
    """``key`` in both languages, Marathi first: for a conversation whose language is unknown."""
    return separator.join(CATALOGUES[lang][key] for lang in LANGUAGES)


def say(key: str, language: Lang | None, separator: str = "\n\n") -> str:
    """``key`` in ``language``, or in both languages (:func:`both`) when it is ``None``."""
    return both(key, separator) if language is None else text(key, language)


def written_date(iso_date: str, language: Lang) -> str:
    """``2026-11-29`` written out in ``language``; any other string comes back unchanged."""
    match = _ISO_DATE.match(iso_date.strip())
    if not match:
        return iso_date
    year, month, day = (int(part) for part in match.groups())
    try:
        dt.date(year, month, day)
    except ValueError:
        return iso_date
    written = f"{day} {MONTHS[language][month - 1]} {year}"
    return written.translate(_DEVANAGARI_DIGITS) if language == "mr" else written
