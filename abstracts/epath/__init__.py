"""Electronic casefinding: pathology reports (HL7 v2 ORU^R01, NAACCR Volume V) and FHIR bundles.

The parsing (:mod:`hl7v2`, :mod:`fhir`), screening (:mod:`screening`) and code suggestion
(:mod:`suggest`) modules are plain libraries with no database; :mod:`intake` stores what they
read as suspense cases.
"""
