"""Textes français du courtier général."""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    "menu.broker": "Courtier général",
    "menu.broker.desc": "Dites-nous ce dont vous avez besoin : on trouve un prestataire",
    "start.body": "Dites-moi ce dont vous avez besoin et où (ex. je cherche un plombier "
                  "à Kicukiro), ou choisissez :",
    "start.find": "Trouver un service",
    "start.vendor": "Inscrire mon métier",
    "need.ask": "De quoi avez-vous besoin, et où ? Par exemple : je cherche un plombier "
                "à Kicukiro.",
    "category.body": "Quel service cherchez-vous ? Choisissez-en un, ou écrivez-le.",
    "category.button": "Services",
    "place.ask": "Où en avez-vous besoin ? Partagez votre position, ou écrivez le lieu "
                 "(ex. Remera).",
    "place.unknown": "Je n'ai pas trouvé ce lieu.",
    "vendors.none": "Aucun {category} inscrit à moins de {radius} km de {place} pour "
                    "l'instant. Écrivez un autre lieu ou service, ou menu.",
    "vendors.body": "{count} {category} près de {place}. Choisissez-en un pour lui envoyer "
                    "votre demande.",
    "vendors.button": "Prestataires",
    "vendors.row.desc": "à {km} km",
    "here": "votre position",
    "request.sent": "Envoyé à {vendor}. En attente de sa réponse (jusqu'à {minutes} min).",
    "request.waiting": "Toujours en attente de la réponse de {vendor}. Écrivez menu pour "
                       "quitter.",
    "request.to_vendor": "Nouvelle demande de {user} : {category} près de {place} (à {km} km)."
                         "\n\"{need}\"\nAccepter ?",
    "request.accept": "Accepter",
    "request.decline": "Refuser",
    "request.accepted.user": "{vendor} a accepté votre demande. Contactez-le : "
                             "https://wa.me/{vendor_wa_id}",
    "request.accepted.vendor": "Accepté. Contactez {user} : https://wa.me/{user_wa_id}",
    "request.declined.user": "{vendor} a refusé. Choisissez un autre prestataire.",
    "request.declined.vendor": "Refusé. Merci d'avoir répondu.",
    "request.timeout": "{vendor} n'a pas répondu en {minutes} min. Choisissez un autre "
                       "prestataire.",
    "request.gone": "Cette demande n'est plus ouverte.",
    "request.someone": "un client",
    "connected.next": "Écrivez menu pour autre chose.",
    "vendor.name.ask": "Quel est le nom de votre activité ?",
    "vendor.categories.body": "Quel service proposez-vous ? Choisissez-en un, ou écrivez-le.",
    "vendor.more.body": "Vos services : {categories}. En ajouter un autre ?",
    "vendor.more.add": "Ajouter",
    "vendor.more.done": "Terminé",
    "vendor.location.ask": "Partagez la position de votre activité, ou écrivez le lieu "
                           "(ex. Remera).",
    "vendor.listed": "{name} est inscrit pour : {categories}. Les clients proches vous "
                     "enverront leurs demandes ici.",
    "vendor.manage.body": "{name} est {status} pour : {categories}. Que voulez-vous faire ?",
    "vendor.status.active": "inscrit",
    "vendor.status.paused": "en pause",
    "vendor.update": "Modifier",
    "vendor.pause": "Mettre en pause",
    "vendor.resume": "Reprendre",
    "vendor.paused": "{name} est en pause : aucune demande jusqu'à la reprise.",
    "vendor.resumed": "{name} est de nouveau inscrit.",
}
