"""English texts of the farmer market."""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    "menu.farmer": "Farmer market",
    "menu.farmer.desc": "Buy and sell produce",
    "start.body": "Tell me what you sell or want to buy (e.g. I want 200 kg of beans near "
                  "Musanze), or choose:",
    "start.sell": "Sell produce",
    "start.buy": "Buy produce",
    "start.mine": "My listings",
    "start.unknown": "I did not understand what you sell or want to buy.",
    "crop.sell.body": "What do you sell? Pick a crop, or type it.",
    "crop.buy.body": "What do you want to buy? Pick a crop, or type it.",
    "crop.button": "Crops",
    "crop.unknown": "I did not recognise that crop.",
    "qty.ask": "How much {crop} do you have? For example: 200 kg, 2 tonnes, 10 sacks.",
    "qty.bad": "I could not read that quantity.",
    "qty.unit": "{amount} of what? Pick the unit, or type the quantity with it (e.g. 200 kg).",
    "qty.unit.button": "Units",
    "unit.kg": "kg",
    "unit.tonne": "tonnes",
    "unit.sack": "sacks",
    "unit.litre": "litres",
    "per.kg": "kg",
    "per.tonne": "tonne",
    "per.sack": "sack",
    "per.litre": "litre",
    "price.ask": "Your price per {per}, in RWF? For example: 800.",
    "price.bad": "I could not read that price. Write an amount in RWF, e.g. 800 or 1.5k.",
    "place.sell.ask": "Where is the produce? Share your location, or type the place "
                      "(e.g. Musanze).",
    "place.buy.ask": "Where do you want to buy? Share your location, or type the place "
                     "(e.g. Musanze).",
    "place.unknown": "I could not find that place.",
    "harvest.ask": "When is (or was) the harvest? Type the date (e.g. 15/10), or skip.",
    "harvest.skip": "Skip",
    "harvest.bad": "I could not read that date. Write it like 15/10/2026, or skip.",
    "listed": "Listed: {quantity} {unit} of {crop} at {price} RWF per {per}, near {place}, "
              "for {days} days. Buyers near you will contact you here. Write menu for more.",
    "here": "your location",
    "results.body": "{count} offers of {crop} near {place}, nearest first. Pick one to see it.",
    "results.button": "Offers",
    "results.row": "{quantity} {unit}",
    "results.row.desc": "{price} RWF/{per} · {km} km away",
    "results.none": "No {crop} on offer within {radius} km of {place} yet. Type another crop "
                    "or place, or menu.",
    "offer.body": "{crop}: {quantity} {unit} at {price} RWF per {per}, {km} km away.{harvest}"
                  "\nInterested? The farmer gets your WhatsApp name and decides.",
    "offer.harvest": " Harvest: {date}.",
    "offer.interested": "I'm interested",
    "offer.back": "Other offers",
    "interest.sent": "The farmer was told. You will get their contact here if they accept. "
                     "Pick another offer, or write menu.",
    "interest.already": "You already told this farmer you are interested.",
    "interest.gone": "This offer is no longer open.",
    "interest.to_farmer": "{buyer} is interested in your {crop} ({quantity} {unit} at "
                          "{price} RWF per {per}), {km} km from you.{wanted}\nAccept to "
                          "share contacts?",
    "interest.wanted": " They want {wanted}.",
    "interest.someone": "A buyer",
    "interest.accept": "Accept",
    "interest.decline": "Decline",
    "matched.buyer": "The farmer accepted your interest in their {crop}. Contact them: "
                     "https://wa.me/{farmer_wa_id}",
    "matched.farmer": "Accepted. Contact {buyer}: https://wa.me/{buyer_wa_id}",
    "declined.buyer": "The farmer declined your interest in their {crop}.",
    "declined.farmer": "Declined. Thank you for answering.",
    "mine.none": "You have no open listings. Write menu to list produce.",
    "mine.body": "Your open listings. Pick one to update or close it.",
    "mine.button": "Listings",
    "mine.row.desc": "{quantity} {unit} · {price} RWF/{per} · {days} days left",
    "manage.body": "{crop}: {quantity} {unit} at {price} RWF per {per}. What would you like "
                   "to do?",
    "manage.qty": "Update quantity",
    "manage.close": "Close listing",
    "manage.qty.ask": "How much {crop} is left? For example: 150 kg.",
    "updated": "Updated: {quantity} {unit} of {crop}.",
    "closed": "Closed: your {crop} is no longer shown to buyers.",
}
