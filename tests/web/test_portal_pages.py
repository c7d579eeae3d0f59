"""Portal pages over HTTP: the month grid's rows, the roll call's names, the back office's
reminders for finance staff, and a mandate's IBAN change and revocation."""

from __future__ import annotations

import html
import re
from datetime import datetime
from pathlib import Path

import attrs
import pytest

import canteen_adapters.web
from canteen_adapters.cli.demo import ADMIN
from canteen_core.domain.actors import Actor, Role
from canteen_core.domain.clock import PARIS
from canteen_core.domain.errors import NotAuthorizedError

from .conftest import CONCERTO_ENROLLMENT, NEW_PASSWORD, Deployment, welcome
from .test_family import bill_october


def test_october_month_view_has_no_empty_week_39(family: tuple[Deployment, str]) -> None:
    web, _ = family
    page = web.client.get("/reservations/CONCERTO-alban-rs?vue=mois&date=2023-10-01")
    assert page.status_code == 200
    weeks = re.findall(r'<th scope="row">Semaine (\d+)</th>', page.text)
    assert weeks == ["40", "41", "42", "43", "44"]


def test_roll_call_shows_names_not_ids(web: Deployment) -> None:
    web.activate(web.template.staff)
    page = web.client.get("/gestion/appel?site=ronde&jour=2023-10-06")
    assert page.status_code == 200
    rows = re.findall(r"<tr>\s*<td>([^<]*)</td><td>([^<]*)</td>", page.text)
    assert ("CONCERTO Maman", "Alban CONCERTO") in rows
    assert all(household != "CONCERTO" and "-" not in child for household, child in rows)
    # The enrollment id stays only as the form field's name.
    assert 'name="presence-CONCERTO-alban-rs"' in page.text


def test_back_office_requests_show_names_not_ids(web: Deployment) -> None:
    csrf = web.activate(web.template.concerto)
    web.client.post(
        f"/api/v1/enrollments/{CONCERTO_ENROLLMENT}/reservations",
        json={"changes": [{"day": "2023-10-10", "booked": True}]},
        headers={"X-CSRF-Token": csrf},
    )
    web.logout()
    web.activate(web.template.staff)
    page = web.client.get("/gestion")
    assert page.status_code == 200
    body = page.text.split("<tbody>", 1)[1]
    cells = re.findall(r'<td><a href="[^"]*">([^<]*)</a></td>\s*<td>([^<]*)</td>', body)
    assert cells == [("CONCERTO Maman", "Alban CONCERTO")]
    # The ids stay only in the link and the form's action, never as a cell's text.
    assert re.search(r"<td>[^<]*-[^<]*</td>", body) is None


def test_a_finance_only_account_reads_the_reminders_page(web: Deployment) -> None:
    web.canteen.accounts.invite(
        ADMIN,
        email="regie@ronde.example",
        display_name="Régie",
        roles=(Role.FINANCE,),
        username="regie",
        account_id="regie",
    )
    web.activate(welcome(web.canteen, "regie"))
    bill_october(web)
    web.clock.set(datetime(2023, 12, 20, 9, 0, tzinfo=PARIS))  # October's invoice is overdue
    csrf = web.login("regie", NEW_PASSWORD)
    sent = web.client.post("/gestion/relances", data={"csrf_token": csrf})
    assert sent.status_code == 200, sent.text
    assert "relance(s) pour" in sent.text
    page = web.client.get("/gestion/relances")
    assert page.status_code == 200, page.text
    assert "@" in page.text.split("<tbody>", 1)[1]  # a reminder's recipient is listed
    with pytest.raises(NotAuthorizedError):
        web.canteen.accounts.outbox(Actor.staff("regie", Role.FINANCE))


def test_logging_out_from_the_pages_ends_the_session_and_is_audited(
    family: tuple[Deployment, str],
) -> None:
    web, csrf = family
    left = web.client.post("/deconnexion", data={"csrf_token": csrf}, follow_redirects=False)
    assert left.status_code in (302, 303)
    assert left.headers["location"] == "/connexion?au-revoir=1"
    assert web.client.get("/api/v1/session").status_code == 401
    (entry,) = web.canteen.audit.entries(ADMIN, action="log_out")
    assert entry.actor_id == "concerto-maman"


