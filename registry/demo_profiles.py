"""Site profiles the demo-data generator draws from: a table, not code.

Shares follow the rough order of US incidence; histologies are common ones valid at the
site; ``stage`` weights are over Summary Stage codes; ``hazard`` is the yearly cancer death
hazard by stage. The figures are plausible, not official statistics: the data is synthetic.
"""
from __future__ import annotations

# stage codes: 0 in situ, 1 localized, 2/3/4 regional, 7 distant, 8 benign, 9 unknown
COMMON_STAGES = {"1": 45, "2": 10, "3": 12, "4": 8, "7": 20, "9": 5}
HEME_STAGES = {"7": 100}

PROFILES: list[dict] = [
    {"name": "breast", "weight": 150, "male_share": 0.01, "sites": {"C504": 40, "C502": 12, "C508": 20, "C509": 20, "C501": 8},
     "histology": {"8500/3": 70, "8520/3": 10, "8522/3": 6, "8480/3": 2, "8500/2": 12},
     "age": (62, 12), "stages": {"1": 64, "2": 6, "3": 18, "4": 4, "7": 6, "9": 2}, "grades": "123",
     "hazard": {"0": 0.0, "1": 0.004, "2": 0.03, "3": 0.03, "4": 0.05, "7": 0.25, "9": 0.06},
     "therapy": {"surgery": 0.92, "radiation": 0.55, "chemo": 0.35, "hormone": 0.7, "immuno": 0.05},
     "surgery_codes": ["22", "23", "41", "51"], "death_code": "C509"},
    {"name": "prostate", "weight": 130, "male_share": 1.0, "sites": {"C619": 1},
     "histology": {"8140/3": 97, "8550/3": 3}, "age": (67, 8),
     "stages": {"1": 74, "2": 8, "3": 4, "4": 2, "7": 8, "9": 4}, "grades": "12345",
     "hazard": {"1": 0.002, "2": 0.01, "3": 0.02, "4": 0.03, "7": 0.2, "9": 0.03},
     "therapy": {"surgery": 0.35, "radiation": 0.3, "chemo": 0.04, "hormone": 0.35, "immuno": 0.01},
     "surgery_codes": ["50", "30"], "death_code": "C61"},
    {"name": "lung", "weight": 120, "male_share": 0.51, "sites": {"C341": 45, "C343": 25, "C342": 5, "C340": 5, "C349": 20},
     "histology": {"8140/3": 40, "8070/3": 22, "8041/3": 13, "8046/3": 15, "8012/3": 10},
     "age": (70, 9), "stages": {"1": 24, "2": 6, "3": 16, "4": 6, "7": 44, "9": 4}, "grades": "1239",
     "hazard": {"1": 0.08, "2": 0.25, "3": 0.3, "4": 0.35, "7": 1.1, "9": 0.5},
     "therapy": {"surgery": 0.3, "radiation": 0.45, "chemo": 0.5, "hormone": 0.0, "immuno": 0.3},
     "surgery_codes": ["33", "30", "45"], "death_code": "C349"},
    {"name": "colorectal", "weight": 80, "male_share": 0.53,
     "sites": {"C180": 18, "C182": 10, "C187": 20, "C189": 5, "C199": 10, "C209": 30, "C184": 7},
     "histology": {"8140/3": 85, "8480/3": 8, "8263/3": 4, "8490/3": 3}, "age": (66, 13),
     "stages": {"1": 36, "2": 12, "3": 16, "4": 10, "7": 22, "9": 4}, "grades": "1239",
     "hazard": {"1": 0.02, "2": 0.06, "3": 0.08, "4": 0.12, "7": 0.6, "9": 0.15},
     "therapy": {"surgery": 0.85, "radiation": 0.15, "chemo": 0.45, "hormone": 0.0, "immuno": 0.03},
     "surgery_codes": ["30", "40", "50"], "death_code": "C189"},
    {"name": "melanoma", "weight": 55, "male_share": 0.58, "sites": {"C445": 35, "C446": 20, "C447": 20, "C443": 20, "C444": 5},
     "histology": {"8720/3": 55, "8743/3": 20, "8721/3": 8, "8720/2": 17}, "age": (63, 15),
     "stages": {"1": 85, "2": 2, "3": 6, "4": 1, "7": 5, "9": 1}, "grades": "89",
     "hazard": {"0": 0.0, "1": 0.005, "2": 0.05, "3": 0.07, "4": 0.09, "7": 0.5, "9": 0.05},
     "therapy": {"surgery": 0.97, "radiation": 0.03, "chemo": 0.02, "hormone": 0.0, "immuno": 0.1},
     "surgery_codes": ["27", "31", "45"], "death_code": "C439"},
    {"name": "bladder", "weight": 45, "male_share": 0.76, "sites": {"C672": 40, "C679": 40, "C674": 20},
     "histology": {"8120/3": 45, "8130/3": 30, "8130/2": 20, "8120/2": 5}, "age": (72, 10),
     "stages": {"1": 64, "2": 14, "3": 4, "4": 4, "7": 6, "9": 8}, "grades": "HL9",
     "hazard": {"0": 0.01, "1": 0.03, "2": 0.1, "3": 0.2, "4": 0.25, "7": 0.9, "9": 0.1},
     "therapy": {"surgery": 0.9, "radiation": 0.05, "chemo": 0.25, "hormone": 0.0, "immuno": 0.3},
     "surgery_codes": ["27", "50"], "death_code": "C679"},
    {"name": "lymphoma", "weight": 40, "male_share": 0.56, "sites": {"C772": 25, "C770": 20, "C773": 15, "C779": 40},
     "histology": {"9680/3": 45, "9690/3": 25, "9699/3": 15, "9673/3": 15}, "age": (65, 15),
     "stages": {"1": 28, "2": 6, "3": 16, "4": 5, "7": 40, "9": 5}, "grades": "8",
     "hazard": {"1": 0.05, "2": 0.08, "3": 0.09, "4": 0.1, "7": 0.18, "9": 0.1},
     "therapy": {"surgery": 0.05, "radiation": 0.25, "chemo": 0.75, "hormone": 0.0, "immuno": 0.6},
     "surgery_codes": ["25"], "death_code": "C859"},
    {"name": "kidney", "weight": 40, "male_share": 0.63, "sites": {"C649": 1},
     "histology": {"8312/3": 35, "8310/3": 45, "8260/3": 15, "8317/3": 5}, "age": (64, 12),
     "stages": {"1": 64, "2": 8, "3": 3, "4": 2, "7": 16, "9": 7}, "grades": "1234",
     "hazard": {"1": 0.015, "2": 0.06, "3": 0.1, "4": 0.12, "7": 0.7, "9": 0.1},
     "therapy": {"surgery": 0.8, "radiation": 0.04, "chemo": 0.03, "hormone": 0.0, "immuno": 0.12},
     "surgery_codes": ["30", "40"], "death_code": "C64"},
    {"name": "uterus", "weight": 35, "male_share": 0.0, "sites": {"C541": 85, "C549": 15},
     "histology": {"8380/3": 80, "8441/3": 10, "8950/3": 5, "8310/3": 5}, "age": (63, 10),
     "stages": {"1": 67, "2": 12, "3": 7, "4": 3, "7": 9, "9": 2}, "grades": "1239",
     "hazard": {"1": 0.01, "2": 0.06, "3": 0.08, "4": 0.1, "7": 0.5, "9": 0.08},
     "therapy": {"surgery": 0.9, "radiation": 0.35, "chemo": 0.25, "hormone": 0.05, "immuno": 0.03},
     "surgery_codes": ["40", "50"], "death_code": "C55"},
    {"name": "pancreas", "weight": 33, "male_share": 0.52, "sites": {"C250": 60, "C251": 15, "C252": 15, "C259": 10},
     "histology": {"8140/3": 55, "8500/3": 35, "8246/3": 10}, "age": (70, 10),
     "stages": {"1": 12, "2": 10, "3": 10, "4": 6, "7": 52, "9": 10}, "grades": "1239",
     "hazard": {"1": 0.3, "2": 0.5, "3": 0.6, "4": 0.7, "7": 1.6, "9": 1.0},
     "therapy": {"surgery": 0.2, "radiation": 0.12, "chemo": 0.55, "hormone": 0.0, "immuno": 0.01},
     "surgery_codes": ["35", "36"], "death_code": "C259"},
    {"name": "thyroid", "weight": 30, "male_share": 0.27, "sites": {"C739": 1},
     "histology": {"8260/3": 75, "8340/3": 15, "8330/3": 8, "8345/3": 2}, "age": (51, 15),
     "stages": {"1": 65, "2": 6, "3": 22, "4": 3, "7": 3, "9": 1}, "grades": "9",
     "hazard": {"1": 0.001, "2": 0.004, "3": 0.004, "4": 0.01, "7": 0.1, "9": 0.01},
     "therapy": {"surgery": 0.97, "radiation": 0.45, "chemo": 0.01, "hormone": 0.1, "immuno": 0.0},
     "surgery_codes": ["20", "40", "50"], "death_code": "C73"},
    {"name": "leukemia", "weight": 32, "male_share": 0.58, "sites": {"C421": 1},
     "histology": {"9823/3": 40, "9861/3": 30, "9875/3": 15, "9811/3": 15}, "age": (65, 18),
     "stages": HEME_STAGES, "grades": "8", "hazard": {"7": 0.2},
     "therapy": {"surgery": 0.0, "radiation": 0.03, "chemo": 0.65, "hormone": 0.0, "immuno": 0.3},
     "surgery_codes": ["00"], "death_code": "C959"},
    {"name": "myeloma", "weight": 18, "male_share": 0.56, "sites": {"C421": 1},
     "histology": {"9732/3": 1}, "age": (69, 10), "stages": HEME_STAGES, "grades": "8", "hazard": {"7": 0.15},
     "therapy": {"surgery": 0.0, "radiation": 0.1, "chemo": 0.8, "hormone": 0.0, "immuno": 0.5},
     "surgery_codes": ["00"], "death_code": "C900"},
    {"name": "oral cavity and pharynx", "weight": 28, "male_share": 0.72, "sites": {"C019": 30, "C029": 25, "C099": 25, "C069": 20},
     "histology": {"8070/3": 90, "8071/3": 10}, "age": (63, 11),
     "stages": {"1": 28, "2": 10, "3": 32, "4": 10, "7": 14, "9": 6}, "grades": "1239",
     "hazard": {"1": 0.04, "2": 0.1, "3": 0.1, "4": 0.15, "7": 0.5, "9": 0.15},
     "therapy": {"surgery": 0.55, "radiation": 0.7, "chemo": 0.45, "hormone": 0.0, "immuno": 0.05},
     "surgery_codes": ["30", "40"], "death_code": "C069"},
    {"name": "liver", "weight": 20, "male_share": 0.72, "sites": {"C220": 1},
     "histology": {"8170/3": 85, "8160/3": 15}, "age": (65, 10),
     "stages": {"1": 44, "2": 12, "3": 5, "4": 4, "7": 20, "9": 15}, "grades": "1239",
     "hazard": {"1": 0.2, "2": 0.4, "3": 0.5, "4": 0.6, "7": 1.2, "9": 0.6},
     "therapy": {"surgery": 0.25, "radiation": 0.1, "chemo": 0.35, "hormone": 0.0, "immuno": 0.2},
     "surgery_codes": ["20", "30"], "death_code": "C220"},
    {"name": "stomach", "weight": 15, "male_share": 0.6, "sites": {"C160": 25, "C162": 20, "C163": 20, "C169": 35},
     "histology": {"8140/3": 60, "8490/3": 25, "8144/3": 15}, "age": (68, 12),
     "stages": {"1": 27, "2": 10, "3": 16, "4": 10, "7": 35, "9": 2}, "grades": "1239",
     "hazard": {"1": 0.06, "2": 0.2, "3": 0.25, "4": 0.3, "7": 1.0, "9": 0.4},
     "therapy": {"surgery": 0.5, "radiation": 0.15, "chemo": 0.55, "hormone": 0.0, "immuno": 0.1},
     "surgery_codes": ["30", "40"], "death_code": "C169"},
    {"name": "ovary", "weight": 12, "male_share": 0.0, "sites": {"C569": 1},
     "histology": {"8461/3": 60, "8441/3": 15, "8380/3": 15, "8310/3": 10}, "age": (63, 12),
     "stages": {"1": 17, "2": 10, "3": 8, "4": 4, "7": 57, "9": 4}, "grades": "1239",
     "hazard": {"1": 0.02, "2": 0.12, "3": 0.15, "4": 0.18, "7": 0.3, "9": 0.2},
     "therapy": {"surgery": 0.8, "radiation": 0.02, "chemo": 0.75, "hormone": 0.03, "immuno": 0.1},
     "surgery_codes": ["50", "60"], "death_code": "C56"},
    {"name": "brain", "weight": 13, "male_share": 0.56, "sites": {"C711": 40, "C712": 25, "C719": 35},
     "histology": {"9440/3": 60, "9400/3": 20, "9450/3": 10, "9382/3": 10}, "age": (60, 16),
     "stages": {"1": 77, "2": 15, "7": 2, "9": 6}, "grades": "1234",
     "hazard": {"1": 0.6, "2": 0.8, "7": 1.2, "9": 0.7},
     "therapy": {"surgery": 0.7, "radiation": 0.7, "chemo": 0.6, "hormone": 0.0, "immuno": 0.01},
     "surgery_codes": ["20", "30", "40"], "death_code": "C719"},
    {"name": "cervix", "weight": 7, "male_share": 0.0, "sites": {"C539": 1},
     "histology": {"8070/3": 75, "8140/3": 25}, "age": (50, 13),
     "stages": {"1": 44, "2": 10, "3": 18, "4": 8, "7": 16, "9": 4}, "grades": "1239",
     "hazard": {"1": 0.015, "2": 0.1, "3": 0.1, "4": 0.15, "7": 0.6, "9": 0.15},
     "therapy": {"surgery": 0.45, "radiation": 0.6, "chemo": 0.55, "hormone": 0.0, "immuno": 0.03},
     "surgery_codes": ["30", "40"], "death_code": "C539"},
    {"name": "esophagus", "weight": 10, "male_share": 0.8, "sites": {"C155": 60, "C154": 20, "C159": 20},
     "histology": {"8140/3": 70, "8070/3": 30}, "age": (67, 10),
     "stages": {"1": 20, "2": 12, "3": 18, "4": 10, "7": 37, "9": 3}, "grades": "1239",
     "hazard": {"1": 0.15, "2": 0.35, "3": 0.4, "4": 0.45, "7": 1.2, "9": 0.5},
     "therapy": {"surgery": 0.25, "radiation": 0.55, "chemo": 0.6, "hormone": 0.0, "immuno": 0.1},
     "surgery_codes": ["30", "50"], "death_code": "C159"},
    {"name": "testis", "weight": 6, "male_share": 1.0, "sites": {"C629": 1},
     "histology": {"9061/3": 55, "9070/3": 20, "9085/3": 25}, "age": (34, 9),
     "stages": {"1": 68, "2": 3, "3": 15, "4": 2, "7": 11, "9": 1}, "grades": "9",
     "hazard": {"1": 0.001, "2": 0.01, "3": 0.01, "4": 0.02, "7": 0.05, "9": 0.01},
     "therapy": {"surgery": 0.98, "radiation": 0.15, "chemo": 0.4, "hormone": 0.0, "immuno": 0.0},
     "surgery_codes": ["40"], "death_code": "C629"},
    {"name": "meningioma", "weight": 14, "male_share": 0.3, "sites": {"C700": 1},
     "histology": {"9530/0": 92, "9539/1": 8}, "age": (62, 14), "stages": {"8": 100}, "grades": "129",
     "hazard": {"8": 0.005},
     "therapy": {"surgery": 0.55, "radiation": 0.12, "chemo": 0.0, "hormone": 0.0, "immuno": 0.0},
     "surgery_codes": ["20", "40"], "death_code": "D320"},
]

