"""What the two Python list writers share with uketsuke-export's 一覧表: the columns, the
widths (全角 = 2), the 和暦 date line and number format, the footer. Kept to what the
benchmark's rows need (dates in 令和)."""
import datetime
import json

TITLE = "新規指定医療機関一覧表"
SUBTITLE = "性能測定"
AS_OF = datetime.date(2024, 7, 1)
WAREKI_FORMAT = '[$-411]ggge"年"m"月"d"日"'
HEADER_COLOR = "#D9E1F2"

# (header, key in the JSON, kind): kind is number, date, code or text.
COLUMNS = [
    ("項番", None, "number"),
    ("都道府県コード", "prefecture_code", "code"),
    ("都道府県名", "prefecture_name", "text"),
    ("区分", "kind", "code"),
    ("医療機関等コード", "institution_code", "code"),
    ("受付番号", "reception_number", "code"),
    ("医療機関番号", "medical_code", "code"),
    ("併設医療機関番号", "combined_code", "code"),
    ("医療機関名称", "facility_name", "text"),
    ("郵便番号", "postal_code", "code"),
    ("所在地", "address", "text"),
    ("電話番号", "phone", "code"),
    ("開設者", "founder", "text"),
    ("指定年月日", "designation_date", "date"),
    ("答申日", "council_date", "date"),
    ("備考", "note", "text"),
]


def char_width(c):
    o = ord(c)
    return 1 if o <= 0xFF or 0xFF61 <= o <= 0xFF9F or 0xFFE8 <= o <= 0xFFEE else 2


def display_width(s):
    return max((sum(char_width(c) for c in line) for line in s.split("\n")), default=0)


def wareki(d):
    assert d >= datetime.date(2019, 5, 1), "the benchmark's dates are in 令和"
    return f"令和{d.year - 2018}年{d.month}月{d.day}日"


def fullwidth(s):
    return "".join(chr(ord(c) + 0xFEE0) if "0" <= c <= "9" else c for c in s)


AS_OF_LINE = f"[{fullwidth(wareki(AS_OF))} 現在]"
FOOTER = f"&L{TITLE}&C&P / &N&R{AS_OF_LINE}"


def excel_serial(d):
    return (d - datetime.date(1899, 12, 30)).days


def load(path):
    with open(path, encoding="utf-8") as f:
        rows = json.load(f)
    for row in rows:
        for key in ("designation_date", "council_date"):
            if row[key] is not None:
                row[key] = datetime.date.fromisoformat(row[key])
    return rows


def widths(rows):
    out = [display_width(h) * 11 // 10 + 1 for h, _, _ in COLUMNS]
    item_no_width = len(str(max(len(rows), 1)))
    for row in rows:
        for i, (_, key, kind) in enumerate(COLUMNS):
            if kind == "number":
                w = item_no_width
            else:
                v = row[key]
                if v is None or v == "":
                    w = 0
                elif kind == "date":
                    w = display_width(wareki(v))
                else:
                    w = display_width(v)
            if w > out[i]:
                out[i] = w
    return [min(max(w, 4), 80) + 2.0 for w in out]
