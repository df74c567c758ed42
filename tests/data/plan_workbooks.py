"""Types the seed's 別紙2 「オンライン資格確認の導入計画書」 into two workbooks of
different layouts with openpyxl (a writer independent of ours), for the plan tests.

usage: plan_workbooks.py OUT_DIR DESIGNATION_DATE(YYYY-MM-DD)

- complete.xlsx: the seed's own layout (items ①–⑬ down column A, values beside
  them), complete and consistent with a case named オン資クリニック at
  東京都千代田区霞が関1-2-2 designated on DESIGNATION_DATE; dates as split 全角 digits
  (⑩), a bare Excel serial (⑫) and 和暦 text (⑬).
- deficient.xlsx: a bureau's own vertical layout (labels without their numbers in
  column B, values in column C, ⑦ marked on the printed choices): ② 住所, ⑤'s month,
  ⑥ and ⑪ left blank; ⑫ before ⑩; ④ 済み before any number was answered; ⑬ a
  month after the designation date.
"""

import datetime
import sys

import openpyxl

out, designation = sys.argv[1], datetime.date.fromisoformat(sys.argv[2])
d = datetime.timedelta


def wareki(day):
    return f"令和{day.year - 2018}年{day.month}月{day.day}日"


def zenkaku(n):
    return str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９"))


def serial(day):
    return (day - datetime.date(1899, 12, 30)).days


CHOICES = "〔 ア 整備済み　　イ 契約済み（　　月整備予定）　　ウ 見積もり中 〕"

# complete.xlsx: the seed's layout.
wb = openpyxl.Workbook()
ws = wb.active
ws.title = "別紙2"
work, operation, practice = designation - d(days=45), designation - d(days=10), designation
rows = {
    1: {"I": "別紙2"},
    2: {"A": "オンライン資格確認の導入計画書"},
    3: {"A": "Ⅰ. 医療機関・薬局の基本情報"},
    4: {"A": "① 医療機関 ・薬局", "B": "(フリガナ) 名称", "C": "オン資クリニック"},
    5: {"B": "所在地", "C": "〒", "D": "100", "E": "-", "F": "0013", "G": "東京都千代田区霞が関１－２－２"},
    6: {"A": "② 開設者 (法人の場合 は代表者)", "B": "(フリガナ) 氏名", "C": "資格　花子",
        "E": "保険医又は保険薬剤師 の登録の記号及び番号", "F": "医 第123456号"},
    7: {"B": "住所", "C": "〒", "D": "100", "E": "-", "F": "0013", "G": "東京都千代田区霞が関1-2-2"},
    8: {"B": "電話番号", "C": "03", "D": "-", "E": "1234", "F": "-", "G": "5678",
        "H": "Email(任意)", "I": "info@example.jp"},
    9: {"A": "Ⅱ. 届出内容"},
    10: {"A": "(1) ポータルサイト関係手続"},
    11: {"A": "③ アカウント作成 (済み/未実施)", "D": "済み"},
    12: {"A": "④ 利用申請・電子証明書の発行申請 (済み/未実施)", "D": "未実施"},
    13: {"A": "(2) カードリーダー"},
    14: {"A": "⑤ 調達状況 (ア～ウから選択)", "D": "イ（３月整備予定）"},
    15: {"A": CHOICES},
    16: {"A": "⑥ メーカー名", "D": "カードリーダー製作所"},
    17: {"A": "(3) ネットワーク整備"},
    18: {"A": "⑦ 整備状況 (ア～ウから選択)", "D": "ア"},
    19: {"A": CHOICES},
    20: {"A": "⑧ ネットワーク導入事業者名", "D": "ネット回線株式会社"},
    21: {"A": "⑨ ネットワーク種類 (IP-VPN/IPsec+IKE)", "D": "ＩＰ－ＶＰＮ"},
    22: {"A": "(4) 導入作業等"},
    23: {"A": "⑩ 導入作業開始(予定)日", "D": "西暦", "E": zenkaku(work.year), "F": "年",
         "G": zenkaku(work.month), "H": "月", "I": zenkaku(work.day), "J": "日"},
    24: {"A": "⑪ システム導入事業者名", "D": "医療システム株式会社"},
    25: {"A": "⑫ 運用開始(予定)日", "D": serial(operation)},
    26: {"A": "⑬ 診療・調剤開始(予定)日", "D": wareki(practice)},
    28: {"A": "※ 本計画書は、保険医療機関等の指定申請書に添付して、地方厚生(支)局に提出してください。"},
}
for r, cells in rows.items():
    for col, value in cells.items():
        ws[f"{col}{r}"] = value
wb.save(f"{out}/complete.xlsx")

# deficient.xlsx: another layout, with missing and contradictory items.
wb = openpyxl.Workbook()
ws = wb.active
ws.title = "計画書"
ws["A1"] = "オンライン資格確認 導入計画書（別紙２）"
rows = [
    (3, "医療機関名称", "オン資クリニック"),
    (4, "所在地", "東京都千代田区霞が関1-2-2"),
    (6, "開設者氏名", "資格 花子"),
    (7, "開設者住所", None),
    (8, "電話番号", "03-1234-5678"),
    (10, "アカウント作成", "済"),
    (11, "利用申請・電子証明書の発行申請", "済み"),
    (12, "カードリーダー調達状況", "契約済み"),
    (13, "カードリーダーのメーカー名", None),
    (14, "ネットワーク整備状況", None),
    (16, "ネットワーク事業者", "ネット回線株式会社"),
    (17, "ネットワークの種類", "IPsec+IKE"),
    (18, "導入作業開始予定日", designation - d(days=5)),
    (19, "システム導入事業者", None),
    (20, "運用開始予定日", wareki(designation - d(days=20))),
    (21, "診療開始予定日", (designation + d(days=31)).strftime("%Y/%m/%d")),
]
for r, label, value in rows:
    ws.cell(row=r, column=2, value=label)
    if value is not None:
        cell = ws.cell(row=r, column=3, value=value)
        if isinstance(value, datetime.date):
            cell.number_format = "yyyy/mm/dd"
ws["B15"] = "〔 ア 整備済み　○イ 契約済み（ 2月整備予定） ウ 見積もり中 〕"
wb.save(f"{out}/deficient.xlsx")
