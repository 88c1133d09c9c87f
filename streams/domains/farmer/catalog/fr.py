"""Textes français du marché agricole."""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    "menu.farmer": "Marché agricole",
    "menu.farmer.desc": "Acheter et vendre des produits",
    "start.body": "Dites-moi ce que vous vendez ou voulez acheter (ex. je cherche 200 kg de "
                  "haricots près de Musanze), ou choisissez :",
    "start.sell": "Vendre",
    "start.buy": "Acheter",
    "start.mine": "Mes annonces",
    "start.unknown": "Je n'ai pas compris ce que vous vendez ou voulez acheter.",
    "crop.sell.body": "Que vendez-vous ? Choisissez un produit, ou écrivez-le.",
    "crop.buy.body": "Que voulez-vous acheter ? Choisissez un produit, ou écrivez-le.",
    "crop.button": "Produits",
    "crop.unknown": "Je n'ai pas reconnu ce produit.",
    "qty.ask": "Quelle quantité de {crop} avez-vous ? Par exemple : 200 kg, 2 tonnes, "
               "10 sacs.",
    "qty.bad": "Je n'ai pas pu lire cette quantité.",
    "qty.unit": "{amount} de quoi ? Choisissez l'unité, ou écrivez la quantité avec son "
                "unité (ex. 200 kg).",
    "qty.unit.button": "Unités",
    "unit.kg": "kg",
    "unit.tonne": "tonnes",
    "unit.sack": "sacs",
    "unit.litre": "litres",
    "per.kg": "kg",
    "per.tonne": "tonne",
    "per.sack": "sac",
    "per.litre": "litre",
    "price.ask": "Votre prix par {per}, en RWF ? Par exemple : 800.",
    "price.bad": "Je n'ai pas pu lire ce prix. Écrivez un montant en RWF, ex. 800 ou 1.5k.",
    "place.sell.ask": "Où se trouvent les produits ? Partagez votre position, ou écrivez le "
                      "lieu (ex. Musanze).",
    "place.buy.ask": "Où voulez-vous acheter ? Partagez votre position, ou écrivez le lieu "
                     "(ex. Musanze).",
    "place.unknown": "Je n'ai pas trouvé ce lieu.",
    "harvest.ask": "Quand a lieu (ou a eu lieu) la récolte ? Écrivez la date (ex. 15/10), ou "
                   "passez.",
    "harvest.skip": "Passer",
    "harvest.bad": "Je n'ai pas pu lire cette date. Écrivez-la comme 15/10/2026, ou passez.",
    "listed": "Annonce publiée : {quantity} {unit} de {crop} à {price} RWF par {per}, près "
              "de {place}, pour {days} jours. Les acheteurs proches vous contacteront ici. "
              "Écrivez menu pour la suite.",
    "here": "votre position",
    "results.body": "{count} offres de {crop} près de {place}, les plus proches d'abord. "
                    "Choisissez-en une pour la voir.",
    "results.button": "Offres",
    "results.row": "{quantity} {unit}",
    "results.row.desc": "{price} RWF/{per} · à {km} km",
    "results.none": "Aucune offre de {crop} à moins de {radius} km de {place} pour l'instant. "
                    "Écrivez un autre produit ou lieu, ou menu.",
    "offer.body": "{crop} : {quantity} {unit} à {price} RWF par {per}, à {km} km.{harvest}"
                  "\nIntéressé ? L'agriculteur reçoit votre nom WhatsApp et décide.",
    "offer.harvest": " Récolte : {date}.",
    "offer.interested": "Je suis intéressé",
    "offer.back": "Autres offres",
    "interest.sent": "L'agriculteur a été prévenu. Vous recevrez son contact ici s'il "
                     "accepte. Choisissez une autre offre, ou écrivez menu.",
    "interest.already": "Vous avez déjà signalé votre intérêt à cet agriculteur.",
    "interest.gone": "Cette offre n'est plus ouverte.",
    "interest.to_farmer": "{buyer} est intéressé par vos {crop} ({quantity} {unit} à "
                          "{price} RWF par {per}), à {km} km de vous.{wanted}\nAccepter "
                          "d'échanger vos contacts ?",
    "interest.wanted": " Il cherche {wanted}.",
    "interest.someone": "Un acheteur",
    "interest.accept": "Accepter",
    "interest.decline": "Refuser",
    "matched.buyer": "L'agriculteur a accepté votre intérêt pour ses {crop}. Contactez-le : "
                     "https://wa.me/{farmer_wa_id}",
    "matched.farmer": "Accepté. Contactez {buyer} : https://wa.me/{buyer_wa_id}",
    "declined.buyer": "L'agriculteur a décliné votre intérêt pour ses {crop}.",
    "declined.farmer": "Refusé. Merci d'avoir répondu.",
    "mine.none": "Vous n'avez aucune annonce ouverte. Écrivez menu pour vendre.",
    "mine.body": "Vos annonces ouvertes. Choisissez-en une pour la modifier ou la fermer.",
    "mine.button": "Annonces",
    "mine.row.desc": "{quantity} {unit} · {price} RWF/{per} · encore {days} jours",
    "manage.body": "{crop} : {quantity} {unit} à {price} RWF par {per}. Que voulez-vous "
                   "faire ?",
    "manage.qty": "Changer la quantité",
    "manage.close": "Fermer l'annonce",
    "manage.qty.ask": "Combien de {crop} reste-t-il ? Par exemple : 150 kg.",
    "updated": "Mis à jour : {quantity} {unit} de {crop}.",
    "closed": "Fermée : vos {crop} ne sont plus montrés aux acheteurs.",
}