def test_the_direct_debit_page_says_when_it_is_not_configured(web: Deployment) -> None:
    """The demo has no ``[payment.sepa]``: the back office's "Prélèvements" page says so at
    once instead of offering a form that can only be refused."""
    csrf = web.activate(web.template.staff)
    shown = web.client.get("/gestion/prelevements")
    assert shown.status_code == 200, shown.text
    assert "Le prélèvement SEPA n'est pas configuré sur ce portail" in shown.text
    assert "Produire le fichier de prélèvement" not in shown.text
    # ... and the staff menu does not lead there, as the families' menu does not.
    menu = web.client.get("/gestion/facturation").text
    assert 'href="/gestion/relances"' in menu
    assert 'href="/gestion/prelevements"' not in menu
    refused = web.client.post("/gestion/prelevements", data={"csrf_token": csrf})
    assert refused.status_code == 404
    assert refused.text.count("pas configuré sur ce portail") == 1


def test_the_closures_page_asks_to_confirm_a_closure_over_billed_days(web: Deployment) -> None:
    """Closing a day of a month already invoiced cannot be undone and the next run credits
    it: the page refuses it first with how many meals, for how many families, and a box to
    tick; ticked, the closure is stored and the line says what will be credited."""
    csrf = web.activate(web.template.staff)
    web.clock.set(datetime(2023, 11, 2, 9, 0, tzinfo=PARIS))
    web.canteen.billing.run_postpaid(ADMIN, "2023-10")
    form = {"csrf_token": csrf, "site": "ronde", "name": "Grève", "du": "2023-10-16"}
    refused = web.client.post("/gestion/fermetures", data=form)
    assert refused.status_code == 422, refused.text
    text = html.unescape(refused.text)
    line = re.search(r"\d+ repas déjà facturés \(\d+ familles?, factures? d'octobre 2023\) "
                     r"seront crédités à la prochaine facturation", text)  # fmt: skip
    assert line is not None, text
    assert "fermeture non enregistrée" in text
    assert 'name="credit_billed"' in refused.text
    assert 'value="Grève"' in refused.text  # the form is shown again as typed
    enrollment = web.canteen.enrollments.get(ADMIN, CONCERTO_ENROLLMENT)
    assert enrollment.closure(datetime(2023, 10, 16).date()) is None
    closed = web.client.post("/gestion/fermetures", data={**form, "credit_billed": "oui"})
    assert closed.status_code == 200, closed.text
    assert f"{line.group(0)}." in html.unescape(closed.text)
    assert "Fermeture enregistrée" in closed.text
    assert 'name="credit_billed"' not in closed.text
    enrollment = web.canteen.enrollments.get(ADMIN, CONCERTO_ENROLLMENT)
    assert enrollment.closure(datetime(2023, 10, 16).date()) is not None


