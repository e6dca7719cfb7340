"""Solid Tumor 2023 Other Sites histology tables, one site at a time.

Each expected verdict is read from the manual's rules for two tumors of the same site diagnosed 19 days apart
(synchronous, neither more than a year apart nor a paired site on both sides):
- two different subtypes/variants of column 3 are multiple primaries (the "different subtypes" rule, M17);
- a row's NOS/specific histology with a subtype on its row, or two codes of one row, is a single primary
  (the "same row" rule, M18);
- histologies on different rows are multiple primaries (the "different rows" rule, M19).
"""
import pytest

from staging_tables.multiple_primaries import tumor
from staging_tables.multiple_primaries.tables import histology_rows, histology_subtypes, site_tables

MP, SP = "MULTIPLE_PRIMARIES", "SINGLE_PRIMARY"
SUBTYPES, SAME_ROW, ROWS = "M17", "M18", "M19"

CASES = [
    # Table 6, stomach: signet ring cell and intestinal type are subtypes of adenocarcinoma NOS
    ("C162", "8140/3", "8490/3", SP, SAME_ROW),
    ("C162", "8144/3", "8490/3", MP, SUBTYPES),
    ("C162", "8140/3", "8240/3", MP, ROWS),
    ("C163", "8240/3", "8249/3", SP, SAME_ROW),
    ("C163", "8246/3", "8041/3", SP, SAME_ROW),
    ("C169", "8936/3", "8140/3", MP, ROWS),
    # Table 7, small intestine and ampulla of Vater
    ("C170", "8140/3", "8480/3", SP, SAME_ROW),
    ("C170", "8144/3", "8480/3", MP, SUBTYPES),
    ("C241", "8140/3", "8936/3", MP, ROWS),
    # Table 8, anus: basaloid and non-keratinizing squamous cell carcinoma are subtypes of SCC NOS
    ("C211", "8070/3", "8085/3", SP, SAME_ROW),
    ("C211", "8085/3", "8086/3", MP, SUBTYPES),
    ("C211", "8070/3", "8140/3", MP, ROWS),
    # Table 9, liver and intrahepatic bile ducts: hepatocellular carcinoma and its variants
    ("C220", "8170/3", "8172/3", SP, SAME_ROW),
    ("C220", "8171/3", "8172/3", MP, SUBTYPES),
    ("C220", "8170/3", "8160/3", MP, ROWS),
    # Table 10, gallbladder and extrahepatic bile ducts
    ("C239", "8140/3", "8480/3", SP, SAME_ROW),
    ("C239", "8480/3", "8310/3", MP, SUBTYPES),
    ("C240", "8140/3", "8070/3", MP, ROWS),
    # Table 11, pancreas: acinar cell carcinoma, IPMN with invasive carcinoma, mucinous and signet ring cell
    # carcinoma are subtypes of adenocarcinoma NOS; the neuroendocrine tumors are subtypes of 8240
    ("C250", "8140/3", "8550/3", SP, SAME_ROW),
    ("C250", "8550/3", "8500/3", MP, SUBTYPES),
    ("C251", "8480/3", "8490/3", MP, SUBTYPES),
    ("C250", "8140/3", "8240/3", MP, ROWS),
    ("C254", "8240/3", "8150/3", SP, SAME_ROW),
    ("C254", "8150/3", "8156/3", MP, SUBTYPES),
    ("C259", "8246/3", "8041/3", SP, SAME_ROW),
    ("C259", "8013/3", "8041/3", MP, SUBTYPES),
    ("C250", "8020/3", "8035/3", SP, SAME_ROW),
    ("C250", "8035/3", "8014/3", MP, SUBTYPES),
    ("C250", "8455/3", "8140/3", MP, ROWS),
    ("C250", "8503/3", "8470/3", MP, ROWS),
    ("C250", "8971/3", "8070/3", MP, ROWS),
    ("C250", "8154/3", "8140/3", MP, ROWS),
    # Table 12, thyroid (follicular with papillary is settled earlier, by M7; anaplastic with others by M8):
    # undifferentiated carcinoma is a subtype on the anaplastic carcinoma row
    ("C739", "8021/3", "8020/3", SP, SAME_ROW),
    ("C739", "8330/3", "8339/3", SP, SAME_ROW),
    ("C739", "8331/3", "8339/3", MP, SUBTYPES),
    ("C739", "8260/3", "8350/3", SP, SAME_ROW),
    ("C739", "8350/3", "8343/3", MP, SUBTYPES),
    ("C739", "8345/3", "8337/3", MP, ROWS),
    # mixed medullary and follicular carcinoma is a combination code of Table 2: a row of its own
    ("C739", "8346/3", "8345/3", MP, ROWS),
    # Table 16, corpus uteri: one sarcoma row, its kinds subtypes
    ("C541", "8380/3", "8570/3", SP, SAME_ROW),
    ("C541", "8800/3", "8890/3", SP, SAME_ROW),
    ("C541", "8890/3", "8930/3", MP, SUBTYPES),
    ("C549", "8480/3", "8144/3", SP, SAME_ROW),
    ("C549", "9110/3", "9111/3", SP, SAME_ROW),
    ("C549", "8144/3", "8570/3", MP, SUBTYPES),
    ("C540", "8714/3", "8380/3", MP, ROWS),
    ("C540", "9473/3", "8800/3", MP, ROWS),
    ("C559", "8070/3", "8441/3", MP, ROWS),
    # Table 17, cervix: HPV-associated and HPV-independent adenocarcinoma are subtypes of adenocarcinoma NOS
    ("C539", "8140/3", "8483/3", SP, SAME_ROW),
    ("C539", "8483/3", "8484/3", MP, SUBTYPES),
    ("C530", "8070/3", "8085/3", SP, SAME_ROW),
    ("C530", "8085/3", "8086/3", MP, SUBTYPES),
    ("C531", "8070/3", "8140/3", MP, ROWS),
    ("C539", "9064/3", "9100/3", SP, SAME_ROW),
    ("C539", "8246/3", "8154/3", SP, SAME_ROW),
    ("C539", "8098/3", "8560/3", MP, ROWS),
    ("C539", "8800/3", "8805/3", SP, SAME_ROW),
    # Table 13, ovary (both tumors on the same side)
    ("C569", "8140/3", "8480/3", SP, SAME_ROW),
    ("C569", "8310/3", "8480/3", MP, SUBTYPES),
    ("C569", "8140/3", "8441/3", MP, ROWS),
    ("C569", "8441/3", "8461/3", SP, SAME_ROW),
    ("C569", "9064/3", "9070/3", SP, SAME_ROW),
    # Table 14, peritoneum: mesothelioma NOS and its subtypes
    ("C482", "9050/3", "9052/3", SP, SAME_ROW),
    ("C482", "9051/3", "9052/3", MP, SUBTYPES),
    ("C482", "8461/3", "9050/3", MP, ROWS),
    # Table 15, fallopian tube (same side)
    ("C570", "8441/3", "8461/3", SP, SAME_ROW),
    ("C570", "8460/3", "8461/3", MP, SUBTYPES),
    ("C570", "8441/3", "8380/3", MP, ROWS),
    # Table 18, vagina
    ("C529", "8070/3", "8085/3", SP, SAME_ROW),
    ("C529", "8085/3", "8086/3", MP, SUBTYPES),
    ("C529", "8070/3", "8140/3", MP, ROWS),
    ("C529", "8480/3", "8482/3", SP, SAME_ROW),
    # Table 19, vulva: keratinizing and non-keratinizing are subtypes of squamous cell carcinoma NOS
    ("C510", "8070/3", "8071/3", SP, SAME_ROW),
    ("C511", "8071/3", "8072/3", MP, SUBTYPES),
    ("C519", "8070/3", "8720/3", MP, ROWS),
    ("C519", "8400/3", "8413/3", SP, SAME_ROW),
    # Table 20, soft tissue
    ("C493", "8810/3", "8811/3", SP, SAME_ROW),
    ("C493", "8811/3", "8815/3", MP, SUBTYPES),
    ("C494", "8850/3", "8890/3", MP, ROWS),
    ("C495", "8900/3", "8910/3", SP, SAME_ROW),
    ("C492", "9044/3", "9040/3", MP, SUBTYPES),
    # synovial sarcoma NOS is a subtype of sarcoma NOS and itself the NOS of biphasic synovial sarcoma (nested)
    ("C492", "9040/3", "9043/3", SP, SAME_ROW),
    # Table 21, bone (the long bones of a limb: both on the right)
    ("C402", "9180/3", "9192/3", SP, SAME_ROW),
    ("C402", "9192/3", "9193/3", MP, SUBTYPES),
    ("C412", "9180/3", "9220/3", MP, ROWS),
    ("C412", "9220/3", "9240/3", SP, SAME_ROW),
    # Table 22 of the later editions, thymus: thymoma types A and AB are subtypes of thymoma NOS
    ("C379", "8580/3", "8582/3", SP, SAME_ROW),
    ("C379", "8581/3", "8582/3", MP, SUBTYPES),
    ("C379", "8580/3", "8070/3", MP, ROWS),
    ("C379", "8070/3", "8123/3", SP, SAME_ROW),
    # Table 23 of the later editions, penis and scrotum: verrucous (8051) and papillary (8052) carcinoma are subtypes of SCC NOS
    ("C609", "8070/3", "8051/3", SP, SAME_ROW),
    ("C602", "8051/3", "8052/3", MP, SUBTYPES),
    ("C632", "8070/3", "8542/3", MP, ROWS),
    # Table 2, combination codes: each is a row of its own, also at a site without a table (retroperitoneum)
    ("C480", "8255/3", "8013/3", MP, ROWS),
    # Table 3, prostate (acinar subtypes are settled earlier, by M3): large cell and small cell neuroendocrine
    # carcinoma are subtypes of neuroendocrine carcinoma
    ("C619", "8013/3", "8041/3", MP, SUBTYPES),
    ("C619", "8240/3", "8041/3", SP, SAME_ROW),
    ("C619", "8890/3", "8900/3", MP, SUBTYPES),
    # Table 4, testis (same side): seminoma has a row of its own
    ("C620", "9064/3", "9070/3", SP, SAME_ROW),
    ("C620", "9070/3", "9071/3", MP, SUBTYPES),
    ("C621", "9061/3", "9064/3", MP, ROWS),
    # Table 5, esophagus: basaloid and spindle cell squamous cell carcinoma are subtypes of SCC NOS
    ("C151", "8083/3", "8074/3", MP, SUBTYPES),
    ("C151", "8070/3", "8051/3", SP, SAME_ROW),
    ("C155", "8936/3", "8140/3", MP, ROWS),
]
#: Sites of Table 1 (paired organs): both tumors are put on the right side.
PAIRED = {"C569", "C570", "C620", "C621", "C491", "C492", "C400", "C401", "C402", "C403", "C413", "C414"}


