"""Inyandiko z'Ikinyarwanda z'igice cy'akazi."""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    "menu.jobs": "Akazi",
    "menu.jobs.desc": "Tangaza cyangwa ushake akazi",
    "home.body": "Akazi: tangaza akazi, shaka akazi hafi yawe, cyangwa urebe ayo "
                 "watangaje.",
    "button.post_job": "Tangaza akazi",
    "button.find": "Shaka akazi",
    "button.mine": "Akazi natangaje",
    "button.skip": "Simbuka",
    "button.post": "Tangaza",
    "button.cancel": "Reka",
    "button.last": "Aho nari ndi",
    "button.apply": "Saba akazi",
    "button.contact": "Vugana na we",
    "button.decline": "Anga",
    "button.close": "Funga itangazo",
    "button.keep": "Rigumeho",
    "post.title": "Ni akahe kazi? Andika umutwe mugufi (inyuguti {max} gusa), "
                  "urugero: Umutetsi muri resitora.",
    "post.pay": "Gahemba angahe? Andika amafaranga n'igihe, urugero: 5000 ku munsi "
                "cyangwa 150k ku kwezi.",
    "post.place": "Akazi kari he? Ohereza aho kari, cyangwa wandike akarere cyangwa "
                  "umurenge (urugero: Kicukiro).",
    "post.description": "Ongeraho ibisobanuro bigufi (inyuguti {max} gusa), cyangwa "
                        "ukande Simbuka.",
    "post.pinned": "aho wohereje",
    "post.confirm": "Tangaza aka kazi iminsi {days}?\n{title}\nIgihembo: {pay}\n"
                    "Aho kari: {place}",
    "post.done": "Akazi kawe kamaze gutangazwa iminsi {days}; uzabwirwa uwagasabye.",
    "post.cancelled": "Nta cyatangajwe.",
    "find.where": "Uri he? Ohereza aho uri, cyangwa wandike akarere cyangwa umurenge.",
    "find.last": "Cyangwa wongere ushakire aho wari uri ubushize.",
    "find.none": "Nta kazi kari hafi ya km {radius} ubu. Uzongere ugerageze.",
    "find.body": "Akazi {count} hafi yawe, aka hafi mbere. Hitamo kamwe.",
    "find.button": "Akazi",
    "find.row": "{pay} · km {km}",
    "detail.body": "{title}\nIgihembo: {pay}\nIntera: km {km}",
    "detail.place": "Aho kari: {place}",
    "apply.sent": "Wasabye {title}. Umukoresha azagusubiza hano.",
    "apply.again": "Wari warasabye {title}.",
    "apply.gone": "Aka kazi ntikakiboneka.",
    "applied.poster": "{name} yasabye akazi kawe {title}.",
    "applied.gone": "Ubu busabe ntibukiriho.",
    "contact.poster": "Vugana na {name} kuri WhatsApp: {link}",
    "decline.poster": "Wanze {name}.",
    "answer.contacted": "Umukoresha wa {title} arashaka kuvugana nawe: {link}",
    "answer.declined": "Ubusabe bwawe kuri {title} ntibwakiriwe.",
    "answer.closed": "Akazi {title} ntikakiboneka.",
    "mine.none": "Nta kazi ufite gatangajwe.",
    "mine.body": "Akazi {count} watangaje. Hitamo ako ushaka gufunga.",
    "mine.button": "Akazi kanjye",
    "mine.row": "Abasabye {count} · iminsi {days} isigaye",
    "manage.body": "{title}: abasabye {count}. Ufunge iri tangazo?",
    "manage.closed": "{title} yafunzwe, ntikiboneka.",
    "expired": "Itangazo ryawe {title} ryarangiye, ntirikiboneka.",
}