def test_the_billing_page_says_what_the_run_credited(web: Deployment) -> None:
    """A closure found out after billing: the next run from the "Facturation" page says it
    issued régularisation credit notes and for how much, as it says what it billed."""
    csrf = web.activate(web.template.staff)
    web.clock.set(datetime(2023, 11, 2, 9, 0, tzinfo=PARIS))
    october = web.client.post(
        "/gestion/facturation", data={"csrf_token": csrf, "period": "2023-10"}
    )
    assert october.status_code == 200, october.text
    assert "Régularisation" not in october.text
    closed = web.client.post(
        "/api/v1/staff/sites/ronde/closures",
        json={
            "name": "Grève",
            "first_day": "2023-10-02",
            "last_day": "2023-10-31",
            "credit_billed": True,
        },
        headers={"X-CSRF-Token": csrf},
    )
    assert closed.status_code == 200, closed.text
    web.clock.set(datetime(2023, 12, 4, 9, 0, tzinfo=PARIS))
    november = web.client.post(
        "/gestion/facturation", data={"csrf_token": csrf, "period": "2023-11"}
    )
    assert november.status_code == 200, november.text
    assert re.search(r"Régularisation : \d+ avoir\(s\) émis pour [\d  ,]+ € sur des", november.text)
    assert "non facturé" not in november.text
    # A grid without the non-resident price: the page names the households it left out.
    (grid,) = [g for g in web.canteen.billing.tariff_grids(ADMIN) if g.service_id == "rs"]
    prices = {c: p for c, p in grid.prices.items() if c.value != "non_resident_child"}
    web.canteen.billing.save_tariff_grid(
        ADMIN,
        attrs.evolve(grid, prices=prices, required_categories=frozenset(prices)),
        reprice_billed=True,
    )
    web.canteen.families.save_household(
        ADMIN, attrs.evolve(web.canteen.families.get(ADMIN, "CONCERTO"), resident=False)
    )
    web.clock.set(datetime(2024, 1, 3, 9, 0, tzinfo=PARIS))
    december = web.client.post(
        "/gestion/facturation", data={"csrf_token": csrf, "period": "2023-12"}
    )
    assert december.status_code == 200, december.text
    assert "foyer(s) non facturé(s)" in december.text
    assert '<a href="/gestion/foyers/CONCERTO">CONCERTO</a> : ' in december.text


STAFF_PAGES = [
    "/gestion",
    "/gestion/inscriptions",
    "/gestion/appel",
    "/gestion/effectifs",
    "/gestion/facturation",
    "/gestion/fermetures",
    "/gestion/prelevements",
    "/gestion/relances",
    "/gestion/foyers",
    "/gestion/documents",
    "/gestion/campagnes",
]


