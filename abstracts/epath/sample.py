"""Made-up NAACCR Volume V ORU^R01 messages, for demonstrations, tests and the intake benchmark.

Names, dates and numbers are drawn from a seeded generator: no real person. About one in five reports is
benign (screened non-reportable); some patients get a second report on the same tumor.
"""
from __future__ import annotations

import random

LAST = ["Alderdemo", "Birchsample", "Cedartest", "Dogwoodfake", "Elmdemo", "Firsample", "Ginkgotest", "Hazelfake",
        "Irondemo", "Junipersample", "Kapoktest", "Larchfake", "Mapledemo", "Nutmegsample", "Oaktest", "Pinefake"]
FIRST = ["Ada", "Ben", "Cora", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lena", "Milo", "Nia"]
DIAGNOSES = [
    ("Infiltrating duct carcinoma, {side} breast.", "{side} breast, excision"),
    ("Adenocarcinoma of the sigmoid colon, moderately differentiated.", "Sigmoid colon, resection"),
    ("Squamous cell carcinoma, {side} upper lobe of lung.", "{side} lung, lobectomy"),
    ("Papillary thyroid carcinoma, classic type.", "Thyroid, total thyroidectomy"),
    ("Acinar adenocarcinoma of the prostate, Gleason score 3+4=7.", "Prostate, needle biopsies"),
    ("Chronic lymphocytic leukemia/small lymphocytic lymphoma (CLL/SLL).", "Bone marrow, aspirate and biopsy"),
]
BENIGN = [("Benign fibroadenoma. Negative for malignancy.", "Breast, core biopsy"),
          ("Tubular adenoma. No high-grade dysplasia or malignancy identified.", "Colon, polypectomy")]


def oru_messages(count: int, seed: int = 19) -> list[str]:
    """``count`` ORU^R01 messages (segments ending in CR), each with its own control id and accession."""
    rng = random.Random(seed)
    messages = []
    for number in range(1, count + 1):
        patient = rng.randrange(max(1, count * 4 // 5))
        person = random.Random(patient)
        last, first = person.choice(LAST) + str(patient % 97), person.choice(FIRST)
        born = f"{person.randint(1930, 1990)}{person.randint(1, 12):02d}{person.randint(1, 28):02d}"
        side = person.choice(["left", "right"])
        diagnosis, specimen = (rng.choice(BENIGN) if rng.random() < 0.2 else person.choice(DIAGNOSES))
        collected = f"2025{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
        messages.append("\r".join([
            f"MSH|^~\\&|DEMO-LIS|DEMO LAB^99D9999999^CLIA|REGISTRY|DEMO|{collected}1200||ORU^R01^ORU_R01|"
            f"DEMO{number:07d}|P|2.5.1|||||||||VOL_V_51_ORU_R01^NAACCR_CP",
            f"PID|1||D{patient:07d}^^^DEMO^MR||{last}^{first}||{born}|{person.choice('FM')}",
            "ORC|RE||||||||||||||||||||Demo Hospital",
            f"OBR|1||S25-{number:06d}|11529-5^Surgical Pathology Report^LN|||{collected}|||||||||"
            f"^Demo^Surgeon|||||||{collected}|||F|||||||9999&Pathologist&Demo",
            f"OBX|1|TX|22633-2^nature of specimen^LN||{specimen.format(side=side)}||||||F",
            f"OBX|2|TX|22637-3^final diagnosis^LN||{diagnosis.format(side=side)}||||||F",
            f"SPM|1|^S25-{number:06d}-1||TISS^Tissue^HL70487|||||||||||||{collected}",
        ]))
    return messages