#: Causes of death from other causes (ICD-10, stored without the dot) with their weights.
OTHER_CAUSES = {"I251": 20, "I219": 10, "J449": 10, "I64": 8, "G309": 8, "F03": 6, "E149": 6, "N189": 5,
                "J189": 6, "I500": 6, "K746": 3, "X59": 3, "W19": 3, "A419": 6}

FIRST_NAMES_F = ["Mary", "Patricia", "Linda", "Barbara", "Elizabeth", "Jennifer", "Maria", "Susan", "Margaret",
                 "Dorothy", "Lisa", "Nancy", "Karen", "Betty", "Helen", "Sandra", "Donna", "Carol", "Ruth", "Sharon",
                 "Michelle", "Laura", "Sarah", "Kimberly", "Deborah", "Jessica", "Shirley", "Cynthia", "Angela",
                 "Melissa", "Brenda", "Amy", "Anna", "Rebecca", "Virginia", "Kathleen", "Pamela", "Martha", "Debra",
                 "Amanda", "Rosa", "Ana", "Mei", "Aiko", "Priya", "Fatima", "Ngozi", "Olga", "Ingrid", "Leilani"]
FIRST_NAMES_M = ["James", "John", "Robert", "Michael", "William", "David", "Richard", "Charles", "Joseph", "Thomas",
                 "Christopher", "Daniel", "Paul", "Mark", "Donald", "George", "Kenneth", "Steven", "Edward", "Brian",
                 "Ronald", "Anthony", "Kevin", "Jason", "Matthew", "Gary", "Timothy", "Jose", "Larry", "Jeffrey",
                 "Frank", "Scott", "Eric", "Stephen", "Andrew", "Raymond", "Gregory", "Joshua", "Jerry", "Dennis",
                 "Luis", "Carlos", "Wei", "Hiroshi", "Rajesh", "Omar", "Chidi", "Ivan", "Lars", "Kai"]
