"""The openpyxl baseline: a short script extracting the same fields from each form.

Usage: python3 openpyxl_forms.py FILE...  — prints how many forms it read fully.
"""
import sys

import openpyxl

LABELS = {
    "名称": "facility_name",
    "所在地": "facility_address",
    "指定希望日": "designation_date",
    "開設者": "founder_name",
    "登録の記号及び番号": "founder_registration",
    "電話番号": "contact_phone",
    "住所": "reply_address",
    "氏名": "reply_name",
}


def extract(path):
    wb = openpyxl.load_workbook(path, data_only=True)
    found = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for i, cell in enumerate(row):
                if not isinstance(cell.value, str):
                    continue
                for label, field in LABELS.items():
                    if label in cell.value and field not in found:
                        value = next((c.value for c in row[i + 1:] if c.value not in (None, "")), None)
                        if value is not None:
                            found[field] = value
    return found


def main():
    complete = sum(1 for path in sys.argv[1:] if len(extract(path)) >= 5)
    print(complete)


if __name__ == "__main__":
    main()
