//! Integration tests of uketsuke-ingest: workbooks written by independent writers
//! (openpyxl, xlwt, odfpy: `tests/data/make_forms.py`), by our own rust_xlsxwriter
//! code, and the bureaus' real 名簿 in `../shared/fixtures/real/`.

mod blank;
mod common;
mod forms;
mod lists;
mod registry;
mod robustness;
