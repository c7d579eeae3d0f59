"""The "Espace de stockage" over HTTP: a family uploads (multipart), lists and downloads its own
papers; another family gets 404; staff review them; bad files answer 422 in French."""

from __future__ import annotations

from fpdf import FPDF

from canteen_core.domain.actors import Actor, Role

from .conftest import Deployment

ADMIN = Actor.staff("admin", Role.ADMIN)

EXECUTABLE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 100


def pdf_bytes() -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="Certificat medical")
    return bytes(pdf.output())


def _upload(web: Deployment, csrf: str, content: bytes, **fields: str) -> object:
    form = {
        "kind": "certificat_medical",
        "issued_on": "2023-10-02",
        "child_id": "concerto-alban",
        "valid_from": "2023-10-02",
        "valid_until": "2023-10-03",
        **fields,
    }
    return web.client.post(
        "/api/v1/households/CONCERTO/papers",
        data=form,
        files={"file": ("certificat.pdf", content, "application/pdf")},
        headers={"X-CSRF-Token": csrf},
    )


def test_family_uploads_lists_downloads_and_staff_review(web: Deployment) -> None:
    csrf = web.activate(web.template.concerto)
    bad = _upload(web, csrf, EXECUTABLE)
    assert bad.status_code == 422, bad.text  # type: ignore[attr-defined]
    assert "seuls les PDF, JPEG et PNG" in bad.json()["detail"]  # type: ignore[attr-defined]
    done = _upload(web, csrf, pdf_bytes())
    assert done.status_code == 201, done.text  # type: ignore[attr-defined]
    paper = done.json()  # type: ignore[attr-defined]
    assert paper["status"] == "pending"
    assert paper["kind_label"] == "Certificat médical"
    listed = web.client.get("/api/v1/households/CONCERTO/papers").json()
    assert [d["id"] for d in listed["documents"]] == [paper["id"]]
    assert listed["used_bytes"] == paper["size"]
    file = web.client.get(paper["download_url"])
    assert file.status_code == 200
    assert file.headers["content-type"].startswith("application/pdf")
    assert file.content.startswith(b"%PDF-")

    # Another family: the paper does not exist for it.
    web.logout()
    web.activate(web.template.other)
    assert web.client.get(paper["download_url"]).status_code == 404
    assert web.client.get(f"/api/v1/papers/{paper['id']}").status_code == 404
    assert web.client.get("/api/v1/households/CONCERTO/papers").status_code == 403

    # Staff: the list to review, then accept.
    web.logout()
    staff_csrf = web.activate(web.template.staff)
    pending = web.client.get("/api/v1/staff/papers").json()
    assert [d["id"] for d in pending] == [paper["id"]]
    accepted = web.client.post(
        f"/api/v1/staff/papers/{paper['id']}/accept", headers={"X-CSRF-Token": staff_csrf}
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["document"]["status"] == "accepted"
    again = web.client.post(
        f"/api/v1/staff/papers/{paper['id']}/reject",
        json={"reason": "Illisible"},
        headers={"X-CSRF-Token": staff_csrf},
    )
    assert again.status_code == 422
    assert "déjà été examiné" in again.json()["detail"]


def test_payer_sets_postal_address_and_paperless_consent(web: Deployment) -> None:
    csrf = web.activate(web.template.concerto)
    headers = {"X-CSRF-Token": csrf}
    start = web.client.get("/api/v1/households/CONCERTO/paperless").json()
    assert start["paperless"] is False
    bad = web.client.put(
        "/api/v1/households/CONCERTO/postal-address",
        json={"street": "12 rue des Lilas", "postcode": "750", "city": "Paris"},
        headers=headers,
    )
    assert bad.status_code == 422
    assert "code postal" in bad.json()["detail"]
    done = web.client.put(
        "/api/v1/households/CONCERTO/postal-address",
        json={"street": "12 rue des Lilas", "postcode": "75020", "city": "Paris"},
        headers=headers,
    )
    assert done.status_code == 200, done.text
    assert done.json()["postal_address"]["postcode"] == "75020"
    consent = web.client.put(
        "/api/v1/households/CONCERTO/paperless", json={"consent": True}, headers=headers
    )
    assert consent.status_code == 200, consent.text
    assert consent.json()["paperless"] is True
    assert consent.json()["consent_given_at"] is not None
    revoked = web.client.put(
        "/api/v1/households/CONCERTO/paperless", json={"consent": False}, headers=headers
    ).json()
    assert revoked["paperless"] is False
    assert revoked["consent_revoked_at"] is not None
    assert revoked["summary"] == "Vos factures vous sont envoyées par courrier."


def test_the_pages_upload_choose_paperless_and_review(web: Deployment) -> None:
    csrf = web.activate(web.template.concerto)
    space = web.client.get("/foyer/CONCERTO/espace-de-stockage")
    assert space.status_code == 200
    assert "<h1>Espace de stockage</h1>" in space.text
    assert "Aucun document déposé." in space.text
    assert (
        web.client.get("/espace-de-stockage", follow_redirects=False)
        .headers["location"]
        .endswith("/foyer/CONCERTO/espace-de-stockage")
    )
    refused = web.client.post(
        "/foyer/CONCERTO/espace-de-stockage",
        data={"csrf_token": csrf, "kind": "rib", "issued_on": "2023-10-01"},
        files={"file": ("rib.pdf", EXECUTABLE, "application/pdf")},
    )
    assert "seuls les PDF, JPEG et PNG" in refused.text
    sent = web.client.post(
        "/foyer/CONCERTO/espace-de-stockage",
        data={"csrf_token": csrf, "kind": "rib", "issued_on": "2023-10-01"},
        files={"file": ("rib.pdf", pdf_bytes(), "application/pdf")},
        follow_redirects=False,
    )
    assert sent.status_code in (302, 303), sent.text
    listed = web.client.get("/foyer/CONCERTO/espace-de-stockage?fait=depose").text
    assert "Votre document est déposé" in listed
    assert "En attente" in listed
    web.client.post(
        "/foyer/CONCERTO/adresse",
        data={
            "csrf_token": csrf,
            "street": "12 rue des Lilas",
            "postcode": "75020",
            "city": "Paris",
        },
    )
    chosen = web.client.post(
        "/foyer/CONCERTO/facture-dematerialisee", data={"csrf_token": csrf, "choix": "email"}
    )
    assert "Vous recevrez désormais vos factures par courriel" in chosen.text
    assert "12 rue des Lilas" in chosen.text

    web.logout()
    staff_csrf = web.activate(web.template.staff)
    pending = web.client.get("/gestion/documents")
    assert pending.status_code == 200
    assert "Documents en attente (1)" in pending.text
    paper_id = web.canteen.papers.to_review(ADMIN)[0].id
    decided = web.client.post(
        f"/gestion/documents/{paper_id}", data={"csrf_token": staff_csrf, "decision": "accepter"}
    )
    assert "la famille est prévenue" in decided.text
    assert "Aucun document en attente." in decided.text


def test_an_attestation_over_an_invoiced_month_says_from_when_its_quotient_applies(
    web: Deployment,
) -> None:
    """September is invoiced (the demo billed it on 2 October): an attestation CAF dated
    1 September applies from 1 October, and staff are told so (API and page)."""
    csrf = web.activate(web.template.concerto)
    caf = {"kind": "attestation_caf", "child_id": "", "valid_until": "", "family_quotient": "480"}
    for valid_from in ("2023-09-01", "2023-09-04"):
        done = _upload(web, csrf, pdf_bytes(), **caf, valid_from=valid_from)
        assert done.status_code == 201, done.text  # type: ignore[attr-defined]
    first, second = (p.id for p in web.canteen.papers.to_review(ADMIN))
    web.logout()
    staff_csrf = web.activate(web.template.staff)
    accepted = web.client.post(
        f"/api/v1/staff/papers/{first}/accept", headers={"X-CSRF-Token": staff_csrf}
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["quotient_from"] == "2023-10-01"
    assert accepted.json()["billed_until"] == "2023-09-30"
    assert "à partir du 01/10/2023" in accepted.json()["summary"]
    decided = web.client.post(
        f"/gestion/documents/{second}", data={"csrf_token": staff_csrf, "decision": "accepter"}
    )
    assert (
        "Quotient familial appliqué à partir du 01/10/2023 : les jours facturés jusqu'au "
        "30/09/2023 gardent leur prix." in decided.text
    )