def test_the_staff_pages_and_the_api_say_gestion_in_french(web: Deployment) -> None:
    """The staff's space is "Gestion" (as its ``/gestion`` URLs), never "Back office": in the
    menu, the headings, the titles and the OpenAPI document's tag."""
    web.activate(web.template.staff)
    for path in STAFF_PAGES:
        shown = web.client.get(path)
        assert shown.status_code == 200, (path, shown.text)
        assert "back office" not in shown.text.lower(), path
        assert re.search(r'<a href="/gestion" aria-current="page">Gestion</a>', shown.text), path
        assert '<nav aria-label="Menu de gestion"' in shown.text, path
        menu = shown.text.split('<nav aria-label="Menu de gestion"', 1)[1].split("</nav>", 1)[0]
        # Without [payment.sepa] (the demo), the menu has no "Prélèvements" entry to mark.
        current = [] if path == "/gestion/prelevements" else [path]
        assert re.findall(r'<a href="([^"]+)" aria-current="page">', menu) == current, path
    home = web.client.get("/gestion").text
    assert "<title>Gestion – " in home
    assert "<h1>Gestion : demandes à instruire</h1>" in home
    document = web.client.get("/openapi.json").json()
    assert "back office" not in str(document["tags"]).lower()
    assert "Gestion" in [tag["name"] for tag in document["tags"]]
    tags = {
        tag
        for item in document["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict)
        for tag in operation.get("tags", [])
    }
    assert "Gestion" in tags
    assert not any("back office" in tag.lower() for tag in tags)
    assert document["paths"]["/api/v1/staff/requests"]["get"]["tags"] == ["Gestion"]


def test_the_portal_has_an_icon_and_answers_favicon_ico(web: Deployment) -> None:
    """Every page links the portal's SVG icon, served from the portal itself (the pages'
    Content-Security-Policy allows images from 'self'); ``/favicon.ico``, where browsers look
    without a link, answers the same icon instead of a 404."""
    login = web.client.get("/connexion")
    link = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', login.text)
    assert link is not None
    assert link.group(1).startswith("/")
    assert not link.group(1).startswith("//")
    assert "img-src 'self'" in login.headers["content-security-policy"]
    icon = web.client.get(link.group(1))
    assert icon.status_code == 200
    assert icon.headers["content-type"] == "image/svg+xml"
    assert icon.text.startswith("<svg")
    assert "<script" not in icon.text
    ico = web.client.get("/favicon.ico")
    assert ico.status_code == 200
    assert ico.headers["content-type"] == "image/svg+xml"
    assert ico.content == icon.content


@pytest.mark.parametrize(
    ("view", "day", "previous", "following"),
    [
        ("mois", "2023-09-01", False, True),  # the enrollment starts on 04/09/2023
        ("mois", "2023-10-01", True, True),
        ("mois", "2024-07-01", True, False),  # ...and ends on 05/07/2024
        ("mois", "2023-06-01", False, True),  # typed by hand: the way back stays
        ("semaine", "2023-09-06", False, True),
        ("semaine", "2023-09-11", True, True),
        ("semaine", "2024-07-03", True, False),
    ],
)
def test_the_grid_does_not_lead_outside_the_enrollment(
    family: tuple[Deployment, str], view: str, day: str, previous: bool, following: bool
) -> None:
    """ "Mois précédent" / "Mois suivant" (and the weeks') are offered only toward a month or
    week with days of the enrollment, not on and on through "Fermé : Hors inscription"."""
    web, _ = family
    shown = web.client.get(f"/reservations/{CONCERTO_ENROLLMENT}?vue={view}&date={day}")
    assert shown.status_code == 200, shown.text
    before = "Semaine précédente" if view == "semaine" else "Mois précédent"
    after = "Semaine suivante" if view == "semaine" else "Mois suivant"
    assert (f">{before}</a>" in shown.text) is previous
    assert (f">{after}</a>" in shown.text) is following


def test_diets_are_named_in_french(web: Deployment) -> None:
    """The profile's "Régime" column and the headcounts name the diets in French, not by
    their stored values (``vegetarian``, ``no_pork``)."""
    web.activate(web.template.concerto)
    profile = web.client.get("/foyer/CONCERTO/profil").text
    cells = re.findall(r"<td>([^<]*)</td></tr>|<td>([^<]*)</td>\s*</tr>", profile)
    diets = {a or b for a, b in cells}
    assert {"standard", "végétarien", "standard (PAI)"} <= diets, diets
    assert "vegetarian" not in profile
    web.logout()
    web.activate(web.template.staff)
    counts = web.client.get("/gestion/effectifs?site=ronde&du=2023-10-02&au=2023-10-06").text
    assert "standard : " in counts
    assert "végétarien : " in counts
    assert "vegetarian" not in counts
    assert "no_pork" not in counts


def test_the_templates_keep_french_quotes_with_their_words() -> None:
    """« and » hold their words by a no-break space: a line never starts with » (as "Les jours
    verrouillés ... « en attente d'instruction" then » alone did at 390 px)."""
    templates = Path(canteen_adapters.web.__file__).parent / "templates" / "pages"
    for template in sorted(templates.glob("*.html")):
        text = template.read_text(encoding="utf-8")
        assert "« " not in text, template.name
        assert " »" not in text, template.name


def test_the_dashboard_leads_to_the_week_menus(family: tuple[Deployment, str]) -> None:
    """The menus page of the site where a child eats is linked from the dashboard (it was
    reachable only by typing its address)."""
    web, _ = family
    home = web.client.get("/foyer/CONCERTO").text
    links = re.findall(r'<a href="(/menus/[^"]+)">Menus de la semaine : ([^<]+)</a>', home)
    assert links == [("/menus/ronde", "Ecole Élémentaire RONDE")]
    menus = web.client.get(links[0][0])
    assert menus.status_code == 200
    assert "Menus de la semaine du" in menus.text


def test_a_browser_asking_an_unknown_address_gets_the_french_page(web: Deployment) -> None:
    """A mistyped or stale link opened in a browser shows the portal's "Introuvable" page, not
    the API's problem+json; API clients (and the API's own paths) keep the problem."""
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    shown = web.client.get("/foyer/CONCERTO/nimporte-quoi", headers=browser)
    assert shown.status_code == 404
    assert shown.headers["content-type"].startswith("text/html")
    assert "Cette page n'existe pas." in html.unescape(shown.text)
    assert "<title>Introuvable – " in shown.text
    api = web.client.get("/nimporte-quoi")
    assert api.status_code == 404
    assert api.headers["content-type"] == "application/problem+json"
    under_api = web.client.get("/api/v1/nimporte-quoi", headers=browser)
    assert under_api.headers["content-type"] == "application/problem+json"


def test_the_menu_offers_direct_debit_only_where_it_is_set_up(
    family: tuple[Deployment, str],
) -> None:
    """The demo has no ``[payment.sepa]``: no "Prélèvement" in the family's menu, whose page
    could only say it is not offered."""
    web, _ = family
    home = web.client.get("/foyer/CONCERTO")
    assert home.status_code == 200
    assert "/foyer/CONCERTO/factures" in home.text
    assert "/foyer/CONCERTO/prelevement" not in home.text


def _grid(web: Deployment, view: str, day: str) -> str:
    shown = web.client.get(f"/reservations/{CONCERTO_ENROLLMENT}?vue={view}&date={day}")
    assert shown.status_code == 200, shown.text
    return html.unescape(shown.text)


def test_the_grid_offers_to_tick_all_only_when_a_day_can_change(
    family: tuple[Deployment, str],
) -> None:
    """ "Tout cocher", "Tout décocher" and "Aller à l'étape 2" are only shown where a day of
    the week or month shown can still be booked or cancelled; otherwise one line says why."""
    web, _ = family
    coming = _grid(web, "semaine", "2023-10-16")
    assert "Tout cocher" in coming
    assert "Tout décocher" in coming
    assert "Aller à l'étape 2" in coming
    assert "Appliquer une périodicité" in coming
    assert "Plus aucun jour" not in coming

    past = _grid(web, "semaine", "2023-09-11")  # every deadline passed (today: 06/10/2023)
    assert "Tout cocher" not in past
    assert "Tout décocher" not in past
    assert "Aller à l'étape 2" not in past
    assert "Plus aucun jour n'est modifiable cette semaine : la date limite est dépassée." in past
    # The periodicity still reaches the weeks to come.
    assert "Appliquer une périodicité" in past

    holidays = _grid(web, "semaine", "2023-10-23")  # the Toussaint holidays (zone C)
    assert "Tout cocher" not in holidays
    assert "Aucun repas à réserver cette semaine : pas de service ces jours-là" in holidays

    # The school year is over: nothing in the last month can change, nor anything after it.
    web.clock.set(datetime(2024, 7, 10, 9, 0, tzinfo=PARIS))
    over = _grid(web, "mois", "2024-07-01")
    assert "Tout cocher" not in over
    assert "Plus aucun jour n'est modifiable ce mois-ci" in over
    assert "Appliquer une périodicité" not in over


def test_the_grid_writes_its_times_one_way(family: tuple[Deployment, str]) -> None:
    """The grid's own deadlines ("Modifiable jusqu'au ...") and the canteen's deadline texts
    shown beside them ("Délai dépassé depuis le ... à 10 h 00") write times alike: "10 h 00",
    never "10:00"; a passed deadline is said once per day."""
    web, _ = family
    grid = "".join(
        _grid(web, "semaine", day).split("<table", 1)[1].split("</table>", 1)[0]
        for day in ("2023-10-02", "2023-10-09", "2023-10-16")  # passed, late, on time
    )
    until = re.findall(r"Modifiable jusqu'au \d\d/\d\d/\d{4} à (\d{1,2} h \d\d)", grid)
    assert until, grid
    passed = re.findall(r"Délai dépassé depuis le [^<]* à (\d{1,2} h \d\d)", grid)
    assert passed, grid
    assert re.search(r"\d:\d\d", grid) is None
    assert "Verrouillé : Jour passé" in grid
    assert "(date limite :" not in grid