# Obviously fake surnames: real first names, invented "Demo" last names.
SURNAME_STEMS = ["Alder", "Birch", "Cedar", "Dogwood", "Elm", "Fir", "Ginkgo", "Hazel", "Ivy", "Juniper", "Kapok",
                 "Larch", "Maple", "Nutmeg", "Oak", "Pine", "Quince", "Rowan", "Spruce", "Tamarack", "Umbra",
                 "Viburn", "Willow", "Yew", "Zelkova", "Aspen", "Balsa", "Cypress", "Linden", "Poplar"]
SURNAME_ENDS = ["demo", "fake", "sample", "test", "mock", "synth"]
STREETS = ["Test Street", "Sample Avenue", "Demo Road", "Mock Lane", "Fictional Way", "Placeholder Blvd"]
CITIES = [("Springfield Demo", "001", "627"), ("Riverton Sample", "003", "628"), ("Lakeside Test", "005", "629"),
          ("Hillview Mock", "017", "620"), ("Fairfield Fake", "009", "622"), ("Oakdale Synth", "011", "623"),
          ("Cedar Falls Demo", "013", "624"), ("Maple Grove Test", "015", "625")]

# ----- stage coding with an installed SEER algorithm (registry/demo_staging.py) ---------------------------------
#: The part of the extent each staging input describes, by NAACCR item: EOD Primary Tumor [772] and EOD Prostate
#: Pathologic Extension [3919] the primary tumor, EOD Regional Nodes [774] the nodes, EOD Mets [776] distant
#: spread. Other inputs a schema uses for staging (Peritoneal Cytology [3911], Rai items …) are coded with a
#: value that leaves the derived stage where the EOD items put it.
STAGE_ROLES: dict[int, str] = {772: "tumor", 3919: "tumor", 774: "nodes", 776: "mets"}

