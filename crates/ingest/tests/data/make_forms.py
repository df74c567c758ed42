#!/usr/bin/env python3
"""Writes the test workbooks of uketsuke-ingest with independent writers.

The 記載例 of 別紙1 (seed 002: オン資クリニック) typed into three differently laid-out
workbooks with openpyxl, the compact one also as .xls (xlwt) and .ods (odfpy), a
monthly list, and a コード内容別医療機関一覧表 like the bureaus publish. The outputs
are committed next to this script; the Rust tests read them.

    pip install openpyxl xlwt odfpy
    python3 crates/ingest/tests/data/make_forms.py

Values used (the seed's placeholders made concrete): registration 「医 第123456号」
for 〇〇XXXX and phone 03-1234-5678 for XXX-XXX-XXXX.
"""

import datetime
import os
import zipfile

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.worksheet.datavalidation import DataValidation

HERE = os.path.dirname(os.path.abspath(__file__))
THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
MINCHO = Font(name="ＭＳ 明朝", size=10.5)


def fixed_times(wb):
    """Stable document properties so regenerating gives the same content."""
    when = datetime.datetime(2024, 2, 1, 9, 0, 0)
    wb.properties.created = when
    wb.properties.modified = when
    wb.properties.creator = "uketsuke tests"


def save(wb, name):
    fixed_times(wb)
    wb.save(os.path.join(HERE, name))


def official_layout():
    """As the official Excel of 別紙1 might be: merged cells, split 和暦, the kind
    marked with ○ inside the printed 「医科 ・ 歯科 ・ 薬局」, values below or right
    of their labels, the answer half present. Everything shifted one column right."""
    wb = Workbook()
    ws = wb.active
    ws.title = "別紙1"
    for col in "ABCDEFGHIJKLMN":
        ws.column_dimensions[col].width = 6.5

    def put(ref, value, merge=None, box=False):
        ws[ref] = value
        ws[ref].font = MINCHO
        ws[ref].alignment = Alignment(vertical="center", wrap_text=True)
        if box:
            ws[ref].border = BOX
        if merge:
            ws.merge_cells(f"{ref}:{merge}")

    put("M1", "別紙 1")
    put("B2", "(住所)")
    put("C2", "〒")
    put("D2", 123)
    put("E2", "—")
    put("F2", 4567)
    put("G2", "東京都千代田区霞が関1-2-2", "M2")
    put("B3", "(氏名)")
    put("C3", "資格 太郎", "I3")
    put("J3", "様")
    put("K3", "←回答書の送付先を記載してください。", "N3")
    put("B5", "受付番号 情報提供依頼書 兼 回答書", "M5")
    put(
        "B6",
        "オンライン資格確認システムの導入のため、受付番号(保険医療機関等として指定された後に付与予定の医療機関等コード)の情報提供を希望します。",
        "M7",
    )
    put("B9", "(情報提供を希望する医療機関・薬局)", "H9")
    put("B10", "○医科 ・ 歯科 ・ 薬局", "D11", box=True)
    put("E10", "名称", "E10", box=True)
    put("F10", "オン資クリニック", "M10", box=True)
    put("E11", "所在地", box=True)
    put("F11", "〒")
    put("G11", "123")
    put("H11", "-")
    put("I11", "4567")
    put("J11", "東京都千代田区霞が関1-2-2", "M11")
    put("B12", "指定希望日(予定)", "D12", box=True)
    put("F12", "令和")
    put("G12", 6)
    put("H12", "年")
    put("I12", 4)
    put("J12", "月")
    put("K12", 1)
    put("L12", "日")
    put("B14", "上記のとおり依頼します。", "G14")
    put("H15", "令和")
    put("I15", 6)
    put("J15", "年")
    put("K15", 2)
    put("L15", "月")
    put("M15", 1)
    put("N15", "日")
    put("B16", "〇〇 厚生(支)局 御中", "F16")
    put("B18", "開設者")
    put("B19", "(氏名)※法人の場合は、名称、代表者の職・氏名", "H19")
    put("I20", "資格 花子", "M20")
    put("B22", "(保険医又は保険薬剤師の登録の記号及び番号)", "H22")
    put("B23", "※保険医又は保険薬剤師の場合は記入ください。", "H23")
    put("I24", "医 第123456号", "M24")
    put("B26", "担当者の連絡先(電話番号)", "G26")
    put("I27", "03-1234-5678", "M27")
    put("B29", "上記の依頼について、受付番号を回答します。", "M29")
    put("B30", "受付番号", "D30", box=True)
    put("E30", None, "I30", box=True)
    put(
        "B31",
        "※当該回答は保険医療機関・保険薬局としての指定ではありません。受付番号はオンライン資格確認の準備にのみ利用し、適切に管理してください。",
        "M32",
    )
    put("H33", "令和")
    put("J33", "年")
    put("L33", "月")
    put("N33", "日")
    put("H34", "〇〇 厚生(支)局", "N34")
    put("H35", "(公 印 省 略)", "N35")
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 1
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    save(wb, "form_official.xlsx")


