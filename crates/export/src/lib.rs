//! Export (出力): turns rows into bytes — the 「新規指定医療機関一覧表」 and the answers
//! (回答書) as .xlsx with rust_xlsxwriter, and CSV. It never touches the database.
