"""The PDF annual report for administrators: queries → charts → HTML → PDF (WeasyPrint)."""