COMPACT = [
    ("受付番号情報提供依頼書兼回答書", None),
    (None, None),
    ("回答書送付先住所：〒123-4567 東京都千代田区霞が関1-2-2", None),
    ("回答書送付先氏名：資格 太郎 様", None),
    (None, None),
    ("種別", "医科"),
    ("名称：オン資クリニック", None),
    ("所在地", "〒123-4567 東京都千代田区霞が関1-2-2"),
    ("指定希望日（予定）", 45383),  # an Excel date serial in a General cell: 2024-04-01
    ("依頼日", datetime.date(2024, 2, 1)),  # a real date cell
    ("関東信越厚生局　御中", None),
    ("開設者：資格 花子", None),
    ("保険医登録番号", "医 第123456号"),
    ("電話番号：03-1234-5678", None),
]


def compact_layout():
    """Two columns, label and value, some values after a colon in the label cell."""
    wb = Workbook()
    ws = wb.active
    ws.title = "依頼書"
    ws.column_dimensions["A"].width = 48
    ws.column_dimensions["B"].width = 40
    for i, (label, value) in enumerate(COMPACT, start=1):
        if label is not None:
            ws.cell(row=i, column=1, value=label)
        if value is not None:
            c = ws.cell(row=i, column=2, value=value)
            if isinstance(value, datetime.date):
                c.number_format = "yyyy/m/d"
    dv = DataValidation(type="list", formula1='"医科,歯科,薬局"', allow_blank=True)
    ws.add_data_validation(dv)
    dv.add("B6")
    save(wb, "form_compact.xlsx")


def compact_xls():
    """The compact layout as .xls (BIFF8) with xlwt, if installed."""
    try:
        import xlwt
    except ImportError:
        print("xlwt not installed: form_compact.xls not written")
        return
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("依頼書")
    date_style = xlwt.easyxf(num_format_str="yyyy/m/d")
    for i, (label, value) in enumerate(COMPACT):
        if label is not None:
            ws.write(i, 0, label)
        if isinstance(value, datetime.date):
            ws.write(i, 1, datetime.datetime(value.year, value.month, value.day), date_style)
        elif value is not None:
            ws.write(i, 1, value)
    wb.save(os.path.join(HERE, "form_compact.xls"))


def compact_ods():
    """The compact layout as .ods with odfpy, if installed."""
    try:
        from odf.opendocument import OpenDocumentSpreadsheet
        from odf.table import Table, TableCell, TableRow
        from odf.text import P
    except ImportError:
        print("odfpy not installed: form_compact.ods not written")
        return
    doc = OpenDocumentSpreadsheet()
    table = Table(name="依頼書")
    for label, value in COMPACT:
        row = TableRow()
        cell = TableCell(valuetype="string") if label is not None else TableCell()
        if label is not None:
            cell.addElement(P(text=label))
        row.addElement(cell)
        if isinstance(value, datetime.date):
            c = TableCell(valuetype="date", datevalue=value.isoformat())
            c.addElement(P(text=value.isoformat()))
            row.addElement(c)
        elif isinstance(value, (int, float)):
            c = TableCell(valuetype="float", value=value)
            c.addElement(P(text=str(value)))
            row.addElement(c)
        elif value is not None:
            c = TableCell(valuetype="string")
            c.addElement(P(text=value))
            row.addElement(c)
        table.addElement(row)
    doc.spreadsheet.addElement(table)
    doc.save(os.path.join(HERE, "form_compact.ods"))


