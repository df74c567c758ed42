//! The floor for reading forms: bare calamine opening each file and reading every cell
//! of every sheet, nothing else: `calamine-bare FILE...`. Prints the number of non-empty
//! cells so the work cannot be optimised away.

use calamine::{Data, Reader, open_workbook_auto};

fn main() -> anyhow::Result<()> {
    let mut cells = 0usize;
    for path in std::env::args().skip(1) {
        let mut book = open_workbook_auto(&path)?;
        for name in book.sheet_names() {
            let range = book.worksheet_range(&name)?;
            cells += range
                .used_cells()
                .filter(|(_, _, c)| !matches!(c, Data::Empty))
                .count();
        }
    }
    println!("{cells}");
    Ok(())
}
