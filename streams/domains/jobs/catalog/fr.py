"""Textes français du domaine des emplois."""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    "menu.jobs": "Emplois",
    "menu.jobs.desc": "Publier ou trouver un emploi",
    "home.body": "Emplois : publiez une offre, trouvez un emploi près de vous, ou "
                 "voyez vos offres.",
    "button.post_job": "Publier une offre",
    "button.find": "Trouver un emploi",
    "button.mine": "Mes offres",
    "button.skip": "Passer",
    "button.post": "Publier",
    "button.cancel": "Annuler",
    "button.last": "Dernière position",
    "button.apply": "Postuler",
    "button.contact": "Contacter",
    "button.decline": "Refuser",
    "button.close": "Fermer l'offre",
    "button.keep": "La garder",
    "post.title": "Quel est l'emploi ? Tapez un titre court ({max} caractères au plus), "
                  "par ex. Cuisinier au restaurant.",
    "post.pay": "Quel est le salaire ? Tapez le montant et, si possible, la période, "
                "par ex. 5000 par jour ou 150k/mois.",
    "post.place": "Où est l'emploi ? Partagez sa position, ou tapez le district ou le "
                  "secteur (par ex. Kicukiro).",
    "post.description": "Ajoutez une courte description ({max} caractères au plus), "
                        "ou touchez Passer.",
    "post.pinned": "la position partagée",
    "post.confirm": "Publier cette offre pour {days} jours ?\n{title}\nSalaire : {pay}\n"
                    "Lieu : {place}",
    "post.done": "Votre offre est publiée pour {days} jours ; vous serez prévenu à "
                 "chaque candidature.",
    "post.cancelled": "Rien n'a été publié.",
    "find.where": "Où êtes-vous ? Partagez votre position, ou tapez votre district ou "
                  "secteur.",
    "find.last": "Ou cherchez à nouveau depuis votre dernière position.",
    "find.none": "Aucune offre ouverte à moins de {radius} km pour le moment. Réessayez "
                 "plus tard.",
    "find.body": "{count} offres près de vous, la plus proche d'abord. Choisissez-en une.",
    "find.button": "Offres",
    "find.row": "{pay} · {km} km",
    "detail.body": "{title}\nSalaire : {pay}\nDistance : {km} km",
    "detail.place": "Lieu : {place}",
    "apply.sent": "Vous avez postulé à {title}. L'employeur répondra ici.",
    "apply.again": "Vous avez déjà postulé à {title}.",
    "apply.gone": "Cette offre n'est plus ouverte.",
    "applied.poster": "{name} a postulé à votre offre {title}.",
    "applied.gone": "Cette candidature n'est plus ouverte.",
    "contact.poster": "Contactez {name} sur WhatsApp : {link}",
    "decline.poster": "Vous avez refusé {name}.",
    "answer.contacted": "L'employeur de {title} veut vous parler : {link}",
    "answer.declined": "Votre candidature à {title} n'a pas été retenue.",
    "answer.closed": "L'offre {title} n'est plus ouverte.",
    "mine.none": "Vous n'avez aucune offre ouverte.",
    "mine.body": "Vos {count} offres ouvertes. Choisissez-en une pour la fermer.",
    "mine.button": "Mes offres",
    "mine.row": "{count} candidats · {days} jours restants",
    "manage.body": "{title} : {count} candidats. Fermer cette offre ?",
    "manage.closed": "{title} est fermée et n'est plus affichée.",
    "expired": "Votre offre {title} a expiré et n'est plus affichée.",
}