def shifted_layout():
    """Blank rows and columns, 全角 text, the kind marked by ○ in the cell left of
    the word (each kind in its own cell), the reply address over two rows."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    cells = {
        "D5": "（住所）",
        "F5": "〒１２３－４５６７",
        "F6": "東京都千代田区霞が関１－２－２",
        "D7": "（氏名）",
        "F7": "資格　太郎　様",
        "D10": "受付番号　情報提供依頼書　兼　回答書",
        "D12": "○",
        "E12": "医科",
        "G12": "歯科",
        "I12": "薬局",
        "D14": "名　　称",
        "F14": "オン資クリニック",
        "D16": "所　在　地",
        "F16": "〒１２３－４５６７　東京都千代田区霞が関１－２－２",
        "D18": "指定希望日（予定）",
        "F18": "令和６年４月１日",
        "D21": "上記のとおり依頼します。",
        "G22": "Ｒ６．２．１",
        "D23": "〇〇厚生（支）局　御中",
        "D25": "開設者",
        "F25": "資格　花子",
        "D27": "（保険医又は保険薬剤師の登録の記号及び番号）",
        "F28": "医　第１２３４５６号",
        "D30": "担当者の連絡先（電話番号）",
        "F30": "０３－１２３４－５６７８",
        "D33": "上記の依頼について、受付番号を回答します。",
        "D34": "受付番号",
    }
    for ref, value in cells.items():
        ws[ref] = value
    save(wb, "form_shifted.xlsx")


def monthly_list():
    """A bureau's monthly list: a title, the header on row 3 in its own order and
    names, one request per row, a blank row between."""
    wb = Workbook()
    ws = wb.active
    ws.title = "令和6年2月受付"
    ws["A1"] = "受付番号情報提供依頼 受付一覧（令和6年2月）"
    header = [
        "項番", "施設名", "区分", "〒", "住所", "指定日", "提出日", "開設者名",
        "保険医登録番号", "担当者電話", "送付先郵便番号", "送付先住所", "送付先氏名",
    ]
    for col, h in enumerate(header, start=1):
        ws.cell(row=3, column=col, value=h)
    rows = [
        [1, "オン資クリニック", "医科", "123-4567", "東京都千代田区霞が関1-2-2", "令和6年4月1日",
         "R6.2.1", "資格 花子", "医 第123456号", "03-1234-5678", "123-4567",
         "東京都千代田区霞が関1-2-2", "資格 太郎"],
        None,
        [2, "オン資歯科クリニック", "歯科", "1234567", "東京都千代田区霞が関1-2-3",
         datetime.date(2024, 5, 1), datetime.date(2024, 3, 1),
         "医療法人社団オン資会 理事長 資格 花子", None, "03-1234-5679", None,
         "〒123-4567 東京都千代田区霞が関1-2-3", "医療法人社団オン資会 事務長 様"],
        [3, "オン資薬局 霞が関店", "薬局", "〒123-4567", "東京都千代田区霞が関1-2-4", "2024/6/1",
         None, "株式会社オン資 代表取締役 資格 一郎", None, "０３－１２３４－５６８０", None, None,
         None],
    ]
    r = 4
    for row in rows:
        if row is not None:
            for col, value in enumerate(row, start=1):
                c = ws.cell(row=r, column=col, value=value)
                if isinstance(value, datetime.date):
                    c.number_format = "ggge年m月d日"
        r += 1
    save(wb, "monthly_list.xlsx")


def luhn(digits):
    total = 0
    for i, d in enumerate(reversed(digits)):
        p = d * (2 if i % 2 == 0 else 1)
        total += p // 10 + p % 10
    return (10 - total % 10) % 10


def medical_code(pref, fee, district, serial):
    payload = [pref // 10, pref % 10, fee, district // 10, district % 10] + [
        int(c) for c in f"{serial:04d}"
    ]
    return f"{district:02d}{serial:04d}{luhn(payload)}"


def code_list():
    """A コード内容別医療機関一覧表 (福井県, 医科) as bureaus publish it: title rows,
    two header rows, then one block of 2-6 rows per facility; codes printed in the
    three styles; the address with 〒 in one cell or over two rows."""
    wb = Workbook()
    ws = wb.active
    ws.title = "医科"
    ws["A1"] = "コード内容別医療機関一覧表"
    ws["A2"] = "[福井県]"
    ws["A3"] = "[令和 8年 7月 1日現在 医科 現存/休止]"
    ws["H3"] = "1頁"
    header = ["項番", "医療機関番号", "医療機関名称", "医療機関所在地", "電話番号",
              "開設者氏名", "管理者氏名", "指定年月日\n登録理由\n指定期間始", "診療科名", "備考"]
    for col, h in enumerate(header, start=1):
        ws.cell(row=9, column=col, value=h)
    ws.cell(row=10, column=5, value="病床数")
    ws.cell(row=10, column=10, value="種別")

    def styles(code):
        return [
            f"{code[:2]},{code[2:6]},{code[6]}",
            f"{code[:2]}-{code[2:]}",
            f"{code[:2]}.{code[2:6]}.{code[6]}",
        ]

    facilities = [
        # (district, serial, name, address rows, phone, founder lines, dates, kind rows)
        (1, 1047, "医療法人オン資会　オン資病院", ["〒910-0001\n福井市大願寺１－２－３"], "0776-12-3456",
         ["医療法人オン資会", "理事長　資格　花子"], ["昭38. 5. 1", "新規", "令 2. 5. 1"],
         ["病院", "現存"]),
        (1, 4005, "オン資クリニック", ["〒910-0002", "福井市手寄２－１－１"], "0776-23-4567",
         ["資格　太郎"], ["平15.10. 1", "交代", "令 3.10. 1"], ["診療所", "現存"]),
        (2, 1857, "オン資内科医院", ["〒914-0001 敦賀市櫛林１－１"], "0770-34-5678",
         ["資格　次郎"], ["令 6. 4. 1", "新規", "令 6. 4. 1"], ["診療所", "休止"]),
        (3, 1010, "オン資眼科", ["〒917-0001\n小浜市羽賀１"], "0770-45-6789",
         ["資格　三郎"], ["令 6. 6. 1", "移動", "令 6. 6. 1"], ["診療所", "現存"]),
    ]
    row = 12
    for i, (district, serial, name, address, phone, founder, dates, kinds) in enumerate(facilities):
        code = medical_code(18, 1, district, serial)
        printed = styles(code)[i % 3]
        ws.cell(row=row, column=1, value=str(i + 1))
        ws.cell(row=row, column=2, value=printed)
        ws.cell(row=row, column=3, value=name)
        for j, line in enumerate(address):
            ws.cell(row=row + j, column=4, value=line)
        counts = [phone, "常　勤:    1", "(医    1)", "非常勤:    0"]
        for j, line in enumerate(counts):
            ws.cell(row=row + j, column=5, value=line)
        for j, line in enumerate(founder):
            ws.cell(row=row + j, column=6, value=line)
        ws.cell(row=row, column=7, value="資格　管理")
        for j, line in enumerate(dates):
            ws.cell(row=row + j, column=8, value=line)
        ws.cell(row=row, column=9, value="内科　小児科")
        for j, line in enumerate(kinds):
            ws.cell(row=row + j, column=10, value=line)
        row += len(counts) + (1 if i % 2 else 0)
    save(wb, "code_list_fukui.xlsx")


def normalise_zip(name):
    """Rewrites a workbook's zip with fixed timestamps, so regenerating it gives
    the same bytes (openpyxl stamps the current time on every entry)."""
    path = os.path.join(HERE, name)
    with zipfile.ZipFile(path) as src:
        entries = [(i, src.read(i.filename)) for i in src.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info, data in entries:
            info.date_time = (2024, 2, 1, 9, 0, 0)
            dst.writestr(info, data)


if __name__ == "__main__":
    official_layout()
    compact_layout()
    shifted_layout()
    monthly_list()
    code_list()
    for n in ["form_official.xlsx", "form_compact.xlsx", "form_shifted.xlsx",
              "monthly_list.xlsx", "code_list_fukui.xlsx"]:
        normalise_zip(n)
    compact_xls()
    compact_ods()
    print("written to", HERE)