@pytest.mark.parametrize("site, first, second, result, step", CASES)
def test_two_tumors_of_one_site_by_the_histology_table(mp_engine, site, first, second, result, step):
    lateral = "1" if site in PAIRED else "0"
    earlier = tumor(site, *first.split("/"), lateral, 2023, 3, 1)
    later = tumor(site, *second.split("/"), lateral, 2023, 3, 20)
    for pair in ((earlier, later), (later, earlier)):
        verdict = mp_engine.compare(*pair)
        assert (verdict.result, verdict.step) == (result, f"Solid Tumor 2023+ Other Sites {step}"), verdict.reason


@pytest.mark.parametrize("site, first, second", [
    ("C739", "8341/3", "8345/3"),   # papillary microcarcinoma: on no row of the thyroid table
    ("C541", "8382/3", "8441/3"),   # endometrioid adenocarcinoma, secretory variant: on no row of corpus uteri
    ("C539", "8070/2", "8140/3"),   # the cervix table's rows are for invasive tumors (behavior 3)
    ("C480", "8140/3", "8013/3"),   # no table for the retroperitoneum, and 8140 is no combination code
])
def test_a_histology_on_no_row_of_the_table_is_questionable(mp_engine, site, first, second):
    earlier = tumor(site, *first.split("/"), "0", 2023, 3, 1)
    later = tumor(site, *second.split("/"), "0", 2023, 3, 20)
    verdict = mp_engine.compare(earlier, later)
    assert (verdict.result, verdict.step) == ("QUESTIONABLE", "Solid Tumor 2023+ Other Sites M19"), verdict.reason
    assert "not in the table" in verdict.reason


def test_every_subtype_of_an_other_sites_table_is_on_a_row_of_it():
    rows, subtypes = histology_rows(), histology_subtypes()
    tables = set(site_tables()["other_sites"].values())
    for table in tables & set(subtypes):
        for code, takes_in in subtypes[table].items():
            for member in takes_in:
                assert member in rows[table] or member.split("/")[0] in rows[table], (table, member)
