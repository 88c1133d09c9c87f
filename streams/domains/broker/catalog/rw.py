"""Inyandiko z'Ikinyarwanda z'umuhuza rusange."""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    "menu.broker": "Umuhuza rusange",
    "menu.broker.desc": "Tubwire icyo ukeneye: tugushakira ugitanga hafi yawe",
    "start.body": "Mbwira icyo ukeneye n'aho ukeneye (urugero: ndashaka umufundi w'amazi "
                  "i Kicukiro), cyangwa uhitemo:",
    "start.find": "Shaka serivisi",
    "start.vendor": "Andika ubucuruzi",
    "need.ask": "Ukeneye iki, kandi he? Urugero: ndashaka umufundi w'amazi i Kicukiro.",
    "category.body": "Ukeneye iyihe serivisi? Hitamo imwe, cyangwa uyandike.",
    "category.button": "Serivisi",
    "place.ask": "Uyikeneye he? Ohereza aho uri, cyangwa wandike aho ari (urugero: Remera).",
    "place.unknown": "Sinabonye aho hantu.",
    "vendors.none": "Nta {category} uri mu birometero {radius} uvuye {place} kugeza ubu. "
                    "Andika ahandi cyangwa indi serivisi, cyangwa menu.",
    "vendors.body": "{category} {count} hafi ya {place}. Hitamo umwe umwoherereze icyo "
                    "ukeneye.",
    "vendors.button": "Abatanga serivisi",
    "vendors.row.desc": "mu birometero {km}",
    "here": "aho uri",
    "request.sent": "Byoherejwe kuri {vendor}. Dutegereje igisubizo (kugeza ku minota "
                    "{minutes}).",
    "request.waiting": "Turacyategereje igisubizo cya {vendor}. Andika menu kugira ngo "
                       "uve hano.",
    "request.to_vendor": "Icyifuzo gishya cya {user}: {category} hafi ya {place} "
                         "(ibirometero {km}).\n\"{need}\"\nUremera?",
    "request.accept": "Emera",
    "request.decline": "Anga",
    "request.accepted.user": "{vendor} yemeye icyifuzo cyawe. Muvugishe: "
                             "https://wa.me/{vendor_wa_id}",
    "request.accepted.vendor": "Wemeye. Vugisha {user}: https://wa.me/{user_wa_id}",
    "request.declined.user": "{vendor} yanze. Hitamo undi.",
    "request.declined.vendor": "Wanze. Murakoze gusubiza.",
    "request.timeout": "{vendor} ntiyasubije mu minota {minutes}. Hitamo undi.",
    "request.gone": "Iki cyifuzo ntikigifunguye.",
    "request.someone": "umukiriya",
    "connected.next": "Andika menu ku bindi.",
    "vendor.name.ask": "Ubucuruzi bwawe bwitwa iki?",
    "vendor.categories.body": "Utanga iyihe serivisi? Hitamo imwe, cyangwa uyandike.",
    "vendor.more.body": "Serivisi zawe: {categories}. Wongeraho indi?",
    "vendor.more.add": "Ongeraho indi",
    "vendor.more.done": "Ndarangije",
    "vendor.location.ask": "Ohereza aho ubucuruzi bwawe buri, cyangwa wandike aho ari "
                           "(urugero: Remera).",
    "vendor.listed": "{name} yanditswe kuri: {categories}. Abakiriya bari hafi bazakoherereza "
                     "ibyifuzo byabo hano.",
    "vendor.manage.body": "{name} {status} kuri: {categories}. Urashaka gukora iki?",
    "vendor.status.active": "yanditswe",
    "vendor.status.paused": "yahagaritswe by'agateganyo",
    "vendor.update": "Hindura amakuru",
    "vendor.pause": "Hagarika by'igihe",
    "vendor.resume": "Subukura",
    "vendor.paused": "{name} yahagaritswe: nta byifuzo uzabona kugeza usubukuye.",
    "vendor.resumed": "{name} yongeye kwandikwa.",
}
