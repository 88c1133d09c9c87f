"""Inyandiko z'Ikinyarwanda z'isoko ry'abahinzi."""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    "menu.farmer": "Isoko ry'abahinzi",
    "menu.farmer.desc": "Gura kandi ugurishe umusaruro",
    "start.body": "Mbwira icyo ugurisha cyangwa ushaka kugura (urugero: ndashaka ibiro 200 "
                  "by'ibishyimbo i Musanze), cyangwa uhitemo:",
    "start.sell": "Gurisha umusaruro",
    "start.buy": "Gura umusaruro",
    "start.mine": "Ibyo natangaje",
    "start.unknown": "Sinumvise icyo ugurisha cyangwa ushaka kugura.",
    "crop.sell.body": "Ugurisha iki? Hitamo igihingwa, cyangwa ucyandike.",
    "crop.buy.body": "Ushaka kugura iki? Hitamo igihingwa, cyangwa ucyandike.",
    "crop.button": "Ibihingwa",
    "crop.unknown": "Sinamenye icyo gihingwa.",
    "qty.ask": "Ufite {crop} bingana iki? Urugero: ibiro 200, toni 2, imifuka 10.",
    "qty.bad": "Sinashoboye gusoma uwo mubare.",
    "qty.unit": "{amount} by'iki? Hitamo igipimo, cyangwa wandike umubare n'igipimo "
                "(urugero: ibiro 200).",
    "qty.unit.button": "Ibipimo",
    "unit.kg": "ibiro",
    "unit.tonne": "toni",
    "unit.sack": "imifuka",
    "unit.litre": "litiro",
    "per.kg": "ikilo",
    "per.tonne": "toni",
    "per.sack": "umufuka",
    "per.litre": "litiro",
    "price.ask": "Igiciro cyawe kuri {per} imwe, mu mafaranga (RWF)? Urugero: 800.",
    "price.bad": "Sinashoboye gusoma icyo giciro. Andika amafaranga, urugero: 800 cyangwa "
                 "1.5k.",
    "place.sell.ask": "Umusaruro uri he? Ohereza aho uri, cyangwa wandike aho ari "
                      "(urugero: Musanze).",
    "place.buy.ask": "Urashaka kugurira he? Ohereza aho uri, cyangwa wandike aho ari "
                     "(urugero: Musanze).",
    "place.unknown": "Sinabonye aho hantu.",
    "harvest.ask": "Isarura ni ryari (cyangwa ryabaye ryari)? Andika itariki (urugero: "
                   "15/10), cyangwa usimbuke.",
    "harvest.skip": "Simbuka",
    "harvest.bad": "Sinashoboye gusoma iyo tariki. Yandike nka 15/10/2026, cyangwa usimbuke.",
    "listed": "Byatangajwe: {unit} {quantity} za {crop} ku {price} RWF kuri {per}, hafi ya "
              "{place}, mu minsi {days}. Abaguzi bari hafi bazakuvugisha hano. Andika menu "
              "ku bindi.",
    "here": "aho uri",
    "results.body": "Hari {count} bagurisha {crop} hafi ya {place}, abegereye mbere. Hitamo "
                    "kimwe ukirebe.",
    "results.button": "Ibitangwa",
    "results.row": "{unit} {quantity}",
    "results.row.desc": "{price} RWF/{per} · ibirometero {km}",
    "results.none": "Nta {crop} iri ku isoko mu birometero {radius} uvuye {place} kugeza ubu. "
                    "Andika ikindi gihingwa cyangwa ahandi, cyangwa menu.",
    "offer.body": "{crop}: {unit} {quantity} ku {price} RWF kuri {per}, mu birometero "
                  "{km}.{harvest}\nUrabishaka? Umuhinzi abona izina ryawe rya WhatsApp "
                  "agahitamo.",
    "offer.harvest": " Isarura: {date}.",
    "offer.interested": "Ndabishaka",
    "offer.back": "Ibindi bitangwa",
    "interest.sent": "Umuhinzi yabimenyeshejwe. Nabyemera uzabona nimero ye hano. Hitamo "
                     "ikindi, cyangwa wandike menu.",
    "interest.already": "Wamaze kubwira uyu muhinzi ko ubishaka.",
    "interest.gone": "Iki gitangwa ntikigihari.",
    "interest.to_farmer": "{buyer} arashaka {crop} zawe ({unit} {quantity} ku {price} RWF "
                          "kuri {per}), mu birometero {km} uvuye aho uri.{wanted}\n"
                          "Wemera ko muhana nimero?",
    "interest.wanted": " Arashaka {wanted}.",
    "interest.someone": "Umuguzi",
    "interest.accept": "Emera",
    "interest.decline": "Anga",
    "matched.buyer": "Umuhinzi yemeye ko ushaka {crop} ze. Muvugishe: "
                     "https://wa.me/{farmer_wa_id}",
    "matched.farmer": "Wemeye. Vugisha {buyer}: https://wa.me/{buyer_wa_id}",
    "declined.buyer": "Umuhinzi yanze ubusabe bwawe bwa {crop} ze.",
    "declined.farmer": "Wanze. Murakoze gusubiza.",
    "mine.none": "Nta kintu ufite ku isoko. Andika menu kugira ngo ugurishe.",
    "mine.body": "Ibyo watangaje biri ku isoko. Hitamo kimwe ugihindure cyangwa ugifunge.",
    "mine.button": "Ibyo natangaje",
    "mine.row.desc": "{unit} {quantity} · {price} RWF/{per} · hasigaye iminsi {days}",
    "manage.body": "{crop}: {unit} {quantity} ku {price} RWF kuri {per}. Urashaka gukora "
                   "iki?",
    "manage.qty": "Hindura ingano",
    "manage.close": "Funga",
    "manage.qty.ask": "Hasigaye {crop} zingana iki? Urugero: ibiro 150.",
    "updated": "Byahinduwe: {unit} {quantity} za {crop}.",
    "closed": "Byafunzwe: {crop} zawe ntizikigaragara ku baguzi.",
}
