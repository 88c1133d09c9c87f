"""The jobs domain's message templates (decision 0015): a poster told of an application
days after posting, an applicant told of the answer, a post's end; quick replies carry
the interactive buttons' ids (``jobapp:contact:<job>:<applicant>``)."""

from __future__ import annotations

from streams.engine.templates import Template

APPLIED = Template(
    name="jobs_application",
    bodies={
        "en": "New application: {{1}} applied to your job post \"{{2}}\". Contact them?",
        "fr": "Nouvelle candidature : {{1}} a postulé à votre offre « {{2}} ». Le contacter ?",
        "rw": "Usaba akazi mushya: {{1}} yasabye akazi \"{{2}}\". Wamuvugisha?",
    },
    examples=("Eric", "Shop assistant"),
    buttons={"en": ("Contact", "Decline"), "fr": ("Contacter", "Refuser"),
             "rw": ("Vugana na we", "Anga")},
)
ANSWER = Template(
    name="jobs_application_answer",
    bodies={
        "en": "News about your application to \"{{1}}\": {{2}} Reply to see more.",
        "fr": "Des nouvelles de votre candidature à « {{1}} » : {{2}} Répondez pour en "
              "savoir plus.",
        "rw": "Amakuru ku busabe bwawe bw'akazi \"{{1}}\": {{2}} Subiza umenye byinshi.",
    },
    examples=("Shop assistant", "the poster wants to talk to you: https://wa.me/250788000111."),
)
EXPIRED = Template(
    name="jobs_post_expired",
    bodies={
        "en": "Your job post \"{{1}}\" has expired and is no longer shown.",
        "fr": "Votre offre « {{1}} » a expiré et n'est plus affichée.",
        "rw": "Itangazo ryawe ry'akazi \"{{1}}\" ryararangiye, ntirikigaragara.",
    },
    examples=("Shop assistant",),
)

TEMPLATES = (APPLIED, ANSWER, EXPIRED)