#: How a registrar's EOD codes reach each Summary Stage 2018 [764]: alternatives of (tumor, nodes, mets), each
#: the stages that part alone derives ("-": leaves the stage unchanged, i.e. no involvement). Codes are found in
#: the installed algorithm and every combination is checked by staging it.
STAGE_RECIPES: dict[str, list[tuple[str, str, str]]] = {
    "0": [("0", "-", "-")],
    "1": [("1", "-", "-")],
    "2": [("2", "-", "-")],
    "3": [("1", "3", "-"), ("3", "-", "-")],
    "4": [("2", "3", "-"), ("4", "-", "-")],
    "7": [("12", "-3", "7"), ("7", "-", "-")],
    "8": [("8", "-", "-")],
    "9": [("9", "-9", "-9")],
}

#: When a schema cannot derive the intended stage (lymphoma has no "regional nodes only"), the nearest it can.
STAGE_FALLBACKS: dict[str, str] = {"0": "1", "1": "2", "2": "43", "3": "42", "4": "32", "7": "", "8": "", "9": ""}

#: Items a registrar codes from the resected specimen: without surgery of the primary site they get this code
#: ("default": the schema's own default, 9 unknown for a solid tumor, 8 not applicable for a lymphoma).
NO_RESECTION_CODES: dict[str, str] = {"gradePathological": "default", "prostatePathologicalExtension": "900"}

