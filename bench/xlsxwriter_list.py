"""The 一覧表 of the export benchmark written with XlsxWriter: the same rows, formats and
page setup as uketsuke-export's list_xlsx. Usage: xlsxwriter_list.py ROWS.json OUT.xlsx"""
import datetime
import sys

import xlsxwriter

from list_common import (AS_OF, COLUMNS, FOOTER, AS_OF_LINE, HEADER_COLOR, SUBTITLE, TITLE,
                         WAREKI_FORMAT, excel_serial, load, widths)


def main(src, out):
    rows = load(src)
    # Constant-memory mode, as uketsuke uses rust_xlsxwriter's.
    wb = xlsxwriter.Workbook(out, {"constant_memory": True,
                                   "default_format_properties": {"font_name": "Arial", "font_size": 10}})
    wb.set_properties({"title": TITLE, "created": datetime.datetime.combine(AS_OF, datetime.time())})
    base = {"font_name": "Arial", "font_size": 10}
    cell = dict(base, valign="vcenter")
    text = dict(cell, num_format="@")
    fmt = {
        "number": wb.add_format(dict(cell, num_format="0")),
        "date": wb.add_format(dict(cell, num_format=WAREKI_FORMAT, align="center")),
        "code": wb.add_format(dict(text, align="center")),
        "text": wb.add_format(text),
    }
    title = wb.add_format(dict(base, font_size=14, bold=True))
    plain = wb.add_format(base)
    header = wb.add_format(dict(cell, bold=True, border=1, bg_color=HEADER_COLOR, align="center"))
    grid = wb.add_format({"border": 1})

    ws = wb.add_worksheet(TITLE)
    for col, (width, (_, _, kind)) in enumerate(zip(widths(rows), COLUMNS)):
        ws.set_column(col, col, width, fmt[kind])
    ws.set_row(0, 21)
    ws.write_string(0, 0, TITLE, title)
    ws.write_string(1, 0, AS_OF_LINE, plain)
    ws.write_string(2, 0, SUBTITLE, plain)
    ws.set_row(3, 18)
    for col, (name, _, _) in enumerate(COLUMNS):
        ws.write_string(3, col, name, header)
    for n, row in enumerate(rows, start=1):
        r = 3 + n
        for col, (_, key, kind) in enumerate(COLUMNS):
            if kind == "number":
                ws.write_number(r, col, n, fmt["number"])
                continue
            v = row[key]
            if v is None or v == "":
                continue
            if kind == "date":
                ws.write_number(r, col, excel_serial(v), fmt["date"])
            else:
                ws.write_string(r, col, v, fmt[kind])
    last_row, last_col = 3 + len(rows), len(COLUMNS) - 1
    if rows:
        ws.conditional_format(4, 0, last_row, last_col, {"type": "formula", "criteria": "=TRUE", "format": grid})
    ws.freeze_panes(4, 0)
    ws.autofilter(3, 0, last_row, last_col)
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.center_horizontally()
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.set_footer(FOOTER, {"margin": 0.3})
    ws.repeat_rows(3)
    wb.close()
    print(len(rows))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
