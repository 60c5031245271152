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
    # subscriptions and notices (no placeholders: the code puts names and numbers after them)
    "subscribe_header": "कोणत्या विषयांवरील नवीन सूचना तुम्हाला हव्या आहेत? विषय निवडा (✅ = निवडलेला; "
    "पुन्हा दाबल्यास रद्द होतो):",
    "subscribed": "🔔 या विषयावरील नवीन सूचना तुम्हाला पाठवल्या जातील:",
    "already_subscribed": "🔔 या विषयाच्या सूचना तुम्हाला आधीच मिळतात:",
    "unsubscribed": "🔕 या विषयावरील सूचना आता पाठवल्या जाणार नाहीत:",
    "unsubscribed_all": "🔕 तुमची सर्व सदस्यत्वे रद्द केली; तुमचा चॅट क्रमांकही काढला.",
    "not_subscribed": "या विषयाच्या सूचना तुम्हाला आधीपासूनच पाठवल्या जात नाहीत:",
    "unsubscribe_header": "कोणत्या विषयाच्या सूचना थांबवायच्या?",
    "no_subscriptions": "तुम्ही कोणत्याही विषयाच्या सूचनांचे सदस्य नाही. विषय निवडण्यासाठी "
    "/subscribe पाठवा.",
    "my_subscriptions": "तुम्हाला या विषयांवरील नवीन सूचना मिळतात:",
    "subscriptions_footer": "/unsubscribe — सूचना थांबवा; /subscribe — आणखी विषय.",
    "subscription_privacy": "सूचना पाठवण्यासाठी तुमचा Telegram चॅट क्रमांक आणि भाषा, सदस्यत्व "
    "चालू असेपर्यंतच, ठेवली जाते; /unsubscribe किंवा /forget ने ती लगेच काढली जाते.",
    "no_topics_to_subscribe": "सध्या सूचनांसाठी कोणतेही विषय उपलब्ध नाहीत. कृपया नंतर पुन्हा प्रयत्न करा.",
    "unknown_topic": "हा विषय उपलब्ध नाही. विषय पाहण्यासाठी /subscribe पाठवा.",
    "commands_notices": "/subscribe — नवीन सूचनांसाठी विषय निवडा; /mysubscriptions — तुमचे विषय; "
    "/unsubscribe — सूचना थांबवा.",
    "button_subscribe_offer": "🔔 नवीन सूचना कळवा:",
    "button_unsubscribe": "🔕 सदस्यत्व रद्द करा",
    "button_all_topics": "सर्व विषय",
    "notice_header": "📣 नवीन सूचना",
    "notice_other_language": "(ही सूचना इंग्रजी लेखातून आहे; हा लेख मराठीत उपलब्ध नाही.)",
    "notice_gone": "ही सूचना आता उपलब्ध नाही. तुमचा प्रश्न थेट लिहा.",
    # staff: notices and charts (shown in both languages)
    "staff_notice_ask": "📣 नवीन लेखाची सूचना सदस्यांना पाठवायची?",
    "staff_notice_again": "📣 ही सूचना पुन्हा पाठवायची? हा लेख आधी पाठवला होता",
    "staff_notice_subscribers": "सदस्य",
    "staff_notice_topics": "विषय",
    "button_notice_send": "📣 पाठवा",
    "button_notice_drop": "पाठवू नका",
    "staff_notice_sending": "📤 पाठवत आहे",
    "staff_notice_done": "✅ सूचना पाठवली",
    "staff_notice_sent": "पोहोचली",
    "staff_notice_blocked": "बॉट बंद केलेले (यादीतून काढले)",
    "staff_notice_failed": "पाठवता आली नाही",
    "staff_notice_withdrawn": "दरम्यान सदस्यत्व रद्द केले",
    "staff_notice_resent": "बॉट थांबल्याने पुन्हा पाठवल्या",
    "staff_notice_dropped": "ठीक आहे, सूचना पाठवली नाही. नंतर पाठवण्यासाठी:",
    "staff_notice_decided": "या सूचनेचा निर्णय आधीच झाला आहे.",
    "staff_notice_empty": "या लेखाच्या विषयांना आता कोणी सदस्य नाही; काहीही पाठवले नाही.",
    "staff_notice_no_article": "हा लेख आता अनुक्रमणिकेत नाही; सूचना पाठवली नाही.",
    "staff_notice_no_subscribers": "या लेखाच्या विषयांचे कोणी सदस्य नाहीत; सूचना नाही.",
    "staff_notice_no_topics": "या लेखाचे tags कोणत्याही विषयात (knowledge/topics.yml) नाहीत; "
    "सूचना नाही.",
    "staff_notify_usage": "/notify नंतर लेखाचा id लिहा, उदा. /notify water-cut-kopri",
    "staff_notify_unknown": "या id चा लेख अनुक्रमणिकेत नाही:",
    "staff_edit_not_resent": "हा लेख आधी सदस्यांना पाठवला होता; बदल आपोआप पुन्हा पाठवला जात नाही. "
    "पुन्हा पाठवण्यासाठी:",
    "staff_chart_caption": "📊 प्रश्न दररोज",
    "chart_title": "प्रश्न दररोज",
    "chart_days": "दिवस",
    "chart_answered": "उत्तर दिले",
    "chart_offered": "जवळचे लेख सुचवले",
    "chart_refused": "लेख नाही",
    "chart_feedback": "अभिप्राय",
    "chart_helpful": "उपयोगी",
    "chart_not_helpful": "उपयोगी नाही",
    "chart_questions": "प्रश्न",
    "language_mr": "मराठी",
    "language_en": "इंग्रजी",
    "report_title": "संवाद: नागरिकांचे प्रश्न",
    "report_period": "कालावधी",
    "report_by_language": "भाषेनुसार",
    "report_language": "भाषा",
    "report_top_unanswered": "उत्तर न मिळालेले प्रश्न (सर्वाधिक विचारलेले आधी)",
    "report_times": "वेळा",
    "report_none": "काहीही नाही.",
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
    "subscribe_header": "Which topics do you want new notices about? Choose (✅ = chosen; press "
    "again to stop):",
    "subscribed": "🔔 You will be sent new notices about:",
    "already_subscribed": "🔔 You already get notices about:",
    "unsubscribed": "🔕 You will no longer be sent notices about:",
    "unsubscribed_all": "🔕 All your subscriptions are cancelled, and your chat number removed.",
    "not_subscribed": "You were not getting notices about:",
    "unsubscribe_header": "Stop notices about which topic?",
    "no_subscriptions": "You are not subscribed to notices about any topic. Send /subscribe to "
    "choose some.",
    "my_subscriptions": "You get new notices about:",
    "subscriptions_footer": "/unsubscribe — stop notices; /subscribe — more topics.",
    "subscription_privacy": "To send you notices, your Telegram chat number and language are kept "
    "only while you are subscribed; /unsubscribe or /forget removes them at once.",
    "no_topics_to_subscribe": "There are no topics to get notices about yet. Please try again "
    "later.",
    "unknown_topic": "That topic is not available. Send /subscribe to see the topics.",
    "commands_notices": "/subscribe — choose topics for new notices; /mysubscriptions — your "
    "topics; /unsubscribe — stop notices.",
    "button_subscribe_offer": "🔔 Tell me about new notices:",
    "button_unsubscribe": "🔕 Unsubscribe",
    "button_all_topics": "All topics",
    "notice_header": "📣 New notice",
    "notice_other_language": "(This notice is from a Marathi article; it is not available in "
    "English.)",
    "notice_gone": "This notice is no longer available. Please type your question.",
    "staff_notice_ask": "Send a notice of the new article to subscribers?",
    "staff_notice_again": "Send this notice again? The article was sent before",
    "staff_notice_subscribers": "subscribers",
    "staff_notice_topics": "topics",
    "button_notice_send": "Send",
    "button_notice_drop": "Don't send",
    "staff_notice_sending": "Sending",
    "staff_notice_done": "Notice sent",
    "staff_notice_sent": "delivered",
    "staff_notice_blocked": "had blocked the bot (removed)",
    "staff_notice_failed": "could not be sent",
    "staff_notice_withdrawn": "unsubscribed meanwhile",
    "staff_notice_resent": "sent again after the bot stopped",
    "staff_notice_dropped": "OK, the notice was not sent. To send it later:",
    "staff_notice_decided": "This notice was already decided.",
    "staff_notice_empty": "Nobody is subscribed to this article's topics any more; nothing sent.",
    "staff_notice_no_article": "This article is no longer in the index; the notice was not sent.",
    "staff_notice_no_subscribers": "Nobody is subscribed to this article's topics; no notice.",
    "staff_notice_no_topics": "None of this article's tags is in a topic (knowledge/topics.yml); "
    "no notice.",
    "staff_notify_usage": "Send /notify followed by an article id, e.g. /notify water-cut-kopri",
    "staff_notify_unknown": "No article with this id in the index:",
    "staff_edit_not_resent": "This article was sent to subscribers before; an edit is not sent "
    "again by itself. To send it again:",
    "staff_chart_caption": "Questions per day",
    "chart_title": "Questions per day",
    "chart_days": "days",
    "chart_answered": "answered",
    "chart_offered": "closest articles offered",
    "chart_refused": "no article",
    "chart_feedback": "Feedback",
    "chart_helpful": "helpful",
    "chart_not_helpful": "not helpful",
    "chart_questions": "questions",
    "language_mr": "Marathi",
    "language_en": "English",
    "report_title": "Samvad: what citizens asked",
    "report_period": "Period",
    "report_by_language": "By language",
    "report_language": "Language",
    "report_top_unanswered": "Unanswered questions (most frequent first)",
    "report_times": "times",
    "report_none": "None.",
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
    "subscribe": {"mr": "सूचनांसाठी विषय निवडा / Subscribe", "en": "Subscribe / सूचना हव्यात"},
    "mysubscriptions": {"mr": "माझे विषय / My subscriptions", "en": "My subscriptions / माझे विषय"},
    "unsubscribe": {"mr": "सूचना थांबवा / Unsubscribe", "en": "Unsubscribe / सूचना थांबवा"},
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