# ----- the full abstract (registry/demo_items.py): the one demo facility, its staff and what they write ----------
#: Reporting Facility [540] (10 characters) and its NPI [545]: one obviously fake hospital.
FACILITY = {"reportingFacility": "0009999999", "npiReportingFacility": "1999999990",
            "archiveFin": "0009999999", "npiArchiveFin": "1999999990"}
FACILITY_NAME = "DEMO GENERAL HOSPITAL (FAKE)"
#: Abstracted By [570]: the initials of the demo registrars.
ABSTRACTORS = ["DMA", "DMB", "FKR", "TST"]
#: Physicians: (physician number [2460 …], 8 characters, and NPI [2465 …], 10 digits), by role.
PHYSICIANS = {
    "managing": [("DEMO0001", "1999900011"), ("DEMO0002", "1999900029"), ("DEMO0003", "1999900037")],
    "surgeon": [("DEMO0101", "1999901019"), ("DEMO0102", "1999901027")],
    "radiation": [("DEMO0201", "1999902017")],
    "medical": [("DEMO0301", "1999903015"), ("DEMO0302", "1999903023")],
    "follow_up": [("DEMO0401", "1999904013"), ("DEMO0402", "1999904021")],
}
#: Usual occupation and industry: (Census 2010 occupation code, industry code, text as the chart says it).
OCCUPATIONS = [("2310", "7860", "TEACHER", "ELEMENTARY SCHOOL"), ("3255", "8190", "REGISTERED NURSE", "HOSPITAL"),
               ("4720", "4670", "CASHIER", "CAR DEALER"), ("5120", "6870", "BOOKKEEPER", "BANK"),
               ("9130", "6170", "TRUCK DRIVER", "TRUCKING"), ("0350", "8270", "HEALTH SERVICES MANAGER",
                                                                      "NURSING HOME"),
               ("7700", "3570", "PRODUCTION SUPERVISOR", "AUTO PARTS PLANT"),
               ("4220", "7870", "JANITOR", "COMMUNITY COLLEGE")]
