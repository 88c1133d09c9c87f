"""English texts of the general broker."""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    "menu.broker": "General broker",
    "menu.broker.desc": "Tell us what you need: we find a vendor near you",
    "start.body": "Tell me what you need and where (e.g. I need a plumber in Kicukiro), "
                  "or choose:",
    "start.find": "Find a service",
    "start.vendor": "List my business",
    "need.ask": "What do you need, and where? For example: I need a plumber in Kicukiro.",
    "category.body": "Which service do you need? Pick one, or type it.",
    "category.button": "Services",
    "place.ask": "Where do you need it? Share your location, or type the place (e.g. Remera).",
    "place.unknown": "I could not find that place.",
    "vendors.none": "No {category} listed within {radius} km of {place} yet. Type another "
                    "place or service, or menu.",
    "vendors.body": "{count} {category} near {place}. Pick one to send them your need.",
    "vendors.button": "Vendors",
    "vendors.row.desc": "{km} km away",
    "here": "your location",
    "request.sent": "Sent to {vendor}. Waiting for their answer (up to {minutes} min).",
    "request.waiting": "Still waiting for {vendor} to answer. Write menu to leave.",
    "request.to_vendor": "New request from {user}: {category} near {place} ({km} km away).\n"
                         "\"{need}\"\nAccept?",
    "request.accept": "Accept",
    "request.decline": "Decline",
    "request.accepted.user": "{vendor} accepted your request. Contact them: "
                             "https://wa.me/{vendor_wa_id}",
    "request.accepted.vendor": "Accepted. Contact {user}: https://wa.me/{user_wa_id}",
    "request.declined.user": "{vendor} declined. Pick another vendor.",
    "request.declined.vendor": "Declined. Thank you for answering.",
    "request.timeout": "{vendor} did not answer within {minutes} min. Pick another vendor.",
    "request.gone": "This request is no longer open.",
    "request.someone": "a customer",
    "connected.next": "Write menu for anything else.",
    "vendor.name.ask": "What is the name of your business?",
    "vendor.categories.body": "Which service do you offer? Pick one, or type it.",
    "vendor.more.body": "Your services: {categories}. Add another?",
    "vendor.more.add": "Add another",
    "vendor.more.done": "Done",
    "vendor.location.ask": "Share your business's location, or type its place (e.g. Remera).",
    "vendor.listed": "{name} is listed for: {categories}. Customers near you will send you "
                     "their requests here.",
    "vendor.manage.body": "{name} is {status} for: {categories}. What would you like to do?",
    "vendor.status.active": "listed",
    "vendor.status.paused": "paused",
    "vendor.update": "Update details",
    "vendor.pause": "Pause listing",
    "vendor.resume": "Resume listing",
    "vendor.paused": "{name} is paused: you will get no requests until you resume it.",
    "vendor.resumed": "{name} is listed again.",
}
