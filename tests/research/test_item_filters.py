"""Research exports and survival cohorts filter on any catalogued item, whatever its store: a JSON item
(tumorSizeSummary in extra_items), an SSDI, a treatment column; on SQLite and PostgreSQL alike."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from registry.audit import SYSTEM, operation
from registry.catalogue import catalogue
from registry.db import db_session
from registry.errors import InvalidInput
from registry.item_filters import item_expression, parse_item_filter
from registry.models import FirstCourseTreatment, Tumor
from reports.survival.cohorts import ANALYSED_FLAGS, Cohort, cohort_frame
from reports.research import cohort
from reports.research.export import ReleaseRequest, create_release
from reports.research.variables import SAFE_HARBOR, choose, dictionary, released
from tests.research.conftest import csv_rows, read_zip, tumor_of

#: tumorSizeSummary by position of the tumor in id order (every third tumor has none).
SIZES = ("015", "030", None)


@pytest.fixture
def sized(registry_data) -> dict[int, str | None]:
    """tumor id → the tumorSizeSummary written into its extra_items (None: the item is absent)."""
    sizes = {}
    with operation(SYSTEM, "test_sizes") as session:
        for index, tumor in enumerate(session.scalars(select(Tumor).order_by(Tumor.id))):
            size = SIZES[index % len(SIZES)]
            items = {k: v for k, v in (tumor.extra_items or {}).items() if k != "tumorSizeSummary"}
            tumor.extra_items = items | ({"tumorSizeSummary": size} if size else {})
            sizes[tumor.id] = size
    return sizes


def test_the_expression_reads_every_store(app, sized):
    by_size = dict(db_session.execute(select(Tumor.id, item_expression("tumorSizeSummary"))).all())
    assert by_size == sized
    surgery = dict(db_session.execute(select(FirstCourseTreatment.tumor_id,
                                             item_expression("rxSummSurgPrimSite"))).all())
    stored = {t.tumor_id: t.surgery_of_primary_site for t in db_session.scalars(select(FirstCourseTreatment))}
    assert surgery == stored and any(surgery.values())


def test_research_export_filtered_on_a_json_item(app, sized, tmp_path):
    wanted = {tumor_id for tumor_id, size in sized.items() if size == "015"}
    assert 10 < len(wanted) < len(sized)
    request = ReleaseRequest(cohort.Filters.parse(items=["tumorSizeSummary=010-020"]),
                             ["primary_site", "tumorSizeSummary"], purpose="item filter")
    release = create_release(request, actor=SYSTEM, output=tmp_path / "sized.zip")
    rows = csv_rows(read_zip(tmp_path / "sized.zip")["data.csv"])
    assert set(tumor_of(release.id).values()) == wanted
    assert len(rows) == len(wanted) and {row["tumorSizeSummary"] for row in rows} == {"015"}

    both = cohort.Filters.parse(items="tumorSizeSummary=030,010-020\nrxSummSurgPrimSite=00")
    surgery = {t.tumor_id: t.surgery_of_primary_site for t in db_session.scalars(select(FirstCourseTreatment))}
    expected = {t for t, size in sized.items() if size and surgery.get(t) == "00"}
    found = {row["_tumor_id"] for row in cohort.rows(db_session(), both, ["tumorSizeSummary"], 2030)}
    assert found == expected and expected


def test_survival_cohort_filtered_on_a_json_item(app, sized):
    wanted = {tumor_id for tumor_id, size in sized.items() if size == "030"}
    frame = cohort_frame(db_session(), Cohort(items=["tumorSizeSummary=030"]), end_point_year=2030)
    assert len(frame) + sum(frame.attrs["excluded"].values()) == len(wanted)
    analysed = [t for t in db_session.scalars(select(Tumor).where(Tumor.id.in_(wanted)))
                if t.surv_flag_active_followup in ANALYSED_FLAGS and t.surv_date_active_followup]
    assert analysed and sorted(frame["primary_site"]) == sorted(t.primary_site for t in analysed)
    assert Cohort.from_args({"item": ["tumorSizeSummary=030"]}).to_args()["item"] == ["tumorSizeSummary=030"]


def test_bad_item_filters_are_refused_naming_the_item(app):
    with pytest.raises(InvalidInput) as refused:
        cohort.Filters.parse(items=["tumorSizeSummary=abc", "nameLast=SMITH", "noSuchItem=1", "dateOfDiagnosis=202001"])
    assert set(refused.value.errors) == {"item.tumorSizeSummary", "item.nameLast", "item.noSuchItem",
                                         "item.dateOfDiagnosis"}
    assert "identifier" in refused.value.errors["item.nameLast"]
    problems = Cohort(items=["tumorSizeSummary=988-002"]).problems()
    assert "Tumor Size Summary [756]" in problems["item.tumorSizeSummary"]
    assert parse_item_filter("dateOfDiagnosis=2018-2020").values == ("2018-2020",)


def test_the_dictionary_offers_every_catalogued_item_but_identifiers(app):
    cat = catalogue()
    known = dictionary()
    identifiers = {item.naaccr_id for item in cat if item.identifier}
    offered = {v.naaccr_id for v in known.values() if v.naaccr_id}
    assert {item.naaccr_id for item in cat if not item.identifier} <= offered
    kept_as_stored = {v.naaccr_id for v in known.values() if v.treatment(SAFE_HARBOR) == "keep"}
    assert "tumorSizeSummary" in kept_as_stored and not kept_as_stored & identifiers
    assert known["dateCaseCompleted"].treatment(SAFE_HARBOR) == "year"
    with pytest.raises(ValueError, match="textRemarks: no such variable"):
        choose(["textRemarks"], SAFE_HARBOR)
    assert "tumorSizeSummary" not in released(SAFE_HARBOR)


def test_survival_page_takes_item_filters_and_names_a_bad_one(client, login, sized):
    login("researcher")
    page = client.get("/survival/", query_string={"measure": "observed", "item": "tumorSizeSummary=030"})
    assert page.status_code == 200 and 'value="tumorSizeSummary=030"' in page.get_data(as_text=True)
    bad = client.get("/survival/", query_string={"measure": "observed", "item": "tumorSizeSummary=abc"})
    assert "Tumor Size Summary [756]" in bad.get_data(as_text=True)
    assert client.get("/survival/table.csv", query_string={"measure": "observed",
                                                           "item": "nameLast=SMITH"}).status_code == 400