#: Tumor size [752/754/756] in mm by Summary Stage code: the span the demo draws from (T grows with stage).
SIZE_MM_BY_STAGE = {"0": (2, 25), "1": (4, 35), "2": (20, 70), "3": (10, 50), "4": (25, 80), "7": (25, 90),
                    "8": (5, 45)}
#: Profiles whose tumors have no measured size (Tumor Size 999) and no nodes or mets at diagnosis to count (8).
NO_SIZE_PROFILES = {"leukemia", "myeloma", "lymphoma"}
#: Profiles whose sites have no regional lymph nodes (brain and meninges): nodes 99, no lymph node surgery.
NO_NODES_PROFILES = {"brain", "meningioma"}
#: Where distant metastases at diagnosis go, by profile (Mets at DX items [1112-1117]); others: liver, lung, bone.
METS_SITES = {"breast": ["metsAtDxBone", "metsAtDxLiver", "metsAtDxLung", "metsAtDxBrain"],
              "prostate": ["metsAtDxBone", "metsAtDxDistantLn"],
              "lung": ["metsAtDxBrain", "metsAtDxBone", "metsAtDxLiver", "metsAtDxOther"],
              "colorectal": ["metsAtDxLiver", "metsAtDxLung", "metsAtDxOther"],
              "melanoma": ["metsAtDxLung", "metsAtDxBrain", "metsAtDxDistantLn"],
              "pancreas": ["metsAtDxLiver", "metsAtDxOther"], "ovary": ["metsAtDxOther", "metsAtDxLiver"]}
METS_ITEMS = ["metsAtDxBone", "metsAtDxBrain", "metsAtDxDistantLn", "metsAtDxLiver", "metsAtDxLung", "metsAtDxOther"]
#: Phase I Radiation Primary Treatment Volume [1504] and draining nodes [1505] by profile (default 98 other, 88).
RADIATION_VOLUME = {"breast": ("41", "04"), "prostate": ("64", "06"), "lung": ("30", "02"), "colorectal": ("54", "06"),
                    "cervix": ("71", "06"), "uterus": ("71", "06"), "oral cavity and pharynx": ("22", "01"),
                    "brain": ("12", "88"), "meningioma": ("13", "88"), "esophagus": ("50", "02"),
                    "thyroid": ("26", "01"), "lymphoma": ("09", "88"), "bladder": ("60", "06")}
#: Phase I dose: (dose per fraction cGy, number of fractions) by profile; the total is their product.
RADIATION_DOSE = {"breast": (266, 16), "prostate": (250, 28), "lung": (200, 30), "brain": (200, 30),
                  "oral cavity and pharynx": (200, 35), "lymphoma": (180, 17), "cervix": (180, 25)}
